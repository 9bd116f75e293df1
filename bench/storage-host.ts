/**
 * The storage bench's functions host, run as a child process of the bench (so that its RSS is its own):
 * `startFunctionsHost` on FUNCTIONS_PORT, plus a small bench control server on BENCH_CONTROL_PORT (loopback)
 * that mints tokens and runs the raw (no API) work and the seeding on the host's own database and blob store.
 * The database is PGlite under DATA_DIR, or a fresh schema of DATABASE_URL that is dropped again on exit.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { startFunctionsHost } from '../functions/src/server.js';
import { DATA_CONTAINER } from '../functions/src/storage/index.js';
import type { InstanceFilter } from '../functions/src/storage/repositories/instance-repository.js';
import { loadConfig } from '../platform/src/config/index.js';
import { type Database, openDatabase } from '../platform/src/db/index.js';
import { closedLoop, percentile } from './load.js';
import { createUploadRead, rawQueries, type SeedOptions, seedInstances } from './storage-work.js';

/** Body of `POST /raw`: a closed loop of raw create + upload + read operations. */
export interface RawRunRequest {
  seconds: number;
  concurrency: number;
  size: number;
  org: string;
  app: string;
  dataType: string;
  firstPartyId: number;
  parties: number;
}

/** Answer of `POST /raw`. */
export interface RawRunAnswer {
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstErrors: string[];
}

/** The database: PGlite under `dataDir`, or a schema of its own on the PostgreSQL server at `url`. */
async function openBenchDatabase(
  url: string | undefined,
  dataDir: string,
): Promise<{ db: Database; drop(): Promise<void> }> {
  if (!url) return { db: await openDatabase({ dataDir: path.join(dataDir, 'pglite') }), drop: async () => {} };
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ url, maxConnections: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const db = await openDatabase({ url, schema });
  return {
    db,
    async drop() {
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

async function readJson<T>(req: IncomingMessage): Promise<T> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return (text === '' ? {} : JSON.parse(text)) as T;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const controlPort = Number(process.env.BENCH_CONTROL_PORT);
  const { db, drop } = await openBenchDatabase(config.databaseUrl, config.dataDir);
  const host = await startFunctionsHost({ config, platform: { db } });
  const { platform } = host;
  const target = { db, blob: platform.blob, container: DATA_CONTAINER };
  await platform.blob.ensureContainer(DATA_CONTAINER);

  const routes: Record<string, (body: never) => Promise<unknown>> = {
    '/token': async (body: { org: string; scopes: string[] }) => ({
      token: await platform.auth.issuer.orgToken({ org: body.org, scopes: body.scopes }),
    }),
    '/raw': async (body: RawRunRequest): Promise<RawRunAnswer> => {
      const content = randomBytes(body.size);
      let next = 0;
      const result = await closedLoop(
        () =>
          createUploadRead(target, {
            org: body.org,
            app: body.app,
            dataType: body.dataType,
            partyId: String(body.firstPartyId + (next++ % body.parties)),
            content,
          }),
        body,
      );
      const { latenciesMs, ...rest } = result;
      return { ...rest, p50Ms: percentile(latenciesMs, 50), p99Ms: percentile(latenciesMs, 99) };
    },
    '/seed': async (body: SeedOptions) => {
      const t0 = performance.now();
      await seedInstances(db, body);
      return { ms: performance.now() - t0 };
    },
    '/query': async (body: { filters: InstanceFilter[]; expectRows: number }) => ({
      latenciesMs: await rawQueries(db, body.filters, body.expectRows),
    }),
  };
  const control = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (req.method === 'GET' && req.url === '/health') return answer(res, 200, { url: host.url });
    if (req.method !== 'POST' || route === undefined) return answer(res, 404, { error: `no ${req.method} ${req.url}` });
    readJson<never>(req)
      .then(route)
      .then(
        (body) => answer(res, 200, body),
        (err: unknown) => answer(res, 500, { error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  await new Promise<void>((resolve) => control.listen(controlPort, '127.0.0.1', resolve));
  console.log(JSON.stringify({ functions: host.url, control: `http://127.0.0.1:${controlPort}`, db: db.kind }));

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    control.close();
    host
      .close()
      .then(() => db.close())
      .then(drop)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`storage bench host failed to start: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
