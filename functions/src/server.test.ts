import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { azuriteConnectionString, loadConfig } from '../../platform/src/config/index.js';
import { createLogger, silentLogger } from '../../platform/src/logging/index.js';
import { freePort } from '../../scripts/processes.js';
import { testBlobConnectionString } from '../../test/support/blob.js';
import { openTestDatabase } from '../../test/support/database.js';
import { type FunctionsHost, startFunctionsHost } from './server.js';

async function startHost(
  blobConnectionString: string,
  env: NodeJS.ProcessEnv = {},
  hostname?: string,
): Promise<FunctionsHost> {
  const config = loadConfig({ PLATFORM_MODE: 'local', ...env, BLOB_CONNECTION_STRING: blobConnectionString });
  const db = await openTestDatabase();
  const host = await startFunctionsHost({ config, port: 0, hostname, platform: { db, logger: silentLogger } });
  const close = async () => {
    await host.close();
    await db.close();
  };
  return { ...host, close };
}

describe('local functions host', () => {
  let host: FunctionsHost;
  beforeAll(async () => {
    host = await startHost(testBlobConnectionString());
  });
  afterAll(async () => {
    await host?.close();
  });

  it('answers /health 200 on the port it reports', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${host.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('seeds the test data at start and serves Register and Profile under their prefixes', async () => {
    const listing = await fetch(`${host.url}/register/api/v1/testdata`);
    expect(listing.status).toBe(200);
    expect(((await listing.json()) as { users: unknown[] }).users).toHaveLength(6);
    const token = await host.platform.auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 });
    const profile = await fetch(`${host.url}/profile/api/v1/users/current`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await profile.json()).toMatchObject({ userId: 1001, party: { name: 'Sophie Salt' } });
  });

  it('answers /ready 200 with the database and Azurite reachable', async () => {
    const response = await fetch(`${host.url}/ready`);
    expect(await response.json()).toEqual({ status: 'ok', checks: { database: 'ok', blob: 'ok' } });
    expect(response.status).toBe(200);
  });

  it('serves the OpenAPI description at /openapi.json', async () => {
    const response = await fetch(`${host.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ openapi: '3.1.0', paths: { '/health': {}, '/ready': {} } });
  });

  it('answers an unknown path with a 404 problem and echoes the caller request id', async () => {
    const token = await host.platform.auth.issuer.orgToken({ org: 'ttd' });
    const response = await fetch(`${host.url}/storage/api/v1/no-such-resource`, {
      headers: { 'X-Request-Id': 'e2e-404', authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('x-request-id')).toBe('e2e-404');
    expect(await response.json()).toMatchObject({
      status: 404,
      requestId: 'e2e-404',
      instance: '/storage/api/v1/no-such-resource',
    });
  });
});

describe('local functions host with the blob store down', () => {
  it('answers /ready 503 problem+json naming the blob check', async () => {
    const host = await startHost(azuriteConnectionString(await freePort()));
    try {
      const response = await fetch(`${host.url}/ready`);
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({
        detail: 'Failing readiness checks: blob.',
        checks: { database: 'ok', blob: 'failed' },
      });
    } finally {
      await host.close();
    }
  });

  it('stops answering once closed', async () => {
    const host = await startHost(testBlobConnectionString());
    await host.close();
    await expect(fetch(`${host.url}/health`)).rejects.toThrow();
  });
});

describe('local functions host without test data', () => {
  it('seeds nothing and answers the test data list 404 when SEED_TEST_DATA=false', async () => {
    const host = await startHost(testBlobConnectionString(), { SEED_TEST_DATA: 'false' });
    try {
      expect((await fetch(`${host.url}/register/api/v1/testdata`)).status).toBe(404);
      expect(await host.platform.db.query('SELECT party_id FROM parties')).toEqual([]);
    } finally {
      await host.close();
    }
  });
});

describe('local functions host interface', () => {
  it('binds the FUNCTIONS_HOST of its config', async () => {
    const host = await startHost(testBlobConnectionString(), { FUNCTIONS_HOST: 'localhost' });
    try {
      expect(host.url).toMatch(/^http:\/\/localhost:\d+$/);
      expect((await fetch(`${host.url}/health`)).status).toBe(200);
    } finally {
      await host.close();
    }
  });

  it('binds the hostname option instead of the config host when given', async () => {
    const host = await startHost(testBlobConnectionString(), { FUNCTIONS_HOST: 'localhost' }, '127.0.0.1');
    try {
      expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${host.url}/health`)).status).toBe(200);
    } finally {
      await host.close();
    }
  });
});

describe('local functions host blob sweep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sweeps orphan blobs every BLOB_SWEEP_INTERVAL_MINUTES, not at start, and stops when closed', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', sink: (line) => lines.push(line) });
    const sweeps = () =>
      lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.job === 'blob-sweep');
    const config = loadConfig({
      PLATFORM_MODE: 'local',
      BLOB_CONNECTION_STRING: testBlobConnectionString(),
      BLOB_SWEEP_INTERVAL_MINUTES: '5',
    });
    const db = await openTestDatabase();
    const host = await startFunctionsHost({ config, port: 0, platform: { db, logger } });
    try {
      await vi.advanceTimersByTimeAsync(4 * 60_000);
      expect(sweeps()).toEqual([]);
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(() => expect(sweeps()).toHaveLength(1));
      expect(sweeps()[0]).toMatchObject({ level: 'info', message: 'blob sweep finished', container: 'storage-data' });
    } finally {
      await host.close();
      await db.close();
    }
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(sweeps()).toHaveLength(1);
  });
});

describe('server.ts run directly', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const run = (env: Record<string, string>) => {
    const { DATABASE_URL: _ignored, ...inherited } = process.env;
    return spawn(process.execPath, ['--import', 'tsx', 'functions/src/server.ts'], {
      cwd: root,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  };

  it('logs one JSON line with its URL, serves it, and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'functions-host-'));
    const child = run({
      PLATFORM_MODE: 'local',
      FUNCTIONS_PORT: '0',
      DATA_DIR: dataDir,
      BLOB_CONNECTION_STRING: testBlobConnectionString(),
    });
    try {
      const lines = createInterface({ input: child.stdout });
      let url: string | undefined;
      for await (const line of lines) {
        const record = JSON.parse(line) as { message: string; url?: string };
        if (record.message === 'functions host listening') {
          url = record.url;
          break;
        }
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('fails closed started as a bare container would (no variables): exits 1 naming the missing production settings, serving nothing', {
    timeout: 30_000,
  }, async () => {
    // Only what a container image sets: no PLATFORM_MODE, no test identity provider, no seed data asked for.
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stdout).not.toContain('listening');
    for (const name of [
      'PLATFORM_ISSUER',
      'DATABASE_URL',
      'BLOB_CONNECTION_STRING',
      'IDPORTEN_ISSUER',
      'MASKINPORTEN_ISSUER',
    ]) {
      expect(stderr).toContain(name);
    }
  });

  it('refuses the test identity provider in production mode at start, naming the setting', {
    timeout: 30_000,
  }, async () => {
    const child = run({ PLATFORM_MODE: 'production', TEST_IDP: 'true', FUNCTIONS_PORT: '0' });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('TEST_IDP: the test identity provider is for local mode only');
  });

  it('exits 1 naming each bad variable when the configuration is invalid', { timeout: 30_000 }, async () => {
    const child = run({ LOG_LEVEL: 'chatty', FUNCTIONS_HOST: 'not a host' });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('LOG_LEVEL: must be one of debug, info, warn, error');
    expect(stderr).toContain('FUNCTIONS_HOST: must be an IP address or a host name');
  });
});
