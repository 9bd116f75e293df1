import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { type AppIdentity, createServiceApp, notFoundProblem } from './app.js';

/** A running stand-in org cluster ingress. */
export interface StandInIngress {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Plays one org cluster's ingress on loopback until the provisioner's local provider replaces it:
 * routes `/{org}/{app}/...` to in-process service apps, and answers 404 problem+json for others.
 */
export async function startStandInIngress(options: {
  apps: AppIdentity[];
  port?: number;
  hostname?: string;
}): Promise<StandInIngress> {
  const root = new Hono({ strict: false });
  for (const id of options.apps) root.route('/', createServiceApp(id));
  root.notFound((c) => notFoundProblem(c.req.url, 'No such app in this cluster'));
  const hostname = options.hostname ?? '127.0.0.1';
  let server: ServerType | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: root.fetch, port: options.port ?? 0, hostname }, (info) => resolve(info.port));
    server.once('error', reject);
  });
  return {
    url: `http://${hostname}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
