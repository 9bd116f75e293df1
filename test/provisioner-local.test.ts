import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionsHost, startFunctionsHost } from '../functions/src/server.js';
import { loadConfig } from '../platform/src/config/index.js';
import { provisionerOf } from '../provisioner/src/host.js';
import type { LocalProvider } from '../provisioner/src/providers/local/index.js';
import { alive, steadyLoad, until } from '../provisioner/test/support/local.js';
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
      PLATFORM_MODE: 'local',
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
    const load = steadyLoad(`${ingress}/ttd/forms/`, 2, { posts: true });
    try {
      await completed('PUT', '/clusters/ttd/apps/forms', {
        image: 'app-runtime:2.0.0',
        minReplicas: 2,
        maxReplicas: 4,
      });
      const during = [...load.stats.releases];
      await completed('POST', '/clusters/ttd/apps/forms/rollback');
      expect(during).toContain('2');
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
    expect(load.stats.posts).toBeGreaterThan(0);
    expect(load.stats.releases).toContain('1');
    const after = (await (await fetch(`${ingress}/ttd/forms/`)).json()) as { release: string };
    expect(after.release).toBe('1');
    const releases = (await (await call('GET', '/clusters/ttd/apps/forms/releases')).json()) as Record<string, any>;
    expect(releases).toMatchObject({ desiredRevision: 1, servingRevision: 1 });
  }, 120_000);

  it('replaces a replica killed during a rolling update; the rollout completes and the load sees no failed request', async () => {
    const { provider } = await provisionerOf(host.platform);
    const local = provider as LocalProvider;
    const load = steadyLoad(`${ingress}/ttd/forms/`, 2, { posts: true });
    let victim: { id: string; pid: number } | undefined;
    try {
      await until(() => load.stats.posts > 20, 'the load to run');
      // Release 3 takes a while to be ready, so the rollout is still going when a replica of release 1 is killed.
      const response = await call('PUT', '/clusters/ttd/apps/forms', {
        image: 'app-runtime:3.0.0',
        env: { RUNTIME_READY_AFTER_MS: '1500' },
        minReplicas: 2,
        maxReplicas: 4,
      });
      expect(response.status, await response.clone().text()).toBe(202);
      await until(() => local.replicas('ttd', 'forms').some((r) => r.revision === 3), 'a replica of release 3');
      // The app's view tells both releases' health mid-rollout: release 1 serves, release 3 is on its way.
      const rolling = (await (await call('GET', '/clusters/ttd/apps/forms')).json()) as { status: Record<string, any> };
      expect(rolling.status).toMatchObject({ servingRevision: 1, desiredRevision: 3 });
      expect(rolling.status.health.serving.revision).toBe(1);
      expect(rolling.status.health.serving.readyReplicas).toBeGreaterThan(0);
      expect(rolling.status.health.desired.revision).toBe(3);
      expect(rolling.status.health.desired.replicas).toBeGreaterThan(0);
      // SIGKILL between two of its requests: one in flight on a process that dies is lost on any platform
      // (a POST cannot be sent twice). The ingress runs in this process, so none is sent between check and kill.
      victim = await until(() => {
        const old = local
          .replicas('ttd', 'forms')
          .find((r) => r.revision === 1 && r.ready && r.pid !== null && r.inflight === 0);
        if (!old?.pid) return undefined;
        process.kill(old.pid, 'SIGKILL');
        return { id: old.id, pid: old.pid };
      }, 'an old replica between requests');
      const op = await waitForOperation(host.url, response.headers.get('location') as string, ADMIN, 90_000);
      expect(op.status).toBe('Succeeded');
      const settled = load.stats.ok;
      await until(() => load.stats.ok > settled + 50, 'answers after the rollout');
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
    expect(load.stats.posts).toBeGreaterThan(0);
    expect(alive(victim.pid)).toBe(false);
    const replicas = local.replicas('ttd', 'forms');
    expect(replicas.map((r) => [r.revision, r.ready])).toEqual([
      [3, true],
      [3, true],
    ]);
    expect(replicas.map((r) => r.pid)).not.toContain(victim.pid);
    expect(local.events('ttd', 'forms')).toContainEqual(
      expect.objectContaining({ type: 'Exited', replica: victim.id, signal: 'SIGKILL' }),
    );
    expect(load.stats.releases.slice(-20)).toEqual(Array(20).fill('3'));
    const done = (await (await call('GET', '/clusters/ttd/apps/forms')).json()) as { status: Record<string, any> };
    expect(done.status.health).toEqual({
      serving: { revision: 3, replicas: 2, readyReplicas: 2 },
      desired: { revision: 3, replicas: 2, readyReplicas: 2 },
    });
  }, 120_000);

  it('replaces a killed replica while the load sees no failed request', async () => {
    const { provider } = await provisionerOf(host.platform);
    const local = provider as LocalProvider;
    const victim = local.replicas('ttd', 'forms').find((r) => r.ready && r.pid !== null);
    expect(victim?.pid).toEqual(expect.any(Number));
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
    expect(load.stats.failures).toEqual([]);
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
