/**
 * What the bench adds to the process supervisor (scripts/processes.ts): CPU pinning of its children, and
 * removing its work folders when it is interrupted.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';

/** What a child is to the measurement: the proxy under test, or the load side (wrk and the upstream). */
export type Role = 'proxy' | 'load';

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * CPU pinning: on a machine with two or more cores, the proxy under test gets core 1 to itself and
 * the load side (wrk, the upstream) shares core 0, so that the proxy's own cost per request sets
 * its throughput instead of the scheduler's whims. BENCH_PIN=0 turns it off.
 */
export const pinning: { on: boolean; cores: Record<Role, string> } = {
  on: process.env.BENCH_PIN !== '0' && cpus().length >= 2 && hasTaskset(),
  cores: { proxy: '1', load: '0' },
};

/** The supervisor's `prefix` option that runs a child of `role` under `taskset` when pinning is on. */
export function pinnedTo(role: Role): { prefix?: string[] } {
  return pinning.on ? { prefix: ['taskset', '-c', pinning.cores[role]] } : {};
}

const tempDirs = new Set<string>();

/** Removes `dir` when the bench is interrupted (see {@link removeTempDirs}); the answer forgets it again. */
export function removeAtExit(dir: string): () => void {
  tempDirs.add(dir);
  return () => tempDirs.delete(dir);
}

/** Removes every folder registered with {@link removeAtExit}; for Ctrl-C, after the children are stopped. */
export function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
