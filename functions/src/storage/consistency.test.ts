import { randomUUID } from 'node:crypto';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileBlobStore } from '../../../platform/src/blob/filesystem.js';
import type { BlobStore } from '../../../platform/src/blob/index.js';
import { createLogger } from '../../../platform/src/logging/index.js';
import { openStorageHarness, type StorageHarness } from '../../../test/support/storage.js';
import { type ConsistencyOptions, checkStorageConsistency } from './consistency.js';

type Element = { id: string; blobStoragePath: string; size: number };
type Instance = { id: string };

const HOUR = 60 * 60 * 1000;
const dataTypes = [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }];

let storage: StorageHarness;
let instance: Instance;
let lines: string[];

async function open(blob?: BlobStore) {
  storage = await openStorageHarness(blob ? { blob } : {});
  expect((await storage.call('POST', 'applications/ttd/forms', { dataTypes })).status).toBe(201);
  const response = await storage.call('POST', 'instances?appId=ttd/forms', { instanceOwner: { partyId: '510001' } });
  expect(response.status).toBe(201);
  instance = (await response.json()) as Instance;
  await storage.blob.ensureContainer(storage.container);
  lines = [];
}

afterEach(async () => {
  await storage.close();
});

async function uploaded(body = 'content'): Promise<Element> {
  const response = await storage.send('POST', `instances/${instance.id}/data?dataType=attachment`, body, {
    'content-type': 'text/plain',
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Element;
}

const put = (name: string, text: string) =>
  storage.blob.upload(storage.container, name, Readable.from([Buffer.from(text)]));

function check(overrides: Partial<ConsistencyOptions> = {}) {
  return checkStorageConsistency({
    db: storage.db,
    blob: storage.blob,
    container: storage.container,
    // Two hours ahead: every blob is past the one-hour grace period.
    now: () => new Date(Date.now() + 2 * HOUR),
    graceMs: HOUR,
    logger: createLogger({ level: 'debug', sink: (line) => lines.push(line) }),
    ...overrides,
  });
}

describe('checkStorageConsistency', () => {
  it('reports nothing for a consistent container', async () => {
    await open();
    await uploaded('one');
    await uploaded('two');
    const report = await check({ verifyContent: true });
    expect(report.elements).toBe(2);
    expect(report.findings).toEqual([]);
    expect(report.orphans.orphans ?? 0).toBe(0);
    expect(report.incomplete).toEqual({ files: 0, bytes: 0, removed: false });
  });

  it('reports a row whose blob is gone, a size and an MD5 mismatch, and repairs none of them', async () => {
    await open();
    const gone = await uploaded('gone');
    const resized = await uploaded('short');
    const altered = await uploaded('abcd');
    await storage.blob.delete(storage.container, gone.blobStoragePath);
    await put(resized.blobStoragePath, 'longer than before');
    await put(altered.blobStoragePath, 'wxyz');
    const report = await check({ repair: true, verifyContent: true });
    const byId = new Map(report.findings.map((finding) => [finding.dataId, finding]));
    expect(byId.get(gone.id)).toMatchObject({ kind: 'missing-blob', instanceId: instance.id });
    expect(byId.get(resized.id)).toMatchObject({ kind: 'size-mismatch', detail: expect.stringContaining('18') });
    expect(byId.get(altered.id)).toMatchObject({ kind: 'hash-mismatch' });
    expect(report.findings).toHaveLength(3);
    // Reported, never "repaired" away: the rows and the blobs they reference stay.
    const rows = await storage.db.query('SELECT data_guid FROM data_elements');
    expect(rows).toHaveLength(3);
    expect(await storage.blob.exists(storage.container, altered.blobStoragePath)).toBe(true);
    // Without verifyContent an MD5 mismatch of the same length is not looked for.
    expect((await check()).findings.map((f) => f.kind).sort()).toEqual(['missing-blob', 'size-mismatch']);
    const summary = lines.map((line) => JSON.parse(line)).find((line) => line.message === 'storage consistency check');
    expect(summary).toMatchObject({ level: 'warn', missingBlobs: 1 });
  });

  it('counts orphan blobs without repair and removes them with it, keeping referenced blobs', async () => {
    await open();
    const kept = await uploaded();
    const orphan = `ttd/forms/${instance.id.split('/')[1]}/data/${randomUUID()}`;
    await put(orphan, 'orphan');
    const dry = await check();
    expect(dry.orphans).toMatchObject({ orphans: 1, deleted: 0 });
    expect(await storage.blob.exists(storage.container, orphan)).toBe(true);
    const repaired = await check({ repair: true });
    expect(repaired.orphans).toMatchObject({ deleted: 1 });
    expect(await storage.blobNames()).toEqual([kept.blobStoragePath]);
  });

  it('removes what an upload cut short left in a filesystem store, once past the grace period', async () => {
    const root = mkdtempSync(join(tmpdir(), 'consistency-'));
    await open(createFileBlobStore(root));
    await uploaded();
    const leftover = join(root, storage.container, 'incoming', 'crashed-upload');
    writeFileSync(leftover, Buffer.alloc(4096));
    const old = new Date(Date.now() - 2 * HOUR);
    utimesSync(leftover, old, old);
    const report = await check({ now: () => new Date() });
    expect(report.incomplete).toEqual({ files: 1, bytes: 4096, removed: false });
    const repaired = await check({ now: () => new Date(), repair: true });
    expect(repaired.incomplete).toEqual({ files: 1, bytes: 4096, removed: true });
    expect((await check({ now: () => new Date() })).incomplete.files).toBe(0);
    expect(repaired.findings).toEqual([]);
  });
});
