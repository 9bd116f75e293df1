/** Load generation and sampling shared by the storage bench's two processes: closed loops, percentiles, RSS. */
import { readFileSync, writeFileSync } from 'node:fs';

/** What a closed loop measured. */
export interface LoadResult {
  ops: number;
  seconds: number;
  opsPerSecond: number;
  /** Milliseconds of each successful operation. */
  latenciesMs: number[];
  errors: number;
  /** The first few error messages. */
  firstErrors: string[];
}

/**
 * Runs `op` in `concurrency` loops, each starting its next operation as soon as the last one ended, until
 * `seconds` have passed; failed operations are counted, not retried.
 */
export async function closedLoop(
  op: (worker: number) => Promise<void>,
  options: { concurrency: number; seconds: number },
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const firstErrors: string[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async (index: number) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await op(index);
        latenciesMs.push(performance.now() - t0);
      } catch (err) {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  const seconds = (performance.now() - started) / 1000;
  return {
    ops: latenciesMs.length,
    seconds,
    opsPerSecond: latenciesMs.length / seconds,
    latenciesMs,
    errors,
    firstErrors,
  };
}

/** The `p`-th percentile (0-100) of `values` by nearest rank; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Resident set size of a process now and its peak (high-water mark), in bytes, from /proc/{pid}/status. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (`echo 5 > /proc/{pid}/clear_refs`); false when refused. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Polls a process's RSS every `intervalMs` until stopped; `stop` answers the highest RSS seen, in bytes. */
export function sampleRss(pid: number, intervalMs = 10): { stop(): number } {
  let max = memoryOf(pid).rss;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, memoryOf(pid).rss);
    } catch {
      // the process is gone; the caller notices
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}

/** Bytes in a MB as the storage bench counts them (2^20). */
export const MB = 1024 * 1024;
