import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { HTTPResponseError } from 'hono/types';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { type FieldError, PROBLEM_CONTENT_TYPE, type ProblemKind, problemBody } from '../../../contracts/problems.js';
import type { Logger } from '../logging/index.js';

/**
 * The part of an API's Hono environment that problem responses read (the request context's id and
 * logger); every platform API's environment has it, so the handlers serve them all.
 */
export interface ProblemEnv {
  Variables: { requestId: string; logger: Logger };
}

export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../../../contracts/problems.js';
export type { FieldError, ProblemKind };

/** The RFC 9457 body every API answers errors with. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** What a handler says when it throws a Problem. */
export interface ProblemInit {
  /** The kind (contracts/problems.ts registers every one), the last part of the `type` URN. */
  kind: ProblemKind;
  /** Human summary of the kind; defaults to the status's reason phrase. */
  title?: string;
  /** Explanation of this occurrence, safe to show to the caller. */
  detail: string;
  /** Invalid fields, for validation problems. */
  errors?: FieldError[];
  /** Extra members added to the body (e.g. `checks`). */
  extensions?: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
}

const REASONS: Record<number, [kind: ProblemKind, title: string]> = {
  400: ['bad-request', 'Bad Request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not Found'],
  405: ['method-not-allowed', 'Method Not Allowed'],
  409: ['conflict', 'Conflict'],
  412: ['precondition-failed', 'Precondition Failed'],
  413: ['payload-too-large', 'Content Too Large'],
  415: ['unsupported-media-type', 'Unsupported Media Type'],
  422: ['unprocessable', 'Unprocessable Content'],
  429: ['too-many-requests', 'Too Many Requests'],
  500: ['internal', 'Internal Server Error'],
  502: ['bad-gateway', 'Bad Gateway'],
  503: ['unavailable', 'Service Unavailable'],
  504: ['gateway-timeout', 'Gateway Timeout'],
};

function reason(status: number): [kind: ProblemKind, title: string] {
  return (
    REASONS[status] ?? [status >= 500 ? 'internal' : 'bad-request', status >= 500 ? 'Server Error' : 'Client Error']
  );
}

/** An error a handler throws to answer with an RFC 9457 problem; rendered by `handleError`. */
export class Problem extends HTTPException {
  readonly kind: ProblemKind;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, init: ProblemInit) {
    super(status, { message: init.detail });
    this.name = 'Problem';
    this.kind = init.kind;
    this.title = init.title ?? reason(status)[1];
    this.detail = init.detail;
    this.errors = init.errors;
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }
}

/** Renders `problem` as an `application/problem+json` response for the request in `c`. */
export function problemResponse<E extends ProblemEnv>(c: Context<E>, problem: Problem): Response {
  const body = problemBody(problem.kind, {
    status: problem.status,
    title: problem.title,
    detail: problem.detail,
    instance: c.req.path,
    requestId: c.get('requestId'),
    ...(problem.errors ? { errors: problem.errors } : {}),
    extensions: problem.extensions,
  }) as ProblemBody;
  return c.body(JSON.stringify(body), problem.status, { ...problem.headers, 'Content-Type': PROBLEM_CONTENT_TYPE });
}

/** Turns a plain hono HTTPException (e.g. malformed JSON) into a Problem, keeping its status, message and headers. */
function fromHttpException(error: HTTPException): Problem {
  const [kind, title] = reason(error.status);
  const headers: Record<string, string> = {};
  for (const [name, value] of error.res?.headers ?? []) {
    if (!/^content-(type|length)$/i.test(name)) headers[name] = value;
  }
  const status = error.status as ContentfulStatusCode;
  return new Problem(status, { kind, title, detail: error.message || title, headers });
}

/** The one `onError` of every API: Problems as given, HTTPExceptions by status, anything else a 500 without internals. */
export function handleError<E extends ProblemEnv>(error: Error | HTTPResponseError, c: Context<E>): Response {
  if (error instanceof Problem) return problemResponse(c, error);
  if (error instanceof HTTPException) return problemResponse(c, fromHttpException(error));
  c.get('logger')?.error('unhandled error', { method: c.req.method, path: c.req.path, error });
  const problem = new Problem(500, {
    kind: 'internal',
    detail: 'The server failed to handle the request; quote the request id when reporting it.',
  });
  return problemResponse(c, problem);
}

/** The one `notFound` of every API: a 404 problem naming the path. */
export function handleNotFound<E extends ProblemEnv>(c: Context<E>): Response {
  return problemResponse(
    c,
    new Problem(404, { kind: 'not-found', detail: `No resource at ${c.req.method} ${c.req.path}.` }),
  );
}

const TARGET_NAMES: Record<string, string> = { json: 'body', form: 'body', param: 'path', query: 'query' };

function fieldPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

/** Lists each invalid field of a zod error, one entry per unknown key too. */
export function fieldErrors(error: ZodError, target: string): FieldError[] {
  const where = TARGET_NAMES[target] ?? target;
  const prefix = (path: readonly PropertyKey[]): string => {
    const field = fieldPath(path);
    if (where === 'body') return field || 'body';
    return field ? `${where}.${field}` : where;
  };
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: prefix([...issue.path, key]), detail: 'unknown field' }))
      : [{ field: prefix(issue.path), detail: issue.message }],
  );
}

/** Builds the 400 validation Problem for a zod error on the given request part (`json`, `query`, `param`, ...). */
export function validationProblem(error: ZodError, target: string): Problem {
  const errors = fieldErrors(error, target);
  return new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: `Invalid ${TARGET_NAMES[target] ?? target}: ${errors.map((e) => `${e.field} (${e.detail})`).join('; ')}.`,
    errors,
  });
}

/** The `defaultHook` for @hono/zod-openapi: throws a validation Problem when input does not match the route schema. */
export function validationHook(
  result: { target: string } & ({ success: true } | { success: false; error: ZodError }),
): void {
  if (!result.success) throw validationProblem(result.error, result.target);
}
