import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process the launcher supervises, in its own process group. */
export interface Supervised {
  name: string;
  child: ChildProcess;
  /** Settles when the child has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `command` in a process group of its own (so that stopping it also stops whatever it
 * spawns, like wrangler's workerd), with its output prefixed by `[name]`.
 */
export function startChild(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; quiet?: boolean } = {},
): Supervised {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      if (!options.quiet) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      process.stderr.write(`[${name}] failed to start: ${err.message}\n`);
      resolve({ code: 127, signal: null });
    });
  });
  return { name, child, exited };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** SIGKILLs every child's process group at once (for a process that is exiting anyway). */
export function killChildrenNow(children: Supervised[]): void {
  for (const { child } of children) if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
}

/**
 * Stops children: SIGTERM to each process group, then SIGKILL to any group still there after
 * `graceMs`. Resolves when every child has exited.
 */
export async function stopChildren(children: Supervised[], graceMs = 5000): Promise<void> {
  await Promise.all(
    children.map(async ({ child, exited }) => {
      if (child.pid === undefined) return;
      const pid = child.pid;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // The leader is gone; make sure nothing it spawned lingers in its group.
      killGroup(pid, 'SIGKILL');
    }),
  );
}

/** Options of {@link waitForHttp}. */
export interface WaitOptions {
  timeoutMs?: number;
  /** Which statuses count as ready; any HTTP answer by default. */
  ready?: (status: number) => boolean;
}

/**
 * Polls `url` until it answers with a ready status, the owning child exits, or the time is up.
 */
export async function waitForHttp(
  url: string,
  owner: Supervised | undefined,
  options: WaitOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ready = options.ready ?? (() => true);
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void owner?.exited.then(() => {
    exited = true;
  });
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${owner?.name} exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (ready(res.status)) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms (${last})`);
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
