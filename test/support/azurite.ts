import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { azuriteConnectionString } from '../../platform/src/config/index.js';
import { freePort } from '../../scripts/processes.js';

/** A running Azurite blob server. */
export interface AzuriteBlob {
  /** Connection string of Azurite's well-known devstoreaccount1 at this server's port. */
  connectionString: string;
  /** Port the blob service listens on (127.0.0.1). */
  port: number;
  /** Stops the server and removes its workspace folder. */
  stop(): Promise<void>;
}

async function waitUntilAnswering(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`azurite-blob exited with code ${child.exitCode} before answering`);
    try {
      // Any HTTP answer (Azurite says 400 to a bare GET) proves the server is up.
      await fetch(`http://127.0.0.1:${port}/devstoreaccount1?comp=list`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`azurite-blob did not answer on port ${port} within ${timeoutMs} ms`);
}

/** Starts node_modules/.bin/azurite-blob in memory on a free port and waits until it answers HTTP. */
export async function startAzuriteBlob(options: { port?: number; timeoutMs?: number } = {}): Promise<AzuriteBlob> {
  const port = options.port ?? (await freePort());
  const workspace = await mkdtemp(path.join(tmpdir(), 'azurite-'));
  const binary = path.resolve(import.meta.dirname, '../../node_modules/.bin/azurite-blob');
  const child = spawn(
    binary,
    [
      '--silent',
      '--inMemoryPersistence',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--skipApiVersionCheck',
      '--disableTelemetry',
    ],
    { cwd: workspace, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(forced);
    }
    await rm(workspace, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(port, child, options.timeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { connectionString: azuriteConnectionString(port), port, stop };
}
