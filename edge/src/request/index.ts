import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id: the caller's `X-Request-Id` when it is well-formed, otherwise a new
 * UUID. The id is echoed on the response and forwarded upstream.
 */
export const requestId: MiddlewareHandler<EdgeEnv> = async (c, next) => {
  const given = c.req.header('x-request-id');
  const id = given !== undefined && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  c.set('requestId', id);
  await next();
  c.res.headers.set('x-request-id', id);
};
