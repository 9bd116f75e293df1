import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { type FieldError, PROBLEM_CONTENT_TYPE, type ProblemKind, problemBody } from '../../../contracts/problems';
import type { EdgeEnv } from '../env';
import { edgeLog } from '../log';

export type { FieldError, ProblemKind };

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

/** Builds the problem+json response for `init`, naming the request's path and id. */
export function problemResponse(init: ProblemInit, instance: string, requestId: string): Response {
  const { kind, status, title, detail, errors } = init;
  const body = problemBody(kind, { status, title, detail, instance, requestId, errors });
  const headers = new Headers(init.headers);
  headers.set('content-type', PROBLEM_CONTENT_TYPE);
  headers.set('cache-control', 'no-store');
  return new Response(JSON.stringify(body), { status, headers });
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
