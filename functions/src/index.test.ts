import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fx from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTestBlobStore, testBlobConnectionString } from '../../test/support/blob.js';
import { DATA_CONTAINER } from './storage/index.js';

let dataDir: string;
let handlers: Readonly<Record<string, fx.HttpHandler>>;
let blobSweepTimer: typeof import('./index.js').blobSweepTimer;
let sharedPlatform: typeof import('./index.js').sharedPlatform;
let provisionerReconcileTimer: typeof import('./index.js').provisionerReconcileTimer;
const ADMIN = 'index-test-provisioner-admin';
const timerRegistrations = vi.spyOn(fx.app, 'timer');

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'functions-index-'));
  // index.ts reads its configuration from the environment on the first request, as in Azure.
  process.env.PLATFORM_MODE = 'local';
  process.env.DATA_DIR = dataDir;
  process.env.BLOB_CONNECTION_STRING = testBlobConnectionString();
  process.env.DATABASE_URL = '';
  process.env.LOG_LEVEL = 'error';
  process.env.BLOB_SWEEP_INTERVAL_MINUTES = '30';
  process.env.PROVISIONER_ADMIN_TOKEN = ADMIN;
  process.env.PROVISIONER_RECONCILE_SLICE_MS = '300';
  ({ handlers, blobSweepTimer, sharedPlatform, provisionerReconcileTimer } = await import('./index.js'));
});

afterAll(async () => {
  await (await sharedPlatform()).close();
  await rm(dataDir, { recursive: true, force: true });
});

async function call(
  name: string,
  pathAndQuery: string,
  method = 'GET',
  json?: unknown,
  headers: Record<string, string> = {},
): Promise<fx.HttpResponse> {
  const handler = handlers[name];
  if (!handler) throw new Error(`no handler ${name}`);
  const request = new fx.HttpRequest({
    url: `http://localhost:7071${pathAndQuery}`,
    method,
    headers: json === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(json === undefined ? {} : { body: { string: JSON.stringify(json) } }),
  });
  const init = await handler(request, new fx.InvocationContext({ invocationId: 'inv-1' }));
  return new fx.HttpResponse(init as fx.HttpResponseInit);
}

describe('Azure Functions entry (functions/src/index.ts)', () => {
  it('exports one handler per registered API', () => {
    expect(Object.keys(handlers)).toEqual([
      'health',
      'storage',
      'authentication',
      'register',
      'profile',
      'authorization',
      'intermediary',
      'accessmanagement',
      'events',
      'notifications',
      'pdf',
      'provisioner',
      'dashboard',
    ]);
  });

  it('opens the platform from the environment on first request and answers /ready 200', {
    timeout: 60_000,
  }, async () => {
    const response = await call('health', '/ready');
    expect(await response.json()).toEqual({ status: 'ok', checks: { database: 'ok', blob: 'ok' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('inv-1');
  });

  it('answers /health and serves /openapi.json through the Azure adapter', async () => {
    expect((await call('health', '/health')).status).toBe(200);
    const doc = (await (await call('health', '/openapi.json')).json()) as { info: { title: string } };
    expect(doc.info.title).toBe('Platform health');
  });

  it('answers paths no API owns with a 404 problem from the root catch-all', async () => {
    const response = await call('health', '/no/such/api', 'POST');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('serves Storage application metadata through the Azure adapter on the migrated platform database', async () => {
    const path = '/storage/api/v1/applications/ttd/azure-app';
    // Read without a token, as Altinn serves application metadata ([AllowAnonymous]): none yet.
    expect((await call('storage', path)).status).toBe(404);
    const token = await (await sharedPlatform()).auth.issuer.orgToken({ org: 'ttd', scopes: ['altinn:appdeploy'] });
    const authorization = { authorization: `Bearer ${token}` };
    const created = await call(
      'storage',
      '/storage/api/v1/applications?appId=ttd/azure-app',
      'POST',
      { title: { nb: 'Azure' } },
      authorization,
    );
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(path);
    const read = await call('storage', path);
    expect(await read.json()).toMatchObject({ id: 'ttd/azure-app', org: 'ttd', title: { nb: 'Azure' } });
  });

  it('registers the orphan-blob sweep as a timer trigger on the configured schedule', () => {
    expect(timerRegistrations).toHaveBeenCalledWith('blobSweep', {
      schedule: '0 */30 * * * *',
      handler: blobSweepTimer,
      runOnStartup: false,
    });
  });

  it('sweeps the data-element container on a timer tick, sparing an orphan younger than the grace period', async () => {
    const blob = openTestBlobStore();
    await blob.ensureContainer(DATA_CONTAINER);
    const orphan = `ttd/azure-app/${randomUUID()}/data/${randomUUID()}`;
    await blob.upload(DATA_CONTAINER, orphan, Readable.from([Buffer.from('orphan')]));
    const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: {} } as fx.Timer;
    const report = await blobSweepTimer(timer, new fx.InvocationContext({ invocationId: 'timer-1' }));
    expect(report.scanned).toBeGreaterThanOrEqual(1);
    expect(report.skippedYoung).toBeGreaterThanOrEqual(1);
    expect(report.deleted).toBe(0);
    expect(await blob.exists(DATA_CONTAINER, orphan)).toBe(true);
  });

  it("registers the provisioner's reconciler as a timer trigger every 10 s", () => {
    expect(timerRegistrations).toHaveBeenCalledWith('provisionerReconcile', {
      schedule: '*/10 * * * * *',
      handler: provisionerReconcileTimer,
      runOnStartup: false,
    });
  });

  it('answers a cluster PUT with 202 at once, and timer ticks take the operation to Succeeded', async () => {
    const auth = { authorization: `Bearer ${ADMIN}` };
    const put = await call('provisioner', '/provisioner/api/v1/clusters/azure', 'PUT', {}, auth);
    expect(put.status).toBe(202);
    const location = put.headers.get('location') as string;
    expect(location).toMatch(/^\/provisioner\/api\/v1\/operations\//);
    const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: {} } as fx.Timer;
    let status = '';
    for (let tick = 0; tick < 20 && status !== 'Succeeded'; tick++) {
      await provisionerReconcileTimer(timer, new fx.InvocationContext({ invocationId: `reconcile-${tick}` }));
      status = ((await (await call('provisioner', location, 'GET', undefined, auth)).json()) as { status: string })
        .status;
    }
    expect(status).toBe('Succeeded');
  });
});
