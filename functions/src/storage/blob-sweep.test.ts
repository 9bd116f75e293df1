import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlobListing, BlobStore } from '../../../platform/src/blob/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { createLogger } from '../../../platform/src/logging/index.js';
import { manualClock, openStorageHarness, type StorageHarness } from '../../../test/support/storage.js';
import { type BlobSweepOptions, sweepOrphanBlobs } from './blob-sweep.js';

type Element = { id: string; blobStoragePath: string };
type Instance = { id: string; data: Element[] };

const HOUR = 60 * 60 * 1000;
const dataTypes = [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }];

let storage: StorageHarness;
let instance: Instance;
let lines: string[];

/** A clock `offsetMs` ahead of the real one (Azurite stamps blobs with the real time). */
const ahead = (offsetMs: number) => () => new Date(Date.now() + offsetMs);

async function open(options: { now?: () => Date } = {}) {
  storage = await openStorageHarness(options.now ? { now: options.now } : {});
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

const instanceGuid = () => instance.id.split('/')[1] ?? '';

/** Uploads an element through the API: a row and its blob. */
async function uploaded(body = 'content'): Promise<Element> {
  const response = await storage.send('POST', `instances/${instance.id}/data?dataType=attachment`, body, {
    'content-type': 'text/plain',
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Element;
}

/** Writes a blob straight to the container, as a crashed upload leaves it; answers its name. */
async function putBlob(name = `ttd/forms/${instanceGuid()}/data/${randomUUID()}`): Promise<string> {
  await storage.blob.upload(storage.container, name, Readable.from([Buffer.from('orphan')]));
  return name;
}

function sweep(overrides: Partial<BlobSweepOptions> = {}) {
  return sweepOrphanBlobs({
    db: storage.db,
    blob: storage.blob,
    container: storage.container,
    now: ahead(2 * HOUR),
    graceMs: HOUR,
    logger: createLogger({ level: 'debug', sink: (line) => lines.push(line) }),
    ...overrides,
  });
}

const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

/** Takes an element's row away (as if its transaction had not committed yet); answers a function putting it back. */
async function withoutRow(element: Element): Promise<() => Promise<void>> {
  const [row] = await storage.db.query<Record<string, unknown>>('SELECT * FROM data_elements WHERE data_guid = $1', [
    element.id,
  ]);
  await storage.db.query('DELETE FROM data_elements WHERE data_guid = $1', [element.id]);
  return async () => {
    await storage.db.query(
      `INSERT INTO data_elements (data_guid, instance_guid, data_type, element, created, last_changed)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [row?.data_guid, row?.instance_guid, row?.data_type, row?.element, row?.created, row?.last_changed],
    );
  };
}

describe('sweepOrphanBlobs', () => {
  it('deletes an orphan older than the grace period and keeps a blob its row points at', async () => {
    await open();
    const element = await uploaded();
    const orphan = await putBlob();
    const report = await sweep();
    expect(report).toEqual({ scanned: 2, deleted: 1, kept: 1, skippedYoung: 0, foreign: 0, failed: 0 });
    expect(await storage.blobNames()).toEqual([element.blobStoragePath]);
    expect(await storage.blobNames()).not.toContain(orphan);
    expect(await storage.storedDataElements()).toEqual([element.id]);
  });

  it('keeps an orphan younger than the grace period, as an upload may still be committing its row', async () => {
    await open();
    const orphan = await putBlob();
    const report = await sweep({ now: ahead(HOUR / 2) });
    expect(report).toMatchObject({ scanned: 1, deleted: 0, skippedYoung: 1 });
    expect(await storage.blobNames()).toEqual([orphan]);
  });

  it('leaves names outside the data-element pattern alone and counts them as foreign', async () => {
    await open();
    const foreign = [
      'readme.txt',
      `ttd/forms/${instanceGuid()}/data/not-a-guid`,
      `ttd/forms/${instanceGuid()}/data/${randomUUID()}/extra`,
      `ttd/forms/${instanceGuid()}/other/${randomUUID()}`,
      `ttd/${instanceGuid()}/data/${randomUUID()}`,
    ];
    for (const name of foreign) await putBlob(name);
    const report = await sweep();
    expect(report).toEqual({ scanned: 5, deleted: 0, kept: 0, skippedYoung: 0, foreign: 5, failed: 0 });
    expect(await storage.blobNames()).toEqual([...foreign].sort());
  });

  it('deletes the previous version of a replaced element whose removal failed, and keeps the current one', async () => {
    await open();
    const element = await uploaded('first');
    const replaced = await storage.send('PUT', `instances/${instance.id}/data/${element.id}`, 'second', {
      'content-type': 'text/plain',
    });
    const current = (await replaced.json()) as Element;
    expect(current.blobStoragePath).not.toBe(element.blobStoragePath);
    await putBlob(element.blobStoragePath);
    const report = await sweep();
    expect(report).toMatchObject({ scanned: 2, deleted: 1, kept: 1 });
    expect(await storage.blobNames()).toEqual([current.blobStoragePath]);
  });

  it('deletes the content of a hard-deleted instance once the hard delete is older than the grace period', async () => {
    const clock = manualClock(new Date(Date.now() + 24 * HOUR).toISOString());
    await open({ now: clock.now });
    const element = await uploaded();
    expect((await storage.call('DELETE', `instances/${instance.id}?hard=true`)).status).toBe(200);
    const recent = await sweep({ now: ahead(24 * HOUR + HOUR / 2) });
    expect(recent).toMatchObject({ scanned: 1, deleted: 0, skippedYoung: 1 });
    expect(await storage.blobNames()).toEqual([element.blobStoragePath]);
    const later = await sweep({ now: ahead(24 * HOUR + 2 * HOUR) });
    expect(later).toMatchObject({ scanned: 1, deleted: 1 });
    expect(await storage.blobNames()).toEqual([]);
    expect(await storage.storedDataElements()).toEqual([element.id]);
    expect((await storage.storedInstances())[0]?.isHardDeleted).toBe(true);
  });

  it('works through many blobs one small page at a time', async () => {
    await open();
    const kept = [await uploaded('a'), await uploaded('b')].map((element) => element.blobStoragePath);
    for (let i = 0; i < 10; i += 1) await putBlob();
    await putBlob('foreign-1');
    await putBlob('foreign-2');
    const pageSizes: number[] = [];
    const blob: BlobStore = {
      ...storage.blob,
      async *list(container, options) {
        for await (const page of storage.blob.list(container, options)) {
          pageSizes.push(page.length);
          yield page;
        }
      },
    };
    const report = await sweep({ blob, batchSize: 3 });
    expect(report).toEqual({ scanned: 14, deleted: 10, kept: 2, skippedYoung: 0, foreign: 2, failed: 0 });
    expect(pageSizes).toEqual([3, 3, 3, 3, 2]);
    expect(await storage.blobNames()).toEqual([...kept, 'foreign-1', 'foreign-2'].sort());
  });

  it('logs one line with the report', async () => {
    await open();
    await putBlob();
    await sweep();
    expect(logged()).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'blob sweep finished',
        container: storage.container,
        scanned: 1,
        deleted: 1,
      }),
    ]);
  });

  it('stops, logs and rethrows when listing fails, without touching blobs rows point at', async () => {
    await open();
    const element = await uploaded();
    const blob: BlobStore = {
      ...storage.blob,
      // biome-ignore lint/correctness/useYield: a listing that fails before its first page
      async *list() {
        throw new Error('listing failed');
      },
    };
    await expect(sweep({ blob })).rejects.toThrow('listing failed');
    expect(logged()).toEqual([expect.objectContaining({ level: 'error', message: 'blob sweep failed', scanned: 0 })]);
    expect(await storage.blobNames()).toEqual([element.blobStoragePath]);
  });

  it('counts a failed delete, goes on with the other orphans and keeps blobs rows point at', async () => {
    await open();
    const element = await uploaded();
    const stuck = await putBlob();
    const gone = await putBlob();
    const blob: BlobStore = {
      ...storage.blob,
      deleteIfUnchanged: (container, name, etag) =>
        name === stuck
          ? Promise.reject(new Error('delete failed'))
          : storage.blob.deleteIfUnchanged(container, name, etag),
    };
    const report = await sweep({ blob });
    expect(report).toEqual({ scanned: 3, deleted: 1, kept: 1, skippedYoung: 0, foreign: 0, failed: 1 });
    expect(await storage.blobNames()).toEqual([element.blobStoragePath, stuck].sort());
    expect(await storage.blobNames()).not.toContain(gone);
    expect(logged()).toEqual([
      expect.objectContaining({ level: 'warn', message: 'blob sweep finished with failures', failed: 1 }),
    ]);
  });

  it('keeps a blob whose row was committed after the listing', async () => {
    await open();
    const element = await uploaded();
    const commitRow = await withoutRow(element);
    const blob: BlobStore = {
      ...storage.blob,
      async *list(container, options) {
        for await (const page of storage.blob.list(container, options)) {
          await commitRow();
          yield page;
        }
      },
    };
    const report = await sweep({ blob });
    expect(report).toMatchObject({ scanned: 1, deleted: 0, kept: 1 });
    expect(await storage.blobNames()).toEqual([element.blobStoragePath]);
  });

  it('keeps a blob whose row was committed after the first check, by checking again before deleting', async () => {
    await open();
    const element = await uploaded();
    const commitRow = await withoutRow(element);
    let checks = 0;
    const db: Database = {
      ...storage.db,
      async query(sql, params) {
        const rows = await storage.db.query(sql, params);
        if (sql.includes('FROM data_elements d') && checks++ === 0) await commitRow();
        return rows as never;
      },
    };
    const report = await sweep({ db });
    expect(checks).toBe(1);
    expect(report).toMatchObject({ scanned: 1, deleted: 0, kept: 1 });
    expect(await storage.blobNames()).toEqual([element.blobStoragePath]);
  });

  it('keeps a blob rewritten after the listing, whose listed age no longer holds', async () => {
    await open();
    const orphan = await putBlob();
    const blob: BlobStore = {
      ...storage.blob,
      async *list(container, options) {
        for await (const page of storage.blob.list(container, options)) {
          await storage.blob.upload(container, orphan, Readable.from([Buffer.from('rewritten')]));
          yield page.map((item): BlobListing => ({ ...item, lastModified: new Date(0) }));
        }
      },
    };
    const report = await sweep({ blob, now: () => new Date() });
    expect(report).toMatchObject({ scanned: 1, deleted: 0, kept: 1 });
    expect(await storage.blobNames()).toEqual([orphan]);
  });
});
