import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the caller's `X-Request-Id` when it is well-formed, otherwise a new UUID. */
export function requestIdOf(headers: Headers): string {
  const given = headers.get('x-request-id');
  return given !== null && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/**
 * Gives each request an id: the caller's `X-Request-Id` when it is well-formed, otherwise a new
 * UUID. The id is echoed on the response and forwarded upstream.
 */
export const requestId: MiddlewareHandler<EdgeEnv> = async (c, next) => {
  const id = requestIdOf(c.req.raw.headers);
  c.set('requestId', id);
  await next();
  c.res.headers.set('x-request-id', id);
};
