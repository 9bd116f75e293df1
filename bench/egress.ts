/**
 * `npm run bench -- egress`: the egress proxy's overhead. The edge Worker runs on `workerd serve`
 * (bundled by `wrangler deploy --dry-run`, no development proxy) and an app calls the loopback
 * upstream through `/_egress/http/127.0.0.1:{port}/...` with its PlatformAccessToken, a header
 * credential injected; measured in the same run against the upstream directly and a bare
 * pass-through Worker on the same workerd, with and without the audit log (a SQLite Durable Object).
 * The loopback upstream is reachable only through EGRESS_DEV_LOOPBACK_PORTS, the development allowance.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  answering,
  freePort,
  isAlive,
  logTail,
  runChild,
  type Supervised,
  startChild,
  stopChildren,
  waitForHttp,
} from '../scripts/processes.js';
import { loadConfig } from './edge.js';
import { pinnedTo, pinning, removeAtExit } from './pinning.js';
import { type Baseline, markdownTable, type Summary, summarise, summaryLine } from './report.js';
import { reportFigures, wrkFigures } from './summary.js';
import { UPSTREAM_BODY } from './upstream.js';
import {
  bundleEdge,
  DO_STORAGE_SERVICE,
  placeModule,
  readWranglerSettings,
  startWorkerd,
  workerdConfig,
} from './workerd.js';
import { hasWrk, parseWrk, type WrkResult } from './wrk.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const PATH = '/bench/app/hello';

/** One thing measured: a URL, the headers wrk sends, and the child serving it. */
interface Target {
  id: string;
  name: string;
  url: string;
  headers: Record<string, string>;
  child: Supervised;
  baselines: Baseline[];
}

const DIRECT: Baseline = { target: 'upstream', label: 'vs target directly' };
const BARE: Baseline = { target: 'bare', label: 'vs bare Worker' };

/** The platform's JWKS, served by the bench itself (fetched once per isolate), and a token for the app. */
async function startPlatformKeys(): Promise<{ server: Server; jwksUrl: string; token: string }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const token = await new SignJWT({
    'urn:altinn:org': 'bench',
    'urn:altinn:app': 'app',
    aud: 'urn:altinn-platform:access-token',
    sub: 'bench/app',
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { server, jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, token };
}

const text = (value: string): string => JSON.stringify(value);

/** The edge on workerd with its KV service and, when `audit`, the audit Durable Object (SQLite, in memory). */
function edgeConfig(
  port: number,
  module: string,
  kvModule: string,
  bindings: [string, string][],
  audit: boolean,
  compat: string,
  flags: string[],
): string {
  const textBindings = bindings.map(([name, value]) => `    (name = ${text(name)}, text = ${text(value)}),`);
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "routes-kv", worker = .kv),
${audit ? `    ${DO_STORAGE_SERVICE}` : ''}
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = ${text(`127.0.0.1:${port}`)}, http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  modules = [(name = ${text(module)}, esModule = embed ${text(module)})],
  compatibilityDate = ${text(compat)},
  compatibilityFlags = [${flags.map(text).join(', ')}],
  bindings = [
    (name = "ROUTES", kvNamespace = "routes-kv"),
${textBindings.join('\n')}
${audit ? '    (name = "EGRESS_AUDIT", durableObjectNamespace = "EgressAudit"),' : ''}
  ],
${audit ? '  durableObjectNamespaces = [(className = "EgressAudit", uniqueKey = "egress-audit-bench", enableSql = true)],\n  durableObjectStorage = (localDisk = "do-storage"),' : ''}
);

const kv :Workerd.Worker = (
  modules = [(name = ${text(kvModule)}, esModule = embed ${text(kvModule)})],
  compatibilityDate = ${text(compat)},
);
`;
}

async function admin(base: string, token: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${base}/_edge/egress${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`PUT /_edge/egress${path}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

async function startEgressEdge(
  id: string,
  work: string,
  logDir: string,
  entry: string,
  upstreamPort: string,
  keys: { jwksUrl: string; token: string },
  audit: boolean,
): Promise<Target> {
  const dir = join(work, id);
  const settings = readWranglerSettings(join(ROOT, 'wrangler.toml'));
  const module = placeModule(entry, dir, 'index.js');
  const kvModule = placeModule(join(BENCH_DIR, 'workers', 'routes-kv.js'), dir, 'routes-kv.js');
  const adminToken = randomBytes(24).toString('hex');
  const port = await freePort();
  const vars: Record<string, string> = {
    ...settings.vars,
    // local mode: the loopback upstream, the DNS map and the http JWKS are development-only settings (edge/src/mode)
    PLATFORM_MODE: 'local',
    EDGE_ADMIN_TOKEN: adminToken,
    EGRESS_JWKS_URL: keys.jwksUrl,
    EGRESS_CREDENTIALS_KEY: randomBytes(32).toString('base64'),
    EGRESS_DNS: '{}',
    EGRESS_DEV_LOOPBACK_PORTS: upstreamPort,
  };
  const config = edgeConfig(
    port,
    module,
    kvModule,
    Object.entries(vars),
    audit,
    settings.compatibilityDate,
    settings.compatibilityFlags,
  );
  const child = startWorkerd(`workerd-${id}`, ROOT, dir, config, logDir);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/_edge/health`, child, { timeoutMs: 15_000, ready: answering });
  await admin(base, adminToken, '/bench/targets/upstream', {
    scheme: 'http',
    host: '127.0.0.1',
    ports: [Number(upstreamPort)],
    pathPrefixes: ['/bench/'],
  });
  await admin(base, adminToken, '/bench/targets/upstream/credential', {
    type: 'header',
    name: 'x-api-key',
    value: 'bench-secret',
  });
  return {
    id,
    name: audit ? 'egress via edge (workerd, audit on)' : 'egress via edge (workerd, no audit)',
    url: `${base}/_egress/http/127.0.0.1:${upstreamPort}${PATH}`,
    headers: { PlatformAccessToken: keys.token },
    child,
    baselines: [DIRECT, BARE],
  };
}

async function measure(target: Target, seconds: number, connections: number): Promise<WrkResult> {
  if (!isAlive(target.child)) throw new Error(`${target.child.name} has exited:\n${logTail(target.child)}`);
  const headerArgs = Object.entries(target.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', ...headerArgs, target.url];
  const { code, stdout, stderr } = await runChild('wrk', 'wrk', args, {
    timeoutMs: (seconds + 15) * 1_000,
    ...pinnedTo('load'),
  });
  if (code !== 0) throw new Error(`wrk exited ${code}:\n${stderr}${stdout}`);
  return parseWrk(stdout);
}

async function verify(target: Target): Promise<void> {
  const res = await fetch(target.url, { headers: target.headers, signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  if (res.status !== 200 || body !== UPSTREAM_BODY) {
    throw new Error(
      `${target.name} at ${target.url}: status ${res.status}, body ${JSON.stringify(body.slice(0, 300))}`,
    );
  }
  console.log(`  ok  ${target.name}: 200, ${body.length}-byte upstream body`);
}

/**
 * The headline: each egress path's requests/s as a share of calling the same target directly (the
 * overhead the issue asks for) and of the bare Worker, with the added median latency.
 */
function overheadLines(summaries: Summary[], targets: Target[]): string[] {
  const byId = new Map(targets.map((t, i) => [t.id, summaries[i]]));
  const direct = byId.get(DIRECT.target);
  const lines = ['egress overhead (ratios of median requests/s, measured side by side in this run):'];
  for (const t of targets) {
    const s = byId.get(t.id);
    if (s === undefined || direct === undefined || !t.id.startsWith('egress')) continue;
    const ratio = (label: string) => s.ratios.find((r) => r.label === label)?.value.toFixed(2) ?? '?';
    lines.push(
      `  ${s.name}: ${ratio(DIRECT.label)} of calling the target directly, ${ratio(BARE.label)} of the bare Worker; ` +
        `p50 +${(s.p50Ms - direct.p50Ms).toFixed(2)} ms over direct`,
    );
  }
  return lines;
}

/** Runs the egress bench; answers the exit code (0 when every answer was 2xx). */
export async function runEgressBench(): Promise<number> {
  if (!hasWrk()) {
    console.error('wrk is not installed: apt-get update && apt-get install -y wrk');
    return 1;
  }
  const config = loadConfig();
  const work = mkdtempSync(join(tmpdir(), 'egress-bench-'));
  const forget = removeAtExit(work);
  let keepWork = true;
  const keys = await startPlatformKeys();
  try {
    console.log(
      `bench: ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )}; wrk 1 thread, ${config.connections} connections, ${config.rounds} rounds x ${config.seconds} s; work dir ${work}`,
    );
    if (pinning.on)
      console.log(
        `  pinned: workerd on core ${pinning.cores.proxy}, wrk and the upstream on core ${pinning.cores.load}`,
      );
    const upstreamPort = String(await freePort());
    const upstreamChild = startChild(
      'upstream',
      process.execPath,
      ['--import', 'tsx', join(BENCH_DIR, 'upstream.ts'), upstreamPort],
      {
        logDir: work,
        cwd: ROOT,
        ...pinnedTo('load'),
      },
    );
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}${PATH}`;
    await waitForHttp(upstreamUrl, upstreamChild, { timeoutMs: 15_000, ready: answering });
    const settings = readWranglerSettings(join(ROOT, 'wrangler.toml'));
    const bareDir = join(work, 'bare');
    const bareModule = placeModule(join(BENCH_DIR, 'workers', 'pass-through.js'), bareDir, 'pass-through.js');
    const barePort = await freePort();
    const bareChild = startWorkerd(
      'workerd-bare',
      ROOT,
      bareDir,
      workerdConfig(barePort, 'bare', [
        {
          name: 'bare',
          module: bareModule,
          compatibilityDate: settings.compatibilityDate,
          compatibilityFlags: [],
          bindings: [{ name: 'UPSTREAM', text: `http://127.0.0.1:${upstreamPort}` }],
        },
      ]),
      work,
    );
    await waitForHttp(`http://127.0.0.1:${barePort}${PATH}`, bareChild, { timeoutMs: 15_000, ready: answering });
    const entry = await bundleEdge(ROOT, join(work, 'edge-bundle'));
    const targets: Target[] = [
      {
        id: 'upstream',
        name: 'upstream directly',
        url: upstreamUrl,
        headers: {},
        child: upstreamChild,
        baselines: [DIRECT],
      },
      {
        id: 'bare',
        name: 'bare Worker pass-through (workerd)',
        url: `http://127.0.0.1:${barePort}${PATH}`,
        headers: {},
        child: bareChild,
        baselines: [DIRECT],
      },
      await startEgressEdge('egress', work, work, entry, upstreamPort, keys, true),
      await startEgressEdge('egress-noaudit', work, work, entry, upstreamPort, keys, false),
    ];
    console.log('verify:');
    for (const target of targets) await verify(target);
    console.log('warm-up:');
    for (const target of targets) {
      const r = await measure(target, config.warmupSeconds, config.connections);
      console.log(`  ${target.name}: ${Math.round(r.requestsPerSecond)} req/s`);
    }
    const results = new Map<string, WrkResult[]>(targets.map((t) => [t.id, []]));
    const width = Math.max(...targets.map((t) => t.name.length));
    for (let round = 0; round < config.rounds; round++) {
      console.log(`round ${round + 1}/${config.rounds}:`);
      const order = targets.map((_, i) => targets[(i + round) % targets.length]).filter((t) => t !== undefined);
      for (const target of order) {
        await sleep(300);
        const r = await measure(target, config.seconds, config.connections);
        results.get(target.id)?.push(r);
        const errors = r.non2xx + r.socketErrors > 0 ? `  !! ${r.non2xx} non-2xx, ${r.socketErrors} socket errors` : '';
        console.log(
          `  ${target.name.padEnd(width)}  ${Math.round(r.requestsPerSecond).toString().padStart(7)} req/s  ` +
            `p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${errors}`,
        );
      }
    }
    const summaries = summarise(
      new Map(targets.map((t) => [t.id, t.name])),
      results,
      new Map(targets.map((t) => [t.id, t.baselines])),
    );
    console.log(`\nmedians of ${config.rounds} rounds:`);
    for (const s of summaries) console.log(summaryLine(s, width));
    console.log('');
    console.log(markdownTable(summaries, [DIRECT.label, BARE.label]));
    reportFigures('egress', wrkFigures(summaries));
    console.log(`\n${overheadLines(summaries, targets).join('\n')}`);
    const failed = summaries.filter((s) => s.errors > 0);
    keepWork = failed.length > 0;
    if (failed.length > 0) {
      console.error(
        `\nnon-2xx responses or socket errors in: ${failed.map((s) => s.name).join(', ')}; logs in ${work}`,
      );
      return 1;
    }
    return 0;
  } finally {
    await stopChildren();
    keys.server.close();
    forget();
    if (!keepWork) rmSync(work, { recursive: true, force: true });
    else console.error(`logs kept in ${work}`);
  }
}

if (process.argv[1]?.endsWith('egress.ts')) {
  runEgressBench().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 1;
    },
  );
}
