import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/processes.js';

/** The whole local platform as `npm start` runs it, on free ports and a throwaway data folder. */
export interface LocalPlatform {
  ports: { edge: number; functions: number; azurite: number };
  /** The provisioner's admin token given to it; undefined when npm start generated one (printed in `output()`). */
  adminToken: string | undefined;
  /** The launcher's pid: the process group of npm and everything it started. */
  pid: number;
  /** Ends when the launcher (npm) exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything `npm start` printed so far. */
  output(): string;
  /** An exchanged platform token of `ttd` (Testdepartementet) with the scopes given. */
  orgToken(scopes?: string): Promise<string>;
  /** Ctrl-C to the launcher's process group (SIGKILL after 30 s); removes the data folder. */
  stop(): Promise<void>;
}

/**
 * Starts `npm start` with `env` added, in a process group of its own like a terminal's job, and waits
 * until it says the platform is ready. `generatedTokens` leaves the admin tokens to npm start, as a
 * newcomer runs it.
 */
export async function startLocalPlatform(
  env: NodeJS.ProcessEnv = {},
  options: { timeoutMs?: number; generatedTokens?: boolean } = {},
): Promise<LocalPlatform> {
  const timeoutMs = options.timeoutMs ?? 150_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-'));
  const ports = { edge: await freePort(), functions: await freePort(), azurite: await freePort() };
  const adminToken = options.generatedTokens ? undefined : `platform-test-admin-${process.pid}-${ports.functions}`;
  let output = '';
  const launcher: ChildProcess = spawn('npm', ['start', '--silent'], {
    env: {
      ...process.env,
      EDGE_PORT: String(ports.edge),
      FUNCTIONS_PORT: String(ports.functions),
      AZURITE_PORT: String(ports.azurite),
      DATA_DIR: dataDir,
      ...(adminToken === undefined ? {} : { PROVISIONER_ADMIN_TOKEN: adminToken }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    launcher.once('exit', (code, signal) => resolve({ code, signal })),
  );
  async function stop(): Promise<void> {
    if (launcher.pid !== undefined && launcher.exitCode === null && launcher.signalCode === null) {
      try {
        process.kill(-launcher.pid, 'SIGINT');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
        process.kill(-launcher.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in time:\n${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Local platform is ready.')) {
          clearTimeout(timer);
          resolve();
        }
      };
      launcher.stdout?.on('data', onData);
      launcher.stderr?.on('data', onData);
      void exited.then(({ code, signal }) => reject(new Error(`npm start exited (${code ?? signal}):\n${output}`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ports,
    adminToken,
    pid: launcher.pid as number,
    exited,
    output: () => output,
    async orgToken(scopes = 'altinn:appdeploy') {
      const response = await fetch(
        `http://127.0.0.1:${ports.functions}/authentication/api/v1/testidp/token?orgNumber=310500003&scope=${encodeURIComponent(scopes)}&exchange=true`,
      );
      if (!response.ok) throw new Error(`no org token: ${response.status} ${await response.text()}`);
      return (await response.text()).trim();
    },
    stop,
  };
}

/** Polls `read` every `everyMs` until `done` holds for its value; throws with the last value after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
