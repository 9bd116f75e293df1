import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../functions/src/platform/config/index.js';
import { type FunctionsHost, startFunctionsHost } from '../functions/src/server.js';
import { provisionerOf } from '../provisioner/src/host.js';
import type { LocalProvider } from '../provisioner/src/providers/local/index.js';
import { waitForOperation } from '../scripts/demo.js';
import { freePort } from '../scripts/processes.js';
import { testBlobConnectionString } from './support/blob.js';

/**
 * The provisioner end to end on this machine: a real functions host (PGlite, Azurite) whose
 * reconciler drives the local provider, called over HTTP only, with a steady load through the org's
 * ingress while releases roll out and back.
 */
const ADMIN = 'provisioner-local-test-admin';
let host: FunctionsHost;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'provisioner-local-'));
  process.env.PROVISIONER_ADMIN_TOKEN = ADMIN;
  process.env.PROVISIONER_RECONCILE_INTERVAL_MS = '100';
  process.env.PROVISIONER_POLL_MS = '100';
  const port = await freePort();
  host = await startFunctionsHost({
    config: loadConfig({
      DATA_DIR: dataDir,
      FUNCTIONS_PORT: String(port),
      BLOB_CONNECTION_STRING: testBlobConnectionString(),
      LOG_LEVEL: 'error',
    }),
  });
}, 60_000);

afterAll(async () => {
  await host?.close();
  delete process.env.PROVISIONER_ADMIN_TOKEN;
  delete process.env.PROVISIONER_RECONCILE_INTERVAL_MS;
  delete process.env.PROVISIONER_POLL_MS;
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${host.url}/provisioner/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Sends `body`'s call, expects 202, and waits for its operation to succeed. */
async function completed(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await call(method, path, body);
  expect(response.status, await response.clone().text()).toBe(202);
  return waitForOperation(host.url, response.headers.get('location') as string, ADMIN, 60_000);
}

/** A steady loopback load: `clients` sequential loops of GETs until stopped; counts answers by release and errors. */
function steadyLoad(url: string, clients = 2) {
  let running = true;
  const releases = new Map<string, number>();
  const errors: string[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      try {
        const response = await fetch(url);
        const body = (await response.json()) as { release?: string };
        if (response.status !== 200) errors.push(`${response.status} ${JSON.stringify(body)}`);
        else releases.set(String(body.release), (releases.get(String(body.release)) ?? 0) + 1);
      } catch (error) {
        errors.push(String(error));
      }
    }
  });
  return {
    releases,
    errors,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('provisioner with the local provider', () => {
  let ingress = '';

  it('creates the cluster and deploys an app through HTTP; the ingress serves ready replicas', async () => {
    await completed('PUT', '/clusters/ttd', {});
    const cluster = (await (await call('GET', '/clusters/ttd')).json()) as { status: { ingressUrl: string } };
    ingress = cluster.status.ingressUrl;
    expect(ingress).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await completed('PUT', '/clusters/ttd/apps/forms', { image: 'app-runtime:1.0.0', minReplicas: 2, maxReplicas: 4 });
    const answer = await fetch(`${ingress}/ttd/forms/`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ app: 'ttd/forms', release: '1', version: '1.0.0' });
    const view = (await (await call('GET', '/clusters/ttd/apps/forms')).json()) as { status: Record<string, any> };
    expect(view.status.rollout).toMatchObject({ revision: 1, complete: true, readyReplicas: 2, oldReplicas: 0 });
  }, 90_000);

  it('rolls out a new release and rolls it back under steady load with no failed request', async () => {
    const load = steadyLoad(`${ingress}/ttd/forms/`);
    try {
      await completed('PUT', '/clusters/ttd/apps/forms', {
        image: 'app-runtime:2.0.0',
        minReplicas: 2,
        maxReplicas: 4,
      });
      const during = new Map(load.releases);
      await completed('POST', '/clusters/ttd/apps/forms/rollback');
      expect(during.get('2') ?? 0).toBeGreaterThan(0);
    } finally {
      await load.stop();
    }
    expect(load.errors).toEqual([]);
    expect(load.releases.get('1') ?? 0).toBeGreaterThan(0);
    const after = (await (await fetch(`${ingress}/ttd/forms/`)).json()) as { release: string };
    expect(after.release).toBe('1');
    const releases = (await (await call('GET', '/clusters/ttd/apps/forms/releases')).json()) as Record<string, any>;
    expect(releases).toMatchObject({ desiredRevision: 1, servingRevision: 1 });
  }, 120_000);

  it('replaces a killed replica while the load sees no failed request', async () => {
    const { provider } = await provisionerOf(host.platform);
    const local = provider as LocalProvider;
    const victim = local.replicas('ttd', 'forms').find((r) => r.ready && r.pid !== undefined);
    expect(victim?.pid).toBeDefined();
    const load = steadyLoad(`${ingress}/ttd/forms/`);
    try {
      process.kill(victim?.pid as number, 'SIGKILL');
      const deadline = Date.now() + 30_000;
      for (;;) {
        const replicas = local.replicas('ttd', 'forms');
        const replaced = replicas.filter((r) => r.ready && r.pid !== victim?.pid).length === 2;
        if (replaced || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await load.stop();
    }
    expect(local.replicas('ttd', 'forms').filter((r) => r.ready && r.pid !== victim?.pid)).toHaveLength(2);
    expect(load.errors).toEqual([]);
  }, 60_000);

  it('scales through the API and removes app and cluster, leaving no replica process', async () => {
    await completed('POST', '/clusters/ttd/apps/forms/scale', { replicas: 3 });
    const { provider } = await provisionerOf(host.platform);
    const local = provider as LocalProvider;
    expect(local.replicas('ttd', 'forms').filter((r) => r.ready)).toHaveLength(3);
    const pids = local.replicas('ttd', 'forms').map((r) => r.pid as number);
    expect((await call('DELETE', '/clusters/ttd')).status).toBe(409);
    await completed('DELETE', '/clusters/ttd?force=true');
    expect((await call('GET', '/clusters/ttd')).status).toBe(404);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(fetch(`${ingress}/ttd/forms/`)).rejects.toThrow();
  }, 60_000);
});
