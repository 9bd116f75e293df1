/**
 * The one process supervisor of the launcher (`npm start`, scripts/start.ts) and the benchmarks (bench/): each
 * child runs in a process group of its own (so stopping it also stops whatever it spawns, like wrangler's
 * workerd), its output prefixed on stdout or written to a log file, and is stopped by its id when its owner
 * ends, fails or is interrupted, so that nothing is left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a child ended. */
export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A child process started here, in its own process group. */
export interface Supervised {
  name: string;
  child: ChildProcess;
  /** Settles when the child has exited, with its code or signal. */
  exited: Promise<Exit>;
  /** The file its stdout and stderr go to, when started with `logDir`. */
  logFile?: string;
}

/** Options of {@link startChild}. */
export interface StartOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Drops the child's output instead of prefixing it with `[name]` on stdout. */
  quiet?: boolean;
  /** Writes the child's output to `{logDir}/{name}.log` instead of stdout. */
  logDir?: string;
  /** A command that runs the child, e.g. `['taskset', '-c', '1']` (bench/pinning.ts). */
  prefix?: readonly string[];
}

/** Every child started here and not yet exited, for {@link stopChildren} and {@link killChildrenNow}. */
const running = new Set<Supervised>();

function exitOf(name: string, child: ChildProcess): Promise<Exit> {
  return new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      process.stderr.write(`[${name}] failed to start: ${err.message}\n`);
      resolve({ code: 127, signal: null });
    });
  });
}

function track(supervised: Supervised): Supervised {
  running.add(supervised);
  void supervised.exited.then(() => running.delete(supervised));
  return supervised;
}

/** Starts `command` in a process group of its own, its output prefixed by `[name]` or written to `logDir`. */
export function startChild(name: string, command: string, args: string[], options: StartOptions = {}): Supervised {
  const [cmd, ...argv] = [...(options.prefix ?? []), command, ...args] as [string, ...string[]];
  const logFile = options.logDir === undefined ? undefined : join(options.logDir, `${name}.log`);
  const fd = logFile === undefined ? undefined : openSync(logFile, 'a');
  const child = spawn(cmd, argv, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    detached: true,
  });
  if (fd !== undefined) closeSync(fd);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      if (!options.quiet) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  return track({ name, child, exited: exitOf(name, child), ...(logFile === undefined ? {} : { logFile }) });
}

/**
 * Runs `command` to completion as a supervised child and answers its exit code and output; its process group
 * is killed after `timeoutMs`.
 */
export async function runChild(
  name: string,
  command: string,
  args: string[],
  options: { timeoutMs: number; prefix?: readonly string[] },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, ...argv] = [...(options.prefix ?? []), command, ...args] as [string, ...string[]];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const supervised = track({ name, child, exited: exitOf(name, child) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => signalGroup(supervised, 'SIGKILL'), options.timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the child is still running. */
export function isAlive({ child }: Supervised): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** The last lines of a child's log file, for error messages. */
export function logTail(supervised: Supervised, lines = 20): string {
  if (supervised.logFile === undefined) return '(output on stdout)';
  try {
    return readFileSync(supervised.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function signalGroup({ child }: Supervised, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the child's own process group (detached: true)
  } catch {
    // The group is gone already.
  }
}

/** SIGKILLs every child's process group at once (for a process that is exiting anyway); all running by default. */
export function killChildrenNow(children: Iterable<Supervised> = running): void {
  for (const supervised of [...children]) signalGroup(supervised, 'SIGKILL');
}

/**
 * Stops children (all running by default): SIGTERM to each process group, then SIGKILL to any group still
 * there after `graceMs`. Resolves when every child has exited.
 */
export async function stopChildren(children: Iterable<Supervised> = running, graceMs = 5000): Promise<void> {
  await Promise.all(
    [...children].map(async (supervised) => {
      if (supervised.child.pid === undefined) return;
      signalGroup(supervised, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(supervised, 'SIGKILL'), graceMs);
      await supervised.exited;
      clearTimeout(timer);
      // The leader is gone; make sure nothing it spawned lingers in its group.
      signalGroup(supervised, 'SIGKILL');
    }),
  );
}

/** Options of {@link waitForHttp}. */
export interface WaitOptions {
  timeoutMs?: number;
  /** Which statuses count as ready; any HTTP answer by default. */
  ready?: (status: number) => boolean;
}

/** A status that is not a server error: the server is up and answering. */
export const answering = (status: number): boolean => status < 500;

/**
 * Polls `url` until it answers with a ready status, the owning child exits, or the time is up; the error
 * carries the tail of the owner's log file when it has one.
 */
export async function waitForHttp(
  url: string,
  owner: Supervised | undefined,
  options: WaitOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ready = options.ready ?? (() => true);
  const deadline = Date.now() + timeoutMs;
  const tail = () => (owner?.logFile === undefined ? '' : `:\n${logTail(owner)}`);
  let exited = false;
  void owner?.exited.then(() => {
    exited = true;
  });
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${owner?.name} exited before ${url} answered${tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (ready(res.status)) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(owner?.logFile === undefined ? 200 : 100);
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms (${last})${tail()}`);
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
