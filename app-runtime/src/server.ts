import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createServiceApp } from './app.js';
import { parseAppConfig } from './config.js';

/**
 * The entry of one app replica, forked by the provisioner's local provider. It serves the app at
 * `/{ORG}/{APP}` (and `/health` at the root, where Altinn's probes look) on a free port, tells its
 * parent that port over IPC, takes its PlatformAccessToken from the parent over IPC, and answers
 * SIGTERM by finishing in-flight requests before it exits.
 *
 * Environment: `ORG`, `APP`, `RELEASE`, `VERSION`, `REPLICA` (its name, shown in `/`'s answer), `PLATFORM_URL`,
 * `APP_CONFIG` (JSON), `PORT` (0 by default).
 * Test knobs, for the provider's crash and readiness tests only:
 * - `RUNTIME_FAIL_AT_START=1`: exit with code 1 before listening (a crash loop).
 * - `RUNTIME_EXIT_AFTER_MS=n`: exit with code 1 n ms after listening (a crash later on).
 * - `RUNTIME_READY_AFTER_MS=n`: `/health` answers 503 until n ms after listening (slow readiness).
 * - `RUNTIME_UNHEALTHY_AFTER_MS=n`: `/health` answers 503 from n ms after listening on (a hung app for liveness).
 */

/** Messages the parent sends a replica. */
export type ParentMessage = { type: 'access-token'; token: string };
/** Messages a replica sends its parent. */
export type ReplicaMessage = { type: 'listening'; port: number };

const env = process.env;
if (env.RUNTIME_FAIL_AT_START === '1') {
  console.error('RUNTIME_FAIL_AT_START is set: exiting before listening');
  process.exit(1);
}

const org = env.ORG ?? 'ttd';
const app = env.APP ?? 'demo';
let accessToken: string | undefined;
let readyAt = Number.POSITIVE_INFINITY;
let unhealthyAt = Number.POSITIVE_INFINITY;

process.on('message', (message: ParentMessage) => {
  if (message?.type === 'access-token') accessToken = message.token;
});

const root = new Hono({ strict: false });
const health = (ready: boolean) =>
  ready ? Response.json({ status: 'ok' }) : Response.json({ status: 'starting' }, { status: 503 });
const healthy = () => Date.now() >= readyAt && Date.now() < unhealthyAt;
root.get('/health', () => health(healthy()));
root.get(`/${org}/${app}/health`, () => health(healthy()));
root.route(
  '/',
  createServiceApp({
    org,
    app,
    release: env.RELEASE,
    version: env.VERSION,
    replica: env.REPLICA,
    platformUrl: env.PLATFORM_URL,
    accessToken: () => accessToken,
    config: parseAppConfig(env.APP_CONFIG),
  }),
);

const server: ServerType = serve({ fetch: root.fetch, port: Number(env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  const { port } = info as AddressInfo;
  readyAt = Date.now() + Number(env.RUNTIME_READY_AFTER_MS ?? 0);
  if (env.RUNTIME_UNHEALTHY_AFTER_MS) unhealthyAt = Date.now() + Number(env.RUNTIME_UNHEALTHY_AFTER_MS);
  console.log(`${org}/${app} release ${env.RELEASE ?? 'dev'} listening on ${port}`);
  process.send?.({ type: 'listening', port } satisfies ReplicaMessage);
  const exitAfter = Number(env.RUNTIME_EXIT_AFTER_MS ?? 0);
  if (exitAfter > 0) {
    setTimeout(() => {
      console.error(`RUNTIME_EXIT_AFTER_MS=${exitAfter} elapsed: exiting`);
      process.exit(1);
    }, exitAfter).unref();
  }
});
// Longer than the ingress keeps idle upstream connections, so the ingress never reuses a socket the replica closed.
if ('keepAliveTimeout' in server) server.keepAliveTimeout = 65_000;

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: finishing in-flight requests`);
  server.close(() => process.exit(0));
  if ('closeIdleConnections' in server) server.closeIdleConnections();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
// The parent went away: a replica never outlives its provider.
process.on('disconnect', () => stop('disconnect'));
