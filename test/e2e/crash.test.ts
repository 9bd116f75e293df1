import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/processes.js';

/**
 * Nothing acknowledged is lost: a functions host on the local defaults (embedded PGlite, blobs as fsynced files)
 * takes uploads in a loop and is killed with SIGKILL mid-flight; started again on the same data folder, every upload
 * it had answered 201 reads back byte for byte (MD5), and the instance lists each of them.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const S = '/storage/api/v1';
const SOPHIE_PARTY = '510001';

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

interface Host {
  child: ChildProcess;
  url: string;
}

async function startHost(dataDir: string, port: number): Promise<Host> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/src/server.ts'], {
    cwd: ROOT,
    env: {
      ...inherited,
      PLATFORM_MODE: 'local',
      FUNCTIONS_PORT: String(port),
      DATA_DIR: dataDir,
      BLOB_PATH: join(dataDir, 'blobs'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`host exited ${code}: ${stderr}`))),
  );
  const listening = (async () => {
    for await (const line of lines) {
      if (line.includes('functions host listening')) return `http://127.0.0.1:${port}`;
    }
    throw new Error(`host ended before listening: ${stderr}`);
  })();
  const url = await Promise.race([listening, exited]);
  // Ready means the database and the blob store answer.
  for (let tries = 0; tries < 100; tries += 1) {
    const ready = await fetch(`${url}/ready`).catch(() => undefined);
    if (ready?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url };
}

async function kill(host: Host): Promise<void> {
  const gone = new Promise((r) => host.child.once('exit', r));
  host.child.kill('SIGKILL');
  await gone;
}

async function token(url: string, query: string): Promise<string> {
  const response = await fetch(`${url}/authentication/api/v1/testidp/token?${query}&exchange=true`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('kill -9 of the functions host under a write loop', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('loses no upload it answered 201', { timeout: 180_000 }, async () => {
    const port = await freePort();
    let host = await startHost(dataDir, port);
    const scopes = encodeURIComponent(
      'altinn:serviceowner/instances.read altinn:serviceowner/instances.write altinn:appdeploy',
    );
    const org = await token(host.url, `orgNumber=310500003&scope=${scopes}`);
    const auth = { authorization: `Bearer ${org}` };
    const app = await fetch(`${host.url}${S}/applications?appId=ttd/crash`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'ttd/crash',
        org: 'ttd',
        title: { nb: 'Crash' },
        dataTypes: [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }],
      }),
    });
    expect(app.status, await app.clone().text()).toBe(201);
    const created = await fetch(`${host.url}${S}/instances?appId=ttd/crash`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ instanceOwner: { partyId: SOPHIE_PARTY } }),
    });
    expect(created.status).toBe(201);
    const instanceId = ((await created.json()) as { id: string }).id;

    // Four writers upload until the host dies; what was answered 201 is recorded with its MD5.
    const acknowledged = new Map<string, string>();
    const failures: string[] = [];
    let stop = false;
    const writer = async () => {
      while (!stop) {
        const bytes = randomBytes(16 * 1024 + Math.floor(Math.random() * 256 * 1024));
        try {
          const response = await fetch(`${host.url}${S}/instances/${instanceId}/data?dataType=attachment`, {
            method: 'POST',
            headers: {
              ...auth,
              'content-type': 'application/octet-stream',
              'content-disposition': 'attachment; filename=part.bin',
            },
            body: bytes,
          });
          if (response.status === 201) acknowledged.set(((await response.json()) as { id: string }).id, md5(bytes));
          else failures.push(`${response.status} ${await response.text()}`);
        } catch {
          // The connection died with the host: not acknowledged, so nothing is owed.
        }
      }
    };
    const writers = Array.from({ length: 4 }, writer);
    while (acknowledged.size < 40 && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(failures.slice(0, 1)).toEqual([]);
    await kill(host);
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.size).toBeGreaterThanOrEqual(40);

    host = await startHost(dataDir, port);
    try {
      const again = { authorization: `Bearer ${await token(host.url, `orgNumber=310500003&scope=${scopes}`)}` };
      const listed = await fetch(`${host.url}${S}/instances/${instanceId}/dataelements`, { headers: again });
      expect(listed.status).toBe(200);
      const ids = new Set(((await listed.json()) as { dataElements: { id: string }[] }).dataElements.map((e) => e.id));
      const lost: string[] = [];
      for (const [id, digest] of acknowledged) {
        const read = await fetch(`${host.url}${S}/instances/${instanceId}/data/${id}`, { headers: again });
        const bytes = new Uint8Array(await read.arrayBuffer());
        if (read.status !== 200 || md5(bytes) !== digest || !ids.has(id)) lost.push(`${id}: ${read.status}`);
      }
      expect(lost).toEqual([]);
    } finally {
      await kill(host);
    }
  });
});
