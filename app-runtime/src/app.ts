import { Hono } from 'hono';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../../contracts/problems.js';
import { createAltinnRoutes } from './altinn.js';
import type { PlatformLink } from './platform-link.js';

/** Which org and app a service container serves, and which release of it. */
export interface AppIdentity {
  org: string;
  app: string;
  release?: string;
  /** The app's own version label. */
  version?: string;
  /** Which replica this process is (the local provider's replica id, as a pod name), so answers show the load balancing. */
  replica?: string;
  /** Where the platform APIs are; without it the Altinn-app-like endpoints are not served. */
  platformUrl?: string;
  /** The app's current PlatformAccessToken. */
  accessToken?: PlatformLink['accessToken'];
  /** The app's configuration (`APP_CONFIG`). */
  config?: PlatformLink['config'];
}

/**
 * The reference service container's HTTP surface, mounted at `/{org}/{app}` as Altinn apps are:
 * a front page that tells who answered (app, release, replica) and what the edge told it, `/health` for probes,
 * `/api/echo` that answers with the request it received, and (with a `platformUrl`) the
 * Altinn-app-like endpoints of altinn.ts.
 */
export function createServiceApp(id: AppIdentity): Hono {
  const base = `/${id.org}/${id.app}`;
  const app = new Hono({ strict: false }).basePath(base);

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/', (c) =>
    c.json({
      message: `Hello from ${id.org}/${id.app}`,
      app: `${id.org}/${id.app}`,
      release: id.release ?? 'dev',
      version: id.version ?? null,
      replica: id.replica ?? null,
      receivedFromEdge: {
        via: c.req.header('via') ?? null,
        forwarded: c.req.header('forwarded') ?? null,
        xForwardedFor: c.req.header('x-forwarded-for') ?? null,
        xForwardedProto: c.req.header('x-forwarded-proto') ?? null,
        xForwardedHost: c.req.header('x-forwarded-host') ?? null,
        requestId: c.req.header('x-request-id') ?? null,
      },
    }),
  );

  app.all('/api/echo', async (c) => {
    const body = await c.req.arrayBuffer();
    return c.json({
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      headers: Object.fromEntries(c.req.raw.headers),
      bodyBytes: body.byteLength,
    });
  });

  if (id.platformUrl) {
    const link = {
      platformUrl: id.platformUrl.replace(/\/+$/, ''),
      accessToken: id.accessToken ?? (() => undefined),
      config: id.config,
    };
    app.route('/', createAltinnRoutes(id.org, id.app, link));
  }

  app.notFound((c) => notFoundProblem(c.req.url, 'Not found'));
  return app;
}

/** A 404 problem+json for `url`. */
export function notFoundProblem(url: string, title: string): Response {
  const body = problemBody('not-found', { title, status: 404, instance: new URL(url).pathname });
  return new Response(JSON.stringify(body), { status: 404, headers: { 'content-type': PROBLEM_CONTENT_TYPE } });
}
