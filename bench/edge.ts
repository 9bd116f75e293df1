/**
 * `npm run bench -- edge`: the edge Worker on `workerd serve`, measured side by side in one run against
 * the upstream directly, a bare pass-through Worker on the same workerd, and nginx (see README.md).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
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
import { findNginx, startNginx } from './nginx.js';
import { pinnedTo, pinning, removeAtExit } from './pinning.js';
import { type Baseline, markdownTable, summarise, summaryLine } from './report.js';
import { positiveInt } from './settings.js';
import { reportFigures, wrkFigures } from './summary.js';
import { UPSTREAM_BODY } from './upstream.js';
import { bundleEdge, placeModule, readWranglerSettings, startWorkerd, workerdConfig } from './workerd.js';
import { hasWrk, runWrk, type WrkLoad, type WrkResult } from './wrk.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const PATH = '/bench/app/hello';

/**
 * Installs wrk and nginx from Debian when running as root on a machine with apt-get, so that
 * `npm run bench` works on a fresh machine; otherwise leaves it to the message below.
 */
function installLoadTools(): void {
  if (process.getuid?.() !== 0) return;
  console.log('wrk is missing: installing wrk and nginx-light from Debian (apt-get)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk', 'nginx-light'], { stdio: 'inherit', env });
  } catch (err) {
    console.error(`apt-get failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Settings of a bench run, from the environment. */
interface BenchConfig {
  seconds: number;
  rounds: number;
  connections: number;
  warmupSeconds: number;
}

/** Reads BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS and BENCH_WARMUP_SECONDS, failing fast on bad values. */
export function loadConfig(): BenchConfig {
  return {
    seconds: positiveInt('BENCH_SECONDS', 5),
    rounds: positiveInt('BENCH_ROUNDS', 3),
    connections: positiveInt('BENCH_CONNECTIONS', 32),
    warmupSeconds: positiveInt('BENCH_WARMUP_SECONDS', 2),
  };
}

/** One thing measured: a URL served by one of the bench's children. */
interface Target {
  id: string;
  name: string;
  url: string;
  child: Supervised;
  baselines: Baseline[];
}

const DIRECT: Baseline = { target: 'upstream', label: 'vs direct' };
const BARE: Baseline = { target: 'bare', label: 'vs bare Worker', goal: 0.8 };

async function expectUpstreamBody(target: Target, viaEntry?: string): Promise<void> {
  const res = await fetch(target.url, { signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  const via = res.headers.get('via');
  const problems = [
    res.status === 200 ? '' : `status ${res.status}`,
    body === UPSTREAM_BODY ? '' : `body ${JSON.stringify(body.slice(0, 200))}`,
    viaEntry === undefined || (via ?? '').includes(viaEntry) ? '' : `via ${JSON.stringify(via)}`,
  ].filter((p) => p !== '');
  if (problems.length > 0) {
    throw new Error(`${target.name} at ${target.url} did not pass the upstream through: ${problems.join(', ')}`);
  }
  console.log(`  ok  ${target.name}: 200, ${body.length}-byte upstream body${viaEntry ? `, via: ${via}` : ''}`);
}

async function startUpstream(logDir: string): Promise<Target> {
  const port = await freePort();
  const child = startChild(
    'upstream',
    process.execPath,
    ['--import', 'tsx', join(BENCH_DIR, 'upstream.ts'), String(port)],
    { logDir, cwd: ROOT, ...pinnedTo('load') },
  );
  const url = `http://127.0.0.1:${port}${PATH}`;
  await waitForHttp(url, child, { timeoutMs: 15_000, ready: answering });
  return { id: 'upstream', name: 'upstream directly', url, child, baselines: [DIRECT] };
}

async function startBareWorker(work: string, logDir: string, upstreamPort: string, compat: string): Promise<Target> {
  const dir = join(work, 'bare');
  const module = placeModule(join(BENCH_DIR, 'workers', 'pass-through.js'), dir, 'pass-through.js');
  const port = await freePort();
  const config = workerdConfig(port, 'bare', [
    {
      name: 'bare',
      module,
      compatibilityDate: compat,
      compatibilityFlags: [],
      bindings: [{ name: 'UPSTREAM', text: `http://127.0.0.1:${upstreamPort}` }],
    },
  ]);
  const child = startWorkerd('workerd-bare', ROOT, dir, config, logDir);
  const url = `http://127.0.0.1:${port}${PATH}`;
  await waitForHttp(url, child, { timeoutMs: 15_000, ready: answering });
  return { id: 'bare', name: 'bare Worker pass-through (workerd)', url, child, baselines: [DIRECT] };
}

async function startEdge(work: string, logDir: string, upstreamPort: string): Promise<Target> {
  const dir = join(work, 'edge');
  const settings = readWranglerSettings(join(ROOT, 'wrangler.toml'));
  const entry = await bundleEdge(ROOT, join(work, 'edge-bundle'));
  const module = placeModule(entry, dir, 'index.js');
  const kvModule = placeModule(join(BENCH_DIR, 'workers', 'routes-kv.js'), dir, 'routes-kv.js');
  const token = randomBytes(24).toString('hex');
  const port = await freePort();
  const config = workerdConfig(port, 'edge', [
    {
      name: 'edge',
      module,
      compatibilityDate: settings.compatibilityDate,
      compatibilityFlags: settings.compatibilityFlags,
      bindings: [
        { name: 'ROUTES', kvNamespace: 'routes-kv' },
        ...Object.entries(settings.vars).map(([name, value]) => ({ name, text: value })),
        // local mode: the bench's hex token need not be as varied as production asks (edge/src/mode)
        { name: 'PLATFORM_MODE', text: 'local' },
        { name: 'EDGE_ADMIN_TOKEN', text: token },
      ],
    },
    {
      name: 'routes-kv',
      module: kvModule,
      compatibilityDate: settings.compatibilityDate,
      compatibilityFlags: [],
      bindings: [],
    },
  ]);
  const child = startWorkerd('workerd-edge', ROOT, dir, config, logDir);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/_edge/health`, child, { timeoutMs: 15_000, ready: answering });
  const put = await fetch(`${base}/_edge/routes/bench`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clusterBase: `http://127.0.0.1:${upstreamPort}` }),
  });
  if (put.status !== 201 && put.status !== 200) {
    throw new Error(`edge admin PUT /_edge/routes/bench answered ${put.status}: ${await put.text()}`);
  }
  await put.arrayBuffer();
  console.log(
    `  edge: compatibility_date ${settings.compatibilityDate}, flags [${settings.compatibilityFlags.join(', ')}], ` +
      `route bench -> 127.0.0.1:${upstreamPort} registered through the admin API (${put.status})`,
  );
  return {
    id: 'edge',
    name: 'edge Worker (workerd)',
    url: `${base}${PATH}`,
    child,
    baselines: [DIRECT, BARE],
  };
}

async function measure(target: Target, load: WrkLoad): Promise<WrkResult> {
  if (!isAlive(target.child)) throw new Error(`${target.child.name} has exited:\n${logTail(target.child)}`);
  return runWrk(target.url, load);
}

/** Runs the edge bench; answers the exit code (0 when every answer was 2xx). */
export async function runEdgeBench(): Promise<number> {
  if (!hasWrk()) installLoadTools();
  if (!hasWrk()) {
    console.error('wrk is not installed. Install it (and nginx for the reference proxy) with:');
    console.error('  apt-get update && apt-get install -y wrk nginx-light');
    return 1;
  }
  const config = loadConfig();
  const work = mkdtempSync(join(tmpdir(), 'edge-bench-'));
  const forget = removeAtExit(work);
  const logDir = work;
  let keepWork = true;
  try {
    console.log(
      `bench: ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; wrk 1 thread, ${config.connections} connections, ` +
        `${config.rounds} rounds x ${config.seconds} s, ${config.warmupSeconds} s warm-up; work dir ${work}`,
    );
    console.log(
      pinning.on
        ? `  pinned: proxies (workerd, nginx) on core ${pinning.cores.proxy}, wrk and the upstream on core ${pinning.cores.load} (BENCH_PIN=0 to turn off)`
        : '  not pinned to cores (BENCH_PIN=0, one core, or no taskset)',
    );
    const upstream = await startUpstream(logDir);
    const upstreamPort = new URL(upstream.url).port;
    const settings = readWranglerSettings(join(ROOT, 'wrangler.toml'));
    const targets: Target[] = [upstream];
    const nginx = findNginx();
    if (nginx === undefined) {
      console.log('  note: nginx not installed, skipping the reference proxy (apt-get install -y nginx-light)');
    } else {
      const port = await freePort();
      const child = startNginx(nginx, port, Number(upstreamPort), join(work, 'nginx'), logDir);
      const url = `http://127.0.0.1:${port}${PATH}`;
      await waitForHttp(url, child, { timeoutMs: 15_000, ready: answering });
      targets.push({ id: 'nginx', name: 'nginx pass-through (keepalive)', url, child, baselines: [DIRECT] });
    }
    targets.push(await startBareWorker(work, logDir, upstreamPort, settings.compatibilityDate));
    targets.push(await startEdge(work, logDir, upstreamPort));

    console.log('verify:');
    for (const target of targets) {
      await expectUpstreamBody(
        target,
        target.id === 'edge' ? `1.1 ${settings.vars.EDGE_NAME ?? 'altinn-edge'}` : undefined,
      );
    }

    const load: WrkLoad = { seconds: config.seconds, connections: config.connections, threads: 1 };
    console.log('warm-up:');
    for (const target of targets) {
      const r = await measure(target, { ...load, seconds: config.warmupSeconds });
      console.log(`  ${target.name}: ${Math.round(r.requestsPerSecond)} req/s`);
    }

    const results = new Map<string, WrkResult[]>(targets.map((t) => [t.id, []]));
    const width = Math.max(...targets.map((t) => t.name.length));
    for (let round = 0; round < config.rounds; round++) {
      console.log(`round ${round + 1}/${config.rounds}:`);
      // rotate the order each round so that no target always runs first or last
      const order = targets.map((_, i) => targets[(i + round) % targets.length]).filter((t) => t !== undefined);
      for (const target of order) {
        await sleep(300);
        const r = await measure(target, load);
        results.get(target.id)?.push(r);
        const errors = r.non2xx + r.socketErrors > 0 ? `  !! ${r.non2xx} non-2xx, ${r.socketErrors} socket errors` : '';
        console.log(
          `  ${target.name.padEnd(width)}  ${Math.round(r.requestsPerSecond).toString().padStart(7)} req/s  ` +
            `p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${errors}`,
        );
      }
    }

    const names = new Map(targets.map((t) => [t.id, t.name]));
    const baselines = new Map(targets.map((t) => [t.id, t.baselines]));
    const summaries = summarise(names, results, baselines);
    console.log(`\nmedians of ${config.rounds} rounds:`);
    for (const s of summaries) console.log(summaryLine(s, width));
    console.log('');
    console.log(markdownTable(summaries, [DIRECT.label, BARE.label]));
    reportFigures('edge', wrkFigures(summaries));
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
    forget();
    if (!keepWork) rmSync(work, { recursive: true, force: true });
    else console.error(`logs kept in ${work}`);
  }
}
