/**
 * Child processes of the bench: each runs in its own process group, logs to a file, and is
 * stopped by its id when the bench ends, fails or is interrupted, so that nothing is left behind.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process the bench started, with the file its stdout and stderr go to. */
export interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
}

const running = new Set<Child>();

/** Options of {@link startChild}. */
export interface StartOptions {
  logDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Which core the child may use when pinning is on (see {@link pinning}). */
  role?: Role;
}

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

/** `command args` under `taskset` for `role` when pinning is on. */
export function pinned(role: Role | undefined, command: string, args: string[]): [string, string[]] {
  if (!pinning.on || role === undefined) return [command, args];
  return ['taskset', ['-c', pinning.cores[role], command, ...args]];
}

/** Starts `command` in its own process group, logging to `{logDir}/{name}.log`, and tracks it until it exits. */
export function startChild(name: string, command: string, args: string[], options: StartOptions): Child {
  const logFile = join(options.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const [cmd, argv] = pinned(options.role, command, args);
  const proc = spawn(cmd, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const child: Child = { name, process: proc, logFile };
  running.add(child);
  proc.on('exit', () => running.delete(child));
  proc.on('error', (err) => {
    running.delete(child);
    console.error(`${name}: ${err.message}`);
  });
  return child;
}

/** Runs `command` to completion as a tracked child and returns its exit code and output; killed after `timeoutMs`. */
export async function runChild(
  name: string,
  command: string,
  args: string[],
  timeoutMs: number,
  role?: Role,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = pinned(role, command, args);
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const child: Child = { name, process: proc, logFile: '' };
  running.add(child);
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('close', (exitCode) => resolve(exitCode));
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    running.delete(child);
  }
}

/** Whether the child is still running. */
export function isAlive(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** The last lines of a child's log, for error messages. */
export function logTail(child: Child, lines = 20): string {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function signalGroup(child: Child, signal: NodeJS.Signals): void {
  const pid = child.process.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal); // the child's own process group (detached: true)
  } catch {
    // already gone
  }
}

/** Stops every running child: SIGTERM to its process group, then SIGKILL after `graceMs`. */
export async function stopAll(graceMs = 2_000): Promise<void> {
  const children = [...running];
  for (const child of children) signalGroup(child, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (children.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const child of children) signalGroup(child, 'SIGKILL');
  running.clear();
}

/** Kills every running child at once; for `process.on('exit')`, where nothing can be awaited. */
export function killAllNow(): void {
  for (const child of running) signalGroup(child, 'SIGKILL');
  running.clear();
}

export { freePort } from '../scripts/processes.js';

/** Waits until `url` answers (any status below 500) or throws with the child's log after `timeoutMs`. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isAlive(child)) throw new Error(`${child.name} exited before it was ready:\n${logTail(child)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer at ${url} within ${timeoutMs} ms (${last}):\n${logTail(child)}`);
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
