/** Runs `wrk` against one URL and reads requests/s and latency percentiles from its report. */
import { execFileSync } from 'node:child_process';
import { runChild } from '../scripts/processes.js';
import { pinnedTo } from './pinning.js';

/** What one wrk run measured. */
export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses with a status outside 2xx/3xx. */
  non2xx: number;
  /** Connect, read, write and timeout errors, added up. */
  socketErrors: number;
}

/** Load of one wrk run. */
export interface WrkLoad {
  seconds: number;
  connections: number;
  threads: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** Whether `wrk` is on the PATH. */
export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

function durationMs(value: string, unit: string): number {
  const factor = UNIT_MS[unit];
  if (factor === undefined) throw new Error(`wrk: unknown unit ${unit}`);
  return Number(value) * factor;
}

/** Parses wrk's `--latency` report. */
export function parseWrk(output: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(output);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(output);
  const total = /^\s+(\d+) requests in /m.exec(output);
  if (!rps?.[1] || !p50?.[1] || !p50[2] || !p99?.[1] || !p99[2] || !total?.[1]) {
    throw new Error(`wrk: report not understood:\n${output}`);
  }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: durationMs(p50[1], p50[2]),
    p99Ms: durationMs(p99[1], p99[2]),
    requests: Number(total[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors,
  };
}

/** Runs wrk with `--latency` against `url` and parses its report. */
export async function runWrk(url: string, load: WrkLoad): Promise<WrkResult> {
  const args = [
    `-t${load.threads}`,
    `-c${load.connections}`,
    `-d${load.seconds}s`,
    '--timeout',
    '5s',
    '--latency',
    ...Object.entries(load.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    url,
  ];
  const { code, stdout, stderr } = await runChild('wrk', 'wrk', args, {
    timeoutMs: (load.seconds + 15) * 1_000,
    ...pinnedTo('load'),
  });
  if (code !== 0) throw new Error(`wrk ${args.join(' ')} exited ${code}:\n${stderr}${stdout}`);
  return parseWrk(stdout);
}
