import { Hono } from 'hono';
import { admin } from './admin';
import type { EdgeEnv, Env } from './env';
import { errorResponse, onError, onNotFound } from './problem';
import { appTargetOf, proxyToApp } from './proxy';
import { requestId, requestIdOf } from './request';

/** The edge's own endpoints (`/_edge/...`) and the 404 of every path that names no app. */
const edge = new Hono<EdgeEnv>();
edge.use('*', requestId);
edge.route('/_edge', admin);
edge.onError(onError);
edge.notFound(onNotFound);

/**
 * The edge Worker. App paths `/{org}/{app}/...` go straight to the proxy: the hot path skips the
 * router and middleware chain (measured: edge/bare Worker 0.51 with them, 0.70 without; bench/).
 * Everything else is the Hono app above.
 */
export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url);
    const target = appTargetOf(url.pathname);
    if (target === null) return edge.fetch(request, env, ctx);
    const id = requestIdOf(request.headers);
    try {
      return await proxyToApp(request, url, target, env, id);
    } catch (err) {
      const res = errorResponse(err, url.pathname, id);
      res.headers.set('x-request-id', id);
      return res;
    }
  },
} satisfies ExportedHandler<Env>;
