import { edgeApp } from './app';

export { EgressAudit } from './egress/audit';

import type { Env } from './env';
import { errorResponse } from './problem';
import { appTargetOf, proxyToApp } from './proxy';
import { requestIdOf } from './request';
import { framingProblem } from './request/framing';
import { enforce } from './sla';

export { CircuitBreaker } from './sla/breaker';
export { SlaLimiter } from './sla/limiter';
export { SlaMetrics } from './sla/metrics';

/**
 * The edge Worker. App paths `/{org}/{app}/...` go straight to the proxy: the hot path skips the
 * router and middleware chain (measured: edge/bare Worker 0.51 with them, 0.70 without; bench/).
 * Everything else is the Hono app in app.ts. Ambiguously framed requests are refused first (request/framing.ts).
 */
export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url);
    const framing = framingProblem(request.headers);
    if (framing !== null) {
      const id = requestIdOf(request.headers);
      const res = errorResponse(framing, url.pathname, id);
      res.headers.set('x-request-id', id);
      return res;
    }
    const target = appTargetOf(url.pathname);
    if (target === null) return edgeApp.fetch(request, env, ctx);
    const id = requestIdOf(request.headers);
    if (env.SLA_LIMITER !== undefined) {
      const forward = (req: Request, u: URL) => proxyToApp(req, u, target, env, id);
      return enforce({ request, url, target, env, ctx, requestId: id, forward });
    }
    try {
      return await proxyToApp(request, url, target, env, id);
    } catch (err) {
      const res = errorResponse(err, url.pathname, id);
      res.headers.set('x-request-id', id);
      return res;
    }
  },
} satisfies ExportedHandler<Env>;
