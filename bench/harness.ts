/**
 * The harness the wrk benches share (edge, sla, egress): settings, a work folder cleaned up unless something
 * failed, the upstream and the bare pass-through Worker to compare with, an edge on `workerd serve`, and side-by-
 * side rounds of wrk over a list of targets (order rotated each round) summarised as medians.
 */
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
import { pinnedTo, removeAtExit } from './pinning.js';
import { type Baseline, markdownTable, type Summary, summarise, summaryLine } from './report.js';
import { positiveInt } from './settings.js';
import {
  type Binding,
  placeModule,
  readWranglerSettings,
  startWorkerd,
  type WranglerSettings,
  workerdConfig,
} from './workerd.js';
import { runWrk, type WrkLoad, type WrkResult } from './wrk.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, '..');
/** The path the benches request through the upstream (bench/upstream.ts answers it). */
export const PATH = '/bench/app/hello';

/** Settings of a bench run, from the environment. */
export interface BenchConfig {
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

/** The wrangler.toml settings (compatibility date and flags, vars) the edge runs with. */
export const wranglerSettings = (): WranglerSettings => readWranglerSettings(join(ROOT, 'wrangler.toml'));

/** One thing measured: a URL served by one of the bench's children, the headers wrk sends, what it is compared with. */
export interface Target {
  id: string;
  name: string;
  url: string;
  child: Supervised;
  baselines: Baseline[];
  headers?: Record<string, string>;
}

/** The machine, the load and the pinning, as each bench prints them first. */
export function banner(config: BenchConfig, work: string, pinned: string): void {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(
    `bench: ${cpus().length} cores, load ${load}; wrk 1 thread, ${config.connections} connections, ` +
      `${config.rounds} rounds x ${config.seconds} s, ${config.warmupSeconds} s warm-up; work dir ${work}`,
  );
  console.log(`  ${pinned}`);
}

/**
 * Runs `bench` in a fresh work folder (its children's logs); stops every child after, and removes the folder
 * unless the bench answers non-zero or throws (then the logs are kept and named).
 */
export async function inWorkDir(prefix: string, bench: (work: string) => Promise<number>): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const forget = removeAtExit(work);
  let keepWork = true;
  try {
    const code = await bench(work);
    keepWork = code !== 0;
    return code;
  } finally {
    await stopChildren();
    forget();
    if (!keepWork) rmSync(work, { recursive: true, force: true });
    else console.error(`logs kept in ${work}`);
  }
}

/** Throws with the child's log when it has exited. */
export function expectAlive(child: Supervised): void {
  if (!isAlive(child)) throw new Error(`${child.name} has exited:\n${logTail(child)}`);
}

/** bench/upstream.ts on a free port, pinned with the load side: the target every proxy passes through to. */
export async function startUpstream(work: string): Promise<Target & { port: string }> {
  const port = String(await freePort());
  const child = startChild('upstream', process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'upstream.ts'), port], {
    logDir: work,
    cwd: ROOT,
    ...pinnedTo('load'),
  });
  const url = `http://127.0.0.1:${port}${PATH}`;
  await waitForHttp(url, child, { timeoutMs: 15_000, ready: answering });
  return { id: 'upstream', name: 'upstream directly', url, child, baselines: [], port };
}

/** A bare pass-through Worker on the same workerd, to `upstreamPort`: what any Worker costs. */
export async function startBareWorker(work: string, upstreamPort: string, compat: string): Promise<Target> {
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
  const child = startWorkerd('workerd-bare', ROOT, dir, config, work);
  const url = `http://127.0.0.1:${port}${PATH}`;
  await waitForHttp(url, child, { timeoutMs: 15_000, ready: answering });
  return { id: 'bare', name: 'bare Worker pass-through (workerd)', url, child, baselines: [] };
}

/** An edge on workerd, its base URL and the admin token it was started with. */
export interface Edge {
  base: string;
  token: string;
  child: Supervised;
}

/** Options of {@link startEdge}. */
export interface EdgeOptions {
  /** Folder (under the work folder) and workerd name. */
  name: string;
  work: string;
  /** The bundled edge (bundleEdge). */
  entry: string;
  /** Vars over wrangler.toml's, local mode and the admin token. */
  vars?: Record<string, string>;
  /** Bindings beyond ROUTES and the vars (Durable Object namespaces). */
  bindings?: Binding[];
  /** Durable Object classes the edge's module exports and hosts. */
  durableObjects?: string[];
}

/**
 * The bundled edge on workerd with the bench's in-memory routes KV, wrangler.toml's vars, local mode and a random
 * admin token; waits until `/_edge/health` answers.
 */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const dir = join(options.work, options.name);
  const settings = wranglerSettings();
  const module = placeModule(options.entry, dir, 'index.js');
  const kvModule = placeModule(join(BENCH_DIR, 'workers', 'routes-kv.js'), dir, 'routes-kv.js');
  const token = randomBytes(24).toString('hex');
  const port = await freePort();
  // local mode: the bench's hex token need not be as varied as production asks (edge/src/mode)
  const vars = { ...settings.vars, PLATFORM_MODE: 'local', EDGE_ADMIN_TOKEN: token, ...options.vars };
  const config = workerdConfig(port, options.name, [
    {
      name: options.name,
      module,
      compatibilityDate: settings.compatibilityDate,
      compatibilityFlags: settings.compatibilityFlags,
      bindings: [
        { name: 'ROUTES', kvNamespace: 'routes-kv' },
        ...Object.entries(vars).map(([name, text]) => ({ name, text })),
        ...(options.bindings ?? []),
      ],
      ...(options.durableObjects ? { durableObjects: options.durableObjects } : {}),
    },
    {
      name: 'routes-kv',
      module: kvModule,
      compatibilityDate: settings.compatibilityDate,
      compatibilityFlags: [],
      bindings: [],
    },
  ]);
  const child = startWorkerd(`workerd-${options.name}`, ROOT, dir, config, options.work);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/_edge/health`, child, { timeoutMs: 15_000, ready: answering });
  return { base, token, child };
}

/** Calls the edge's admin API; answers the parsed body, throws on a status of 300 or more. */
export async function adminCall(edge: Edge, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${edge.base}/_edge${path}`, {
    method,
    headers: { authorization: `Bearer ${edge.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} /_edge${path} answered ${res.status}: ${text}`);
  return text === '' ? null : JSON.parse(text);
}

/** One wrk run against `target` (its headers sent), after checking its child still runs. */
export async function measure(target: Target, load: WrkLoad): Promise<WrkResult> {
  expectAlive(target.child);
  return runWrk(target.url, { ...load, ...(target.headers ? { headers: target.headers } : {}) });
}

/** One result line of a round. */
export function resultLine(name: string, width: number, r: WrkResult, extra = ''): string {
  const errors = r.non2xx + r.socketErrors > 0 ? `  !! ${r.non2xx} non-2xx, ${r.socketErrors} socket errors` : '';
  return (
    `  ${name.padEnd(width)}  ${Math.round(r.requestsPerSecond).toString().padStart(7)} req/s  ` +
    `p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${extra}${errors}`
  );
}

/**
 * Warm-up, then `config.rounds` rounds of wrk over `targets` side by side (order rotated each round so that no
 * target always runs first or last), then the medians and the markdown table against `baselineLabels`.
 */
export async function compareRounds(
  targets: Target[],
  config: BenchConfig,
  baselineLabels: string[],
): Promise<Summary[]> {
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
    const order = targets.map((_, i) => targets[(i + round) % targets.length]).filter((t) => t !== undefined);
    for (const target of order) {
      await sleep(300);
      const r = await measure(target, load);
      results.get(target.id)?.push(r);
      console.log(resultLine(target.name, width, r));
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
  console.log(markdownTable(summaries, baselineLabels));
  return summaries;
}

/** Names the targets with non-2xx answers or socket errors; answers the exit code (1 when any). */
export function errorsExitCode(summaries: Summary[]): number {
  const failed = summaries.filter((s) => s.errors > 0);
  if (failed.length === 0) return 0;
  console.error(`\nnon-2xx responses or socket errors in: ${failed.map((s) => s.name).join(', ')}`);
  return 1;
}

/** Runs `bench` when its file is the script node was started with (`tsx bench/{name}.ts`). */
export function runWhenMain(file: string, bench: () => Promise<number>): void {
  if (!process.argv[1]?.endsWith(file)) return;
  bench().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 1;
    },
  );
}
