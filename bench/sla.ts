/**
 * `npm run bench -- sla`: API management at the edge, on `workerd serve` (see BENCHMARKS.md).
 * - accuracy: wrk's connections hammer one key with a sliding-window limit for a fixed time; a
 *   counting upstream says how many got through, against the most the limit allows (over-admission
 *   must be 0), for one limiter object and for a key sharded over 4;
 * - limiter decisions/s: every request refused by its limiter (limit 0), so each is one decision
 *   and no upstream call, for one object and for a key sharded over 8;
 * - proxy throughput with enforcement off (the edge without the SLA bindings) and on (metrics and
 *   breaker only; a rate limit; rate + quota + concurrency cap), side by side in the same rounds.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Supervised } from '../scripts/processes.js';
import {
  adminCall,
  banner,
  type Edge,
  expectAlive,
  inWorkDir,
  loadConfig,
  ROOT,
  resultLine,
  runWhenMain,
  startEdge,
  startUpstream,
} from './harness.js';
import { pinning } from './pinning.js';
import { type Baseline, markdownTable, median, summarise, summaryLine } from './report.js';
import { reportFigures, wrkFigures } from './summary.js';
import { bundleEdge } from './workerd.js';
import { hasWrk, runWrk, type WrkLoad, type WrkResult } from './wrk.js';

const SLA_CLASSES = ['SlaLimiter', 'CircuitBreaker', 'SlaMetrics'];

/** The bundled edge on workerd, with the SLA's Durable Objects bound when `withSla`. */
function startSlaEdge(name: string, work: string, entry: string, withSla: boolean): Promise<Edge> {
  if (!withSla) return startEdge({ name, work, entry });
  return startEdge({
    name,
    work,
    entry,
    bindings: [
      { name: 'SLA_LIMITER', durableObjectClass: 'SlaLimiter' },
      { name: 'SLA_BREAKER', durableObjectClass: 'CircuitBreaker' },
      { name: 'SLA_METRICS', durableObjectClass: 'SlaMetrics' },
    ],
    durableObjects: SLA_CLASSES,
  });
}

/** Creates a plan and a consumer on it; answers the consumer's primary key. */
async function consumerOn(edge: Edge, id: string, plan: unknown): Promise<string> {
  await adminCall(edge, 'PUT', `/plans/${id}`, plan);
  const created = (await adminCall(edge, 'PUT', `/consumers/${id}`, { plan: id })) as { keys: { primary: string } };
  return created.keys.primary;
}

/** A loopback upstream in this process that counts what reaches it: the truth of what was admitted. */
async function countingUpstream(): Promise<{ server: Server; port: number; count: () => number; reset: () => void }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
    res.end('ok\n');
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    count: () => hits,
    reset: () => {
      hits = 0;
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(child: Supervised): number {
  try {
    const stat = readFileSync(`/proc/${child.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/** Runs wrk and measures the edge's CPU time per request during it: steadier than req/s on a shared machine. */
async function measured(
  url: string,
  load: WrkLoad,
  edge: Supervised,
): Promise<WrkResult & { cpuUsPerRequest: number }> {
  const before = cpuSeconds(edge);
  const r = await runWrk(url, load);
  return { ...r, cpuUsPerRequest: ((cpuSeconds(edge) - before) * 1e6) / r.requests };
}

/** One accuracy line. */
interface Accuracy {
  name: string;
  limit: number;
  windowSeconds: number;
  seconds: number;
  connections: number;
  attempted: number;
  admitted: number;
  allowed: number;
  over: number;
}

/** Runs the SLA bench; answers the exit code (non-zero when anything was over-admitted or failed). */
export async function runSlaBench(): Promise<number> {
  if (!hasWrk()) {
    console.error('wrk is not installed: apt-get update && apt-get install -y wrk');
    return 1;
  }
  const config = loadConfig();
  const counting = await countingUpstream();
  try {
    return await inWorkDir('sla-bench', (work) => slaRounds(work, config, counting));
  } finally {
    counting.server.close();
    counting.server.closeAllConnections();
  }
}

async function slaRounds(
  work: string,
  config: ReturnType<typeof loadConfig>,
  counting: Awaited<ReturnType<typeof countingUpstream>>,
): Promise<number> {
  banner(config, work, pinning.on ? 'workerd pinned to core 1, wrk and upstream to core 0' : 'not pinned');
  const upstreamPort = (await startUpstream(work)).port;
  const entry = await bundleEdge(ROOT, join(work, 'edge-bundle'));
  const off = await startSlaEdge('edge-off', work, entry, false);
  const on = await startSlaEdge('edge-sla', work, entry, true);
  for (const edge of [off, on]) {
    await adminCall(edge, 'PUT', '/routes/bench', { clusterBase: `http://127.0.0.1:${upstreamPort}` });
  }
  await adminCall(on, 'PUT', '/routes/acc', { clusterBase: `http://127.0.0.1:${counting.port}` });

  const rateKey = await consumerOn(on, 'bench-rate', { rate: [{ limit: 100_000, windowSeconds: 1 }] });
  const batchKey = await consumerOn(on, 'bench-batch', { rate: [{ limit: 100_000, windowSeconds: 1 }], batch: 64 });
  const capKey = await consumerOn(on, 'bench-cap', { concurrency: 10_000 });
  const quotaKey = await consumerOn(on, 'bench-quota', { quota: { period: 'month', calls: 1_000_000_000 } });
  const fullKey = await consumerOn(on, 'bench-full', {
    rate: [
      { limit: 100_000, windowSeconds: 1 },
      { limit: 100_000, windowSeconds: 60 },
    ],
    quota: { period: 'month', calls: 1_000_000_000 },
    concurrency: 10_000,
  });
  const decideKey = await consumerOn(on, 'decide-1', { rate: [{ limit: 0, windowSeconds: 60 }] });
  const decideShardedKey = await consumerOn(on, 'decide-8', { rate: [{ limit: 0, windowSeconds: 60 }], shards: 8 });

  const path = '/bench/app/hello';
  const targets: { id: string; name: string; url: string; child: Supervised; baselines: Baseline[] }[] = [
    { id: 'off', name: 'edge, SLA off (no bindings)', url: `${off.base}${path}`, child: off.child, baselines: [] },
  ];
  const OFF: Baseline = { target: 'off', label: 'vs SLA off', goal: 0.88 };
  targets.push(
    {
      id: 'bound',
      name: 'edge, SLA on, no plan (metrics+breaker)',
      url: `${on.base}${path}`,
      child: on.child,
      baselines: [OFF],
    },
    {
      id: 'rate',
      name: 'edge, SLA on, rate limit',
      url: `${on.base}${path}?subscription-key=${rateKey}`,
      child: on.child,
      baselines: [OFF],
    },
    {
      id: 'batch',
      name: 'edge, SLA on, rate limit, batch 64',
      url: `${on.base}${path}?subscription-key=${batchKey}`,
      child: on.child,
      baselines: [OFF],
    },
    {
      id: 'cap',
      name: 'edge, SLA on, concurrency cap',
      url: `${on.base}${path}?subscription-key=${capKey}`,
      child: on.child,
      baselines: [OFF],
    },
    {
      id: 'quota',
      name: 'edge, SLA on, call quota',
      url: `${on.base}${path}?subscription-key=${quotaKey}`,
      child: on.child,
      baselines: [OFF],
    },
    {
      id: 'full',
      name: 'edge, SLA on, rate+quota+concurrency',
      url: `${on.base}${path}?subscription-key=${fullKey}`,
      child: on.child,
      baselines: [OFF],
    },
  );
  console.log('verify:');
  for (const t of targets) {
    const res = await fetch(t.url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${t.name}: status ${res.status}`);
    console.log(
      `  ok  ${t.name}: 200${res.headers.get('ratelimit') ? `, RateLimit: ${res.headers.get('ratelimit')}` : ''}`,
    );
  }
  const refused = await fetch(`${on.base}${path}?subscription-key=${decideKey}`);
  await refused.arrayBuffer();
  if (refused.status !== 429) throw new Error(`limit 0 answered ${refused.status}, not 429`);

  const load: WrkLoad = { seconds: config.seconds, connections: config.connections, threads: 1 };
  console.log('warm-up:');
  for (const t of targets) {
    const r = await runWrk(t.url, { ...load, seconds: config.warmupSeconds });
    console.log(`  ${t.name}: ${Math.round(r.requestsPerSecond)} req/s`);
  }
  const results = new Map<string, WrkResult[]>(targets.map((t) => [t.id, []]));
  const cpu = new Map<string, number[]>(targets.map((t) => [t.id, []]));
  const decisions = new Map<string, WrkResult[]>([
    ['one', []],
    ['sharded', []],
  ]);
  const decisionCpu = new Map<string, number[]>([
    ['one', []],
    ['sharded', []],
  ]);
  const width = Math.max(...targets.map((t) => t.name.length));
  for (let round = 0; round < config.rounds; round++) {
    console.log(`round ${round + 1}/${config.rounds}:`);
    const order = targets.map((_, i) => targets[(i + round) % targets.length]).filter((t) => t !== undefined);
    for (const t of order) {
      expectAlive(t.child);
      await sleep(300);
      const r = await measured(t.url, load, t.child);
      results.get(t.id)?.push(r);
      cpu.get(t.id)?.push(r.cpuUsPerRequest);
      console.log(resultLine(t.name, width, r, `  edge CPU ${r.cpuUsPerRequest.toFixed(0)} us/request`));
    }
    for (const [id, key] of [
      ['one', decideKey],
      ['sharded', decideShardedKey],
    ] as const) {
      await sleep(300);
      const r = await measured(`${on.base}${path}?subscription-key=${key}`, load, on.child);
      decisions.get(id)?.push(r);
      decisionCpu.get(id)?.push(r.cpuUsPerRequest);
      console.log(
        `  limiter decisions (${id === 'one' ? '1 object' : '8 shards'})  ${Math.round(r.requestsPerSecond)} /s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  (${r.non2xx}/${r.requests} refused)`,
      );
    }
  }

  console.log('accuracy (sliding window, 64 connections, counting upstream):');
  const accuracy: Accuracy[] = [];
  const limit = 500;
  const windowSeconds = 2;
  const seconds = 5;
  for (const [name, shards, batch] of [
    ['1 object', 1, 1],
    ['4 shards', 4, 1],
    ['1 object, batch 32', 1, 32],
  ] as const) {
    for (let run = 0; run < config.rounds; run++) {
      const id = `acc-${shards}-${batch}-${run}`;
      const key = await consumerOn(on, id, { rate: [{ limit, windowSeconds }], shards, batch });
      counting.reset();
      const r = await runWrk(`${on.base}/acc/app/x?subscription-key=${key}`, {
        seconds,
        connections: 64,
        threads: 1,
      });
      await sleep(500);
      const admitted = counting.count();
      // a sliding window admits at most `limit` in any `windowSeconds`: over `seconds` from the first admission, limit x ceil(seconds / window)
      const allowed = limit * Math.ceil(seconds / windowSeconds);
      const a: Accuracy = {
        name,
        limit,
        windowSeconds,
        seconds,
        connections: 64,
        attempted: r.requests,
        admitted,
        allowed,
        over: Math.max(admitted - allowed, 0),
      };
      accuracy.push(a);
      console.log(
        `  ${name}, run ${run + 1}: ${a.attempted} requests in ${seconds} s, ${admitted} admitted (2xx by wrk: ${r.requests - r.non2xx}), at most ${allowed} allowed: over-admission ${a.over}`,
      );
    }
  }

  const names = new Map(targets.map((t) => [t.id, t.name]));
  const summaries = summarise(names, results, new Map(targets.map((t) => [t.id, t.baselines])));
  console.log(`\nmedians of ${config.rounds} rounds:`);
  for (const s of summaries) console.log(summaryLine(s, width));
  const offCpu = median(cpu.get('off') ?? []);
  console.log('\nedge CPU per request (medians; steadier than req/s when other work shares the cores):');
  for (const t of targets) {
    const us = median(cpu.get(t.id) ?? []);
    console.log(
      `  ${t.name.padEnd(width)}  ${us.toFixed(0).padStart(5)} us  ${t.id === 'off' ? '' : `x${(us / offCpu).toFixed(2)} of SLA off; throughput bound ${(offCpu / us).toFixed(2)} of SLA off`}`,
    );
  }
  for (const [id, runs] of decisions) {
    console.log(
      `limiter decision CPU (${id}): ${median(decisionCpu.get(id) ?? []).toFixed(0)} us (edge + object, one process)`,
    );
    console.log(
      `limiter decisions/s, ${id === 'one' ? 'one object' : 'key sharded over 8'}: ${Math.round(median(runs.map((r) => r.requestsPerSecond)))} (HTTP through the edge, all refused, no upstream)`,
    );
  }
  console.log('');
  console.log(markdownTable(summaries, [OFF.label]));
  console.log('');
  console.log('| accuracy | limit | requests | admitted | most allowed | over-admission |');
  console.log('|---|---|---|---|---|---|');
  for (const a of accuracy) {
    console.log(
      `| ${a.name}, ${a.connections} conns, ${a.seconds} s | ${a.limit}/${a.windowSeconds} s | ${a.attempted} | ${a.admitted} | ${a.allowed} | ${a.over} |`,
    );
  }
  const over = accuracy.reduce((sum, a) => sum + a.over, 0);
  const byKind = new Map<string, Accuracy[]>();
  for (const a of accuracy) byKind.set(a.name, [...(byKind.get(a.name) ?? []), a]);
  reportFigures('sla', [
    ...wrkFigures(summaries),
    ...[...byKind].map(([name, runs]) => ({
      name: `limiter accuracy, ${name} (${runs[0]?.limit}/${runs[0]?.windowSeconds} s, ${runs[0]?.connections} conns, ${runs.length} rounds)`,
      value: `admitted ${runs.map((a) => a.admitted).join(', ')} of ${runs[0]?.allowed} allowed`,
      ratio: `over-admission ${runs.reduce((sum, a) => sum + a.over, 0)}`,
    })),
    ...[...decisions].map(([id, runs]) => ({
      name: `limiter decisions/s, ${id === 'one' ? 'one object' : 'key sharded over 8'}`,
      value: `${Math.round(median(runs.map((r) => r.requestsPerSecond)))}/s`,
    })),
  ]);
  const failed = summaries.filter((s) => s.errors > 0);
  if (over > 0) console.error(`\nOVER-ADMISSION: ${over} requests more than the limit allows`);
  if (failed.length > 0) console.error(`\nnon-2xx or socket errors in: ${failed.map((s) => s.name).join(', ')}`);
  return over > 0 || failed.length > 0 ? 1 : 0;
}

runWhenMain('sla.ts', runSlaBench);
