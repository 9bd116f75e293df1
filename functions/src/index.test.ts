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
const timerRegistrations = vi.spyOn(fx.app, 'timer');

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'functions-index-'));
  // index.ts reads its configuration from the environment on the first request, as in Azure.
  process.env.DATA_DIR = dataDir;
  process.env.BLOB_CONNECTION_STRING = testBlobConnectionString();
  process.env.DATABASE_URL = '';
  process.env.LOG_LEVEL = 'error';
  process.env.BLOB_SWEEP_INTERVAL_MINUTES = '30';
  ({ handlers, blobSweepTimer, sharedPlatform } = await import('./index.js'));
});

afterAll(async () => {
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
    expect((await call('storage', path)).status).toBe(401);
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
    const read = await call('storage', path, 'GET', undefined, authorization);
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
});
