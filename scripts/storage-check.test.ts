import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startFunctionsHost } from '../functions/src/server.js';
import { loadConfig } from '../platform/src/config/index.js';
import { silentLogger } from '../platform/src/logging/index.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');

/** Runs `npm run storage:check` on `dataDir` (as npm start's data folder); answers its exit code and output. */
async function storageCheck(dataDir: string, ...args: string[]) {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/storage-check.ts', ...args], {
      cwd: ROOT,
      env: { ...inherited, DATA_DIR: dataDir },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe('npm run storage:check', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'storage-check-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('reports a consistent data folder (exit 0), then a lost blob by element (exit 1), changing nothing', {
    timeout: 120_000,
  }, async () => {
    const config = loadConfig({ PLATFORM_MODE: 'local', DATA_DIR: dataDir, BLOB_PATH: join(dataDir, 'blobs') });
    const host = await startFunctionsHost({ config, port: 0, platform: { logger: silentLogger } });
    let lost = '';
    try {
      const token = await (
        await fetch(
          `${host.url}/authentication/api/v1/testidp/token?orgNumber=310500003&exchange=true&scope=${encodeURIComponent(
            'altinn:serviceowner/instances.read altinn:serviceowner/instances.write altinn:appdeploy',
          )}`,
        )
      ).text();
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const S = `${host.url}/storage/api/v1`;
      const dataTypes = [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }];
      expect(
        (
          await fetch(`${S}/applications?appId=ttd/checked`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ dataTypes }),
          })
        ).status,
      ).toBe(201);
      const created = await fetch(`${S}/instances?appId=ttd/checked`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ instanceOwner: { partyId: '510001' } }),
      });
      const instance = (await created.json()) as { id: string };
      for (const body of ['kept', 'lost']) {
        const uploaded = await fetch(`${S}/instances/${instance.id}/data?dataType=attachment`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'text/plain' },
          body,
        });
        expect(uploaded.status).toBe(201);
        if (body === 'lost') lost = ((await uploaded.json()) as { blobStoragePath: string }).blobStoragePath;
      }
    } finally {
      await host.close();
    }
    const clean = await storageCheck(dataDir);
    expect(clean.stdout).toContain('Data elements checked: 2');
    expect(clean.stdout).toContain('Inconsistent elements: 0');
    expect(clean.code).toBe(0);
    rmSync(join(dataDir, 'blobs', 'storage-data', 'blobs', ...lost.split('/')));
    const broken = await storageCheck(dataDir, '--json');
    expect(broken.code).toBe(1);
    const report = JSON.parse(broken.stdout) as { findings: { kind: string; blobStoragePath: string }[] };
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'missing-blob', blobStoragePath: lost })]);
  });
});
