import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env';
import { Problem } from '../problem';
import { secretsEqual } from '../request/secrets';

/**
 * Guards the admin API with `Authorization: Bearer <EDGE_ADMIN_TOKEN>`. A missing or wrong token
 * answers 401; an edge with no token configured refuses every admin call with 503.
 */
export const adminAuth: MiddlewareHandler<EdgeEnv> = async (c, next) => {
  const expected = c.env.EDGE_ADMIN_TOKEN;
  if (expected === undefined || expected === '') {
    throw new Problem({
      status: 503,
      kind: 'admin-not-configured',
      title: 'Admin API not configured',
      detail: 'Set the EDGE_ADMIN_TOKEN secret to use the admin API.',
    });
  }
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (match?.[1] === undefined || !(await secretsEqual(match[1], expected))) {
    throw new Problem({
      status: 401,
      kind: 'unauthorized',
      title: 'Unauthorized',
      detail: match ? 'The admin token is wrong.' : 'Send the admin token as `Authorization: Bearer <token>`.',
      headers: { 'www-authenticate': 'Bearer realm="edge-admin"' },
    });
  }
  await next();
};
