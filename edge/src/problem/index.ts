import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { EdgeEnv } from '../env';
import { edgeLog } from '../log';

/** Kinds of problem the edge answers; each becomes the `type` URI of the body. */
export type ProblemKind =
  | 'route-not-found'
  | 'app-disabled'
  | 'upstream-timeout'
  | 'upstream-unreachable'
  | 'proxy-loop'
  | 'unauthorized'
  | 'admin-not-configured'
  | 'configuration-refused'
  | 'validation-failed'
  | 'not-found'
  | 'method-not-allowed'
  | 'unsupported-media-type'
  | 'internal'
  | 'rate-limited'
  | 'quota-exceeded'
  | 'concurrency-limited'
  | 'subscription-key-invalid'
  | 'subscription-required'
  | 'circuit-open'
  | 'limiter-unavailable'
  | 'malformed-request'
  | 'payload-too-large';

/** A field-level validation error, listed in the `errors` member of a 400 problem. */
export interface FieldError {
  field: string;
  detail: string;
}

/** Options of a problem: what went wrong, and fields added to the body or the response. */
export interface ProblemInit {
  status: number;
  kind: ProblemKind;
  title: string;
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/** An error that the one error handler turns into an RFC 9457 problem+json response. */
export class Problem extends HTTPException {
  readonly init: ProblemInit;

  constructor(init: ProblemInit) {
    // HTTPException wants a ContentfulStatusCode; every status we use is one.
    super(init.status as 400, { message: init.detail ?? init.title });
    this.init = init;
  }
}

/** Type URI of a problem kind. */
export function problemType(kind: ProblemKind): string {
  return `urn:altinn-platform:problem:${kind}`;
}

/** Builds the problem+json response for `init`, naming the request's path and id. */
export function problemResponse(init: ProblemInit, instance: string, requestId: string): Response {
  const body = {
    type: problemType(init.kind),
    title: init.title,
    status: init.status,
    ...(init.detail === undefined ? {} : { detail: init.detail }),
    instance,
    requestId,
    ...(init.errors === undefined ? {} : { errors: init.errors }),
  };
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/problem+json');
  headers.set('cache-control', 'no-store');
  return new Response(JSON.stringify(body), { status: init.status, headers });
}

/**
 * Turns anything thrown while handling a request into a problem response: problems as they are,
 * other HTTP exceptions by their status, anything else as a 500 without internals (logged).
 */
export function errorResponse(err: unknown, instance: string, requestId: string): Response {
  if (err instanceof Problem) return problemResponse(err.init, instance, requestId);
  if (err instanceof HTTPException) {
    return problemResponse(
      {
        status: err.status,
        kind: err.status === 404 ? 'not-found' : 'internal',
        title: err.message || 'Request failed',
      },
      instance,
      requestId,
    );
  }
  edgeLog.error('unhandled error', {
    requestId,
    path: instance,
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  return problemResponse(
    {
      status: 500,
      kind: 'internal',
      title: 'Internal error',
      detail: `The edge failed to handle the request; quote request id ${requestId}.`,
    },
    instance,
    requestId,
  );
}

const pathOf = (c: Context<EdgeEnv>): string => new URL(c.req.url).pathname;

/** A 404 problem of the admin APIs: `detail` names what is missing, e.g. `No plan gold.`. */
export function notFound(detail: string): Problem {
  return new Problem({ status: 404, kind: 'not-found', title: 'Not found', detail });
}

/** The one error handler of the edge's Hono apps. */
export const onError: ErrorHandler<EdgeEnv> = (err, c) => errorResponse(err, pathOf(c), c.get('requestId'));

/** Answers paths nothing matched with a 404 problem. */
export const onNotFound: NotFoundHandler<EdgeEnv> = (c) =>
  problemResponse(
    { status: 404, kind: 'not-found', title: 'Not found', detail: 'No such resource on the edge.' },
    pathOf(c),
    c.get('requestId'),
  );
