/**
 * `npm run bench -- storage`: DataServices (the Storage API) on a real functions host in a child process,
 * measured side by side in one run against the same work done without the API (see README.md).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { STORAGE_PREFIX } from '../functions/src/storage/index.js';
import type { InstanceFilter } from '../functions/src/storage/repositories/instance-repository.js';
import { SCOPES } from '../functions/src/storage/shared/access.js';
import { azuriteConnectionString } from '../platform/src/config/index.js';
import {
  answering,
  freePort,
  isAlive,
  logTail,
  type Supervised,
  startChild,
  stopChildren,
  waitForHttp,
} from '../scripts/processes.js';
import { closedLoop, MB, memoryOf, percentile, resetPeakRss, sampleRss } from './load.js';
import { removeAtExit } from './pinning.js';
import { median } from './report.js';
import { positiveInt } from './settings.js';
import {
  apiCreateUploadRead,
  createInstance,
  generatedWebStream,
  type InstanceAnswer,
  type StorageClient,
  sdkUpload,
  storageClient,
  uploadElement,
} from './storage-client.js';
import type { RawRunAnswer, RawRunRequest } from './storage-host.js';
import type { SeedOptions } from './storage-work.js';
import { reportFigures } from './summary.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');

/** Settings of the storage bench, from the environment. */
export interface StorageBenchConfig {
  seconds: number;
  rounds: number;
  concurrency: number;
  instances: number;
  parties: number;
  queries: number;
  uploadMb: number;
  parallelUploads: number;
  rssLimitMb: number;
}

/** Reads the BENCH_STORAGE_* variables (and BENCH_SECONDS, BENCH_ROUNDS), failing fast on bad values. */
export function loadStorageConfig(): StorageBenchConfig {
  return {
    seconds: positiveInt('BENCH_STORAGE_SECONDS', positiveInt('BENCH_SECONDS', 5)),
    rounds: positiveInt('BENCH_STORAGE_ROUNDS', positiveInt('BENCH_ROUNDS', 3)),
    concurrency: positiveInt('BENCH_STORAGE_CONCURRENCY', 8),
    instances: positiveInt('BENCH_STORAGE_INSTANCES', 100_000),
    parties: positiveInt('BENCH_STORAGE_PARTIES', 1_000),
    queries: positiveInt('BENCH_STORAGE_QUERIES', 200),
    uploadMb: positiveInt('BENCH_STORAGE_UPLOAD_MB', 50),
    parallelUploads: positiveInt('BENCH_STORAGE_PARALLEL_UPLOADS', 10),
    rssLimitMb: positiveInt('BENCH_STORAGE_RSS_LIMIT_MB', 250),
  };
}

/** The apps the bench uses: `bench/load` for writes, `ttd/archive` for the seeded instances that are queried. */
const LOAD = { org: 'bench', app: 'load', small: 'attachment', large: 'large', firstPartyId: 500_001 };
const SEEDED = { org: 'ttd', app: 'archive', firstPartyId: 100_001 };
const SMALL_BYTES = 10 * 1024;

/** One row of the final table. */
interface Row {
  name: string;
  value: string;
  p50?: number;
  p99?: number;
  ratio?: string;
}

const ms = (value: number | undefined) => (value === undefined ? '' : `${value.toFixed(2)} ms`);
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

function markdown(rows: Row[]): string {
  const head = ['measurement', 'result', 'p50', 'p99', 'ratio'];
  const lines = rows.map((r) => [r.name, r.value, ms(r.p50), ms(r.p99), r.ratio ?? '']);
  return [head, head.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The running host: its child process, its API base and its control server. */
interface Host {
  child: Supervised;
  api: string;
  control<T>(path: string, body: unknown): Promise<T>;
}

async function startAzurite(work: string): Promise<{ child: Supervised; connectionString: string }> {
  const port = await freePort();
  const cwd = join(work, 'azurite');
  mkdirSync(cwd);
  const args = ['--silent', '--inMemoryPersistence', '--blobHost', '127.0.0.1', '--blobPort', String(port)];
  const child = startChild(
    'azurite-blob',
    join(ROOT, 'node_modules/.bin/azurite-blob'),
    [...args, '--skipApiVersionCheck', '--disableTelemetry'],
    { logDir: work, cwd },
  );
  // Azurite answers a bare GET with 400: any answer below 500 means it is up.
  await waitForHttp(`http://127.0.0.1:${port}/devstoreaccount1?comp=list`, child, {
    timeoutMs: 30_000,
    ready: answering,
  });
  return { child, connectionString: azuriteConnectionString(port) };
}

async function startHost(work: string, connectionString: string): Promise<Host> {
  const [port, controlPort] = [await freePort(), await freePort()];
  const child = startChild('storage-host', process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'storage-host.ts')], {
    logDir: work,
    cwd: ROOT,
    env: {
      ...process.env,
      PLATFORM_MODE: 'local',
      FUNCTIONS_PORT: String(port),
      FUNCTIONS_HOST: '127.0.0.1',
      BENCH_CONTROL_PORT: String(controlPort),
      DATA_DIR: join(work, 'data'),
      BLOB_CONNECTION_STRING: connectionString,
      LOG_LEVEL: 'warn',
    },
  });
  const control = `http://127.0.0.1:${controlPort}`;
  await waitForHttp(`${control}/health`, child, { timeoutMs: 60_000, ready: answering });
  return {
    child,
    api: `http://127.0.0.1:${port}${STORAGE_PREFIX}`,
    async control<T>(path: string, body: unknown): Promise<T> {
      if (!isAlive(child)) throw new Error(`storage-host has exited:\n${logTail(child)}`);
      const res = await fetch(`${control}${path}`, { method: 'POST', body: JSON.stringify(body) });
      const answer = (await res.json()) as T & { error?: string };
      if (res.status !== 200) throw new Error(`control ${path} failed: ${answer.error}`);
      return answer;
    },
  };
}

/** Rotates `items` by `round`, so that no side always runs first. */
const rotate = <T>(items: T[], round: number): T[] => items.map((_, i) => items[(i + round) % items.length] as T);

/** 1. create instance + upload 10 KB + read back: API vs raw, ops/s, side by side in rounds. */
async function measureCreateUploadRead(host: Host, client: StorageClient, config: StorageBenchConfig): Promise<Row[]> {
  const content = crypto.getRandomValues(new Uint8Array(SMALL_BYTES));
  let next = 0;
  const api = (seconds: number) =>
    closedLoop(
      () =>
        apiCreateUploadRead(
          client,
          `${LOAD.org}/${LOAD.app}`,
          LOAD.small,
          String(LOAD.firstPartyId + (next++ % config.parties)),
          content,
        ),
      { concurrency: config.concurrency, seconds },
    ).then((r) => {
      if (r.errors > 0) throw new Error(`API: ${r.errors} failed operations, e.g. ${r.firstErrors.join('; ')}`);
      return {
        opsPerSecond: r.opsPerSecond,
        p50Ms: percentile(r.latenciesMs, 50),
        p99Ms: percentile(r.latenciesMs, 99),
      };
    });
  const raw = (seconds: number) =>
    host
      .control<RawRunAnswer>('/raw', {
        seconds,
        concurrency: config.concurrency,
        size: SMALL_BYTES,
        org: LOAD.org,
        app: LOAD.app,
        dataType: LOAD.small,
        firstPartyId: LOAD.firstPartyId,
        parties: config.parties,
      } satisfies RawRunRequest)
      .then((r) => {
        if (r.errors > 0) throw new Error(`raw: ${r.errors} failed operations, e.g. ${r.firstErrors.join('; ')}`);
        return r;
      });
  const sides = { api, raw };
  console.log('1. create instance + upload 10 KB + read back, concurrency', config.concurrency);
  console.log(
    `  warm-up: API ${(await api(2)).opsPerSecond.toFixed(0)} ops/s, raw ${(await raw(2)).opsPerSecond.toFixed(0)} ops/s`,
  );
  const results: Record<keyof typeof sides, { opsPerSecond: number; p50Ms: number; p99Ms: number }[]> = {
    api: [],
    raw: [],
  };
  for (let round = 0; round < config.rounds; round++) {
    for (const side of rotate(['api', 'raw'] as const, round)) {
      await sleep(300);
      const r = await sides[side](config.seconds);
      results[side].push(r);
      console.log(
        `  round ${round + 1} ${side.padEnd(3)} ${r.opsPerSecond.toFixed(0).padStart(6)} ops/s  p50 ${ms(r.p50Ms)}  p99 ${ms(r.p99Ms)}`,
      );
    }
  }
  const summary = (side: keyof typeof sides) => ({
    ops: median(results[side].map((r) => r.opsPerSecond)),
    p50: median(results[side].map((r) => r.p50Ms)),
    p99: median(results[side].map((r) => r.p99Ms)),
  });
  const [a, r] = [summary('api'), summary('raw')];
  const perRound = results.api.map((x, i) =>
    (x.opsPerSecond / (results.raw[i]?.opsPerSecond ?? Number.NaN)).toFixed(2),
  );
  console.log(`  API / raw: ${(a.ops / r.ops).toFixed(2)} (rounds ${perRound.join(' ')})`);
  return [
    {
      name: `create + upload 10 KB + read, HTTP API (c=${config.concurrency})`,
      value: `${a.ops.toFixed(0)} ops/s`,
      p50: a.p50,
      p99: a.p99,
      ratio: `${(a.ops / r.ops).toFixed(2)} of raw`,
    },
    {
      name: `same rows + blobs, repositories + BlobStore (c=${config.concurrency})`,
      value: `${r.ops.toFixed(0)} ops/s`,
      p50: r.p50,
      p99: r.p99,
      ratio: '1.00',
    },
  ];
}

/** Top-level and status field names of an instance, to compare a seeded one with an API-created one. */
function shapeOf(instance: InstanceAnswer): string {
  const status = Object.keys((instance.status ?? {}) as object).sort();
  return `${Object.keys(instance).sort().join(',')} status:${status.join(',')}`;
}

/** Seeds the instances with SQL and checks that the API reads them back like one it created itself. */
async function seed(host: Host, reader: StorageClient, apiCreated: InstanceAnswer, config: StorageBenchConfig) {
  const toMs = Date.now() - 2 * 86_400_000;
  const fromMs = toMs - 365 * 86_400_000;
  const options: SeedOptions = {
    count: config.instances,
    parties: config.parties,
    firstPartyId: SEEDED.firstPartyId,
    org: SEEDED.org,
    app: SEEDED.app,
    fromMs,
    toMs,
    batch: 10_000,
  };
  const { ms: took } = await host.control<{ ms: number }>('/seed', options);
  console.log(
    `2. seeded ${config.instances.toLocaleString('en-US')} instances of ${SEEDED.org}/${SEEDED.app} over ${config.parties} parties in ${(took / 1000).toFixed(1)} s (SQL, batches of 10,000, then ANALYZE)`,
  );
  const page = await reader.json<{ instances: InstanceAnswer[] }>('GET', `instances?org=${SEEDED.org}&size=1`, 200);
  const seeded = page.instances[0];
  if (!seeded) throw new Error('the API finds no seeded instance');
  const [want, got] = [shapeOf(apiCreated), shapeOf(seeded)];
  if (want !== got)
    throw new Error(`seeded instances differ from API-created ones:\n  API:    ${want}\n  seeded: ${got}`);
  await reader.call('GET', `instances/${seeded.id}`, 200);
  console.log('  ok  a seeded instance reads back through the API with the same fields as an API-created one');
  return { fromMs, toMs };
}

/** 2. one page of 100 by party and by org with a date filter: HTTP p50/p99, against the repository's own query. */
async function measureQueries(
  host: Host,
  reader: StorageClient,
  range: { fromMs: number; toMs: number },
  config: StorageBenchConfig,
): Promise<Row[]> {
  const page = 100;
  const party = (i: number) => String(SEEDED.firstPartyId + ((i * 7919) % config.parties));
  const cut = (i: number) =>
    new Date(range.fromMs + (((i * 104_729) % 1000) / 1000) * 0.9 * (range.toMs - range.fromMs)).toISOString();
  const kinds = {
    party: {
      name: `query by party, page of ${page} (instanceOwner.partyId)`,
      path: (i: number) => `instances?org=${SEEDED.org}&instanceOwner.partyId=${party(i)}&size=${page}`,
      filter: (i: number): InstanceFilter => ({
        org: SEEDED.org,
        partyId: party(i),
        dates: {},
        isSoftDeleted: false,
        order: 'desc',
        limit: page + 1,
      }),
    },
    org: {
      name: `query by org + lastChanged=gt:, page of ${page}`,
      path: (i: number) => `instances?org=${SEEDED.org}&lastChanged=gt:${cut(i)}&size=${page}`,
      filter: (i: number): InstanceFilter => ({
        org: SEEDED.org,
        dates: { lastChanged: [{ op: 'gt', at: cut(i) }] },
        isSoftDeleted: false,
        order: 'desc',
        limit: page + 1,
      }),
    },
  };
  const http = { party: [] as number[], org: [] as number[] };
  const query = async (kind: keyof typeof kinds, i: number) => {
    const t0 = performance.now();
    const answer = await reader.json<{ instances: unknown[] }>('GET', kinds[kind].path(i), 200);
    const took = performance.now() - t0;
    if (answer.instances.length !== page)
      throw new Error(`${kinds[kind].path(i)} found ${answer.instances.length} instances`);
    return took;
  };
  for (let i = 0; i < 20; i++) for (const kind of ['party', 'org'] as const) await query(kind, 1_000 + i);
  // interleaved, so that both kinds see the same machine
  for (let i = 0; i < config.queries; i++)
    for (const kind of ['party', 'org'] as const) http[kind].push(await query(kind, i));
  const rows: Row[] = [];
  for (const kind of ['party', 'org'] as const) {
    const filters = Array.from({ length: config.queries }, (_, i) => kinds[kind].filter(i));
    const raw = (await host.control<{ latenciesMs: number[] }>('/query', { filters, expectRows: page })).latenciesMs;
    const [p50, p99, rawP50, rawP99] = [
      percentile(http[kind], 50),
      percentile(http[kind], 99),
      percentile(raw, 50),
      percentile(raw, 99),
    ];
    console.log(
      `  ${kinds[kind].name}: HTTP p50 ${ms(p50)} p99 ${ms(p99)}; repository alone p50 ${ms(rawP50)} p99 ${ms(rawP99)} (${config.queries} queries)`,
    );
    rows.push(
      {
        name: `${kinds[kind].name}, HTTP API`,
        value: `${config.queries} queries`,
        p50,
        p99,
        ratio: `p50 ${(p50 / rawP50).toFixed(2)} x repository`,
      },
      {
        name: `${kinds[kind].name}, repository query alone`,
        value: `${config.queries} queries`,
        p50: rawP50,
        p99: rawP99,
      },
    );
  }
  return rows;
}

/** 3. a large upload: MB/s through the API vs the SDK straight to Azurite, and the host's RSS with many at once. */
async function measureUploads(
  host: Host,
  client: StorageClient,
  connectionString: string,
  config: StorageBenchConfig,
): Promise<Row[]> {
  const bytes = config.uploadMb * MB;
  const pattern = new Uint8Array(randomBytes(MB));
  let party = 0;
  const apiUpload = async () => {
    const instance = await createInstance(client, `${LOAD.org}/${LOAD.app}`, String(900_001 + party++));
    const t0 = performance.now();
    const element = await uploadElement(client, instance.id, LOAD.large, generatedWebStream(bytes, pattern));
    const seconds = (performance.now() - t0) / 1000;
    if (element.size !== bytes) throw new Error(`stored ${element.size} bytes of ${bytes}`);
    return bytes / MB / seconds;
  };
  let blob = 0;
  const sdk = async () => {
    const t0 = performance.now();
    await sdkUpload(connectionString, 'bench-direct', `direct/${blob++}`, bytes, pattern);
    return bytes / MB / ((performance.now() - t0) / 1000);
  };
  console.log(
    `3. ${config.uploadMb} MB uploads (streamed request body; SDK uploadStream with 4 MB blocks x 4, as the BlobStore)`,
  );
  await apiUpload();
  await sdk();
  const results = { api: [] as number[], sdk: [] as number[] };
  for (let round = 0; round < config.rounds; round++) {
    for (const side of rotate(['api', 'sdk'] as const, round)) {
      const rate = side === 'api' ? await apiUpload() : await sdk();
      results[side].push(rate);
      console.log(`  round ${round + 1} ${side} ${rate.toFixed(1)} MB/s`);
    }
  }
  const [api, direct] = [median(results.api), median(results.sdk)];
  console.log(`  API / SDK: ${(api / direct).toFixed(2)}`);

  const pid = host.child.child.pid;
  if (pid === undefined) throw new Error('storage-host has no pid');
  await sleep(1_000);
  const baseline = memoryOf(pid).rss;
  const peakReset = resetPeakRss(pid);
  const sampler = sampleRss(pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: config.parallelUploads }, () => apiUpload()));
  const seconds = (performance.now() - t0) / 1000;
  const sampled = sampler.stop();
  const peak = peakReset ? Math.max(sampled, memoryOf(pid).peak) : sampled;
  const grew = peak - baseline;
  const limit = config.rssLimitMb * MB;
  const verdict = grew < limit ? 'PASS' : 'FAIL';
  const inFlight = config.parallelUploads * bytes;
  console.log(
    `  ${config.parallelUploads} x ${config.uploadMb} MB at once: ${(inFlight / MB / seconds).toFixed(1)} MB/s in all; host RSS baseline ${mb(baseline)}, ` +
      `peak ${mb(peak)} (${peakReset ? 'VmHWM after reset and VmRSS polled every 10 ms' : 'VmRSS polled every 10 ms'}), ` +
      `peak - baseline ${mb(grew)}: must be far below ${mb(inFlight)} in flight; ${verdict} (< ${config.rssLimitMb} MB, information only)`,
  );
  return [
    {
      name: `${config.uploadMb} MB upload, HTTP API (streamed body)`,
      value: `${api.toFixed(1)} MB/s`,
      ratio: `${(api / direct).toFixed(2)} of SDK`,
    },
    {
      name: `${config.uploadMb} MB upload, SDK uploadStream to Azurite`,
      value: `${direct.toFixed(1)} MB/s`,
      ratio: '1.00',
    },
    {
      name: `host RSS, ${config.parallelUploads} x ${config.uploadMb} MB uploads at once`,
      value: `baseline ${mb(baseline)}, peak ${mb(peak)}, +${mb(grew)}`,
      ratio: `${verdict} (+${mb(grew)} < ${config.rssLimitMb} MB)`,
    },
  ];
}

/** Runs the storage bench; answers the exit code. */
export async function runStorageBench(): Promise<number> {
  const config = loadStorageConfig();
  const work = mkdtempSync(join(tmpdir(), 'storage-bench-'));
  const forget = removeAtExit(work);
  let keepWork = true;
  try {
    const database = process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL, own schema)' : 'PGlite (fresh temp dir)';
    console.log(
      `storage bench: ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; ${database}, ` +
        `Azurite in memory; ${config.rounds} rounds x ${config.seconds} s; work dir ${work}`,
    );
    const azurite = await startAzurite(work);
    const host = await startHost(work, azurite.connectionString);
    const token = async (org: string, scopes: string[]) =>
      (await host.control<{ token: string }>('/token', { org, scopes })).token;
    const deploy = (org: string) => token(org, [SCOPES.appDeploy]).then((t) => storageClient(host.api, t));
    await (await deploy(LOAD.org)).json('POST', `applications/${LOAD.org}/${LOAD.app}`, 201, {
      dataTypes: [
        { id: LOAD.small, allowedContentTypes: [], maxSize: 1, maxCount: 0, minCount: 0 },
        { id: LOAD.large, allowedContentTypes: [], maxCount: 0, minCount: 0 },
      ],
    });
    await (await deploy(SEEDED.org)).json('POST', `applications/${SEEDED.org}/${SEEDED.app}`, 201, { dataTypes: [] });
    const loader = storageClient(host.api, await token(LOAD.org, [SCOPES.instancesRead, SCOPES.instancesWrite]));
    const reader = storageClient(host.api, await token(SEEDED.org, [SCOPES.instancesRead]));
    const apiCreated = await createInstance(loader, `${LOAD.org}/${LOAD.app}`, String(LOAD.firstPartyId));
    console.log(
      `  host ${host.api} (pid ${host.child.child.pid}); apps ${LOAD.org}/${LOAD.app} and ${SEEDED.org}/${SEEDED.app} deployed through the API`,
    );

    const rows = [...(await measureCreateUploadRead(host, loader, config))];
    const range = await seed(host, reader, apiCreated, config);
    rows.push(...(await measureQueries(host, reader, range, config)));
    rows.push(...(await measureUploads(host, loader, azurite.connectionString, config)));
    console.log('');
    console.log(markdown(rows));
    reportFigures(
      'storage',
      rows.map((r) => ({
        name: r.name,
        value: [
          r.value,
          ...(r.p50 === undefined ? [] : [`p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99?.toFixed(1)} ms`]),
        ].join(', '),
        ...(r.ratio === undefined ? {} : { ratio: r.ratio }),
      })),
    );
    keepWork = false;
    return 0;
  } finally {
    await stopChildren(undefined, 10_000);
    forget();
    if (!keepWork) rmSync(work, { recursive: true, force: true });
    else console.error(`logs kept in ${work}`);
  }
}
