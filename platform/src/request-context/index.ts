import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AuthVariables } from '../auth/principal.js';
import type { Logger } from '../logging/index.js';

/** Hono environment shared by every platform API: the request id and a logger bound to it. */
export interface PlatformEnv {
  Variables: AuthVariables & {
    /** The request's correlation id, echoed in X-Request-Id. */
    requestId: string;
    /** Logger whose lines carry this request's id. */
    logger: Logger;
  };
}

/** Header carrying the correlation id in both directions. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Returns the caller's request id when it is safe to reuse (1-128 of `A-Za-z0-9._:-`), else a new UUID. */
export function resolveRequestId(incoming: string | null | undefined): string {
  return incoming && ACCEPTED_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Middleware that assigns the request id, exposes `c.var.requestId` and `c.var.logger`, echoes the id on the
 * response and writes one JSON line per request (method, path, status, ms, requestId; no headers, no query).
 */
export function requestContext(logger: Logger): MiddlewareHandler<PlatformEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = resolveRequestId(c.req.header(REQUEST_ID_HEADER));
    const requestLogger = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', requestLogger);
    c.header(REQUEST_ID_HEADER, requestId);
    await next();
    if (c.res.headers.get(REQUEST_ID_HEADER) !== requestId) {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set(REQUEST_ID_HEADER, requestId);
    }
    requestLogger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  };
}
