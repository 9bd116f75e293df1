import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env';
import { modeCheck, refusedDetail } from '../mode';
import { Problem } from '../problem';

/**
 * Closes the whole admin API (`/_edge`, health included) when production mode refuses its settings
 * (a weak EDGE_ADMIN_TOKEN): 503 naming the setting, before any token is compared.
 */
export const adminMode: MiddlewareHandler<EdgeEnv> = async (c, next) => {
  const refused = modeCheck(c.env).admin;
  if (refused.length > 0) {
    throw new Problem({
      status: 503,
      kind: 'configuration-refused',
      title: 'Admin API unavailable',
      detail: refusedDetail('The admin API', refused),
      errors: refused.map((r) => ({ field: r.setting, detail: r.detail })),
    });
  }
  await next();
};
