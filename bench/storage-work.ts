/**
 * What the storage bench does inside the functions host's process, without the API: the same rows and blobs
 * written through the repositories and the BlobStore, and the 100,000 instances seeded with SQL.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { STORAGE_PREFIX } from '../functions/src/storage/index.js';
import type { DataElement } from '../functions/src/storage/models/data-element-schemas.js';
import type { Instance } from '../functions/src/storage/models/instance-schemas.js';
import { dataElementRepository } from '../functions/src/storage/repositories/data-element-repository.js';
import { type InstanceFilter, instanceRepository } from '../functions/src/storage/repositories/instance-repository.js';
import type { BlobStore } from '../platform/src/blob/index.js';
import type { Database } from '../platform/src/db/index.js';

/** Where the raw writes go: the host's own database, blob store and data container. */
export interface RawTarget {
  db: Database;
  blob: BlobStore;
  container: string;
}

/** One raw operation's app, data type and content. */
export interface RawOperation {
  org: string;
  app: string;
  dataType: string;
  partyId: string;
  content: Buffer;
}

/**
 * Creates an instance, stores one data element (blob first, then its row and the instance's `data` in one
 * transaction holding the instance's lock, as the API does) and reads the element's row and blob back.
 */
export async function createUploadRead(target: RawTarget, op: RawOperation): Promise<void> {
  const { db, blob, container } = target;
  const guid = randomUUID();
  const id = `${op.partyId}/${guid}`;
  const stamp = new Date().toISOString();
  const instance: Instance = {
    id,
    instanceOwner: { partyId: op.partyId },
    appId: `${op.org}/${op.app}`,
    org: op.org,
    selfLinks: { platform: `${STORAGE_PREFIX}/instances/${id}` },
    process: null,
    status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Unread' },
    data: [],
    created: stamp,
    createdBy: op.org,
    lastChanged: stamp,
    lastChangedBy: op.org,
  };
  await db.transaction((tx) => instanceRepository(tx).insertInstance(instance));

  const dataGuid = randomUUID();
  const blobStoragePath = `${instance.appId}/${guid}/data/${dataGuid}`;
  const contentType = 'application/octet-stream';
  const stored = await blob.upload(container, blobStoragePath, Readable.from([op.content]), { contentType });
  const contentHash = createHash('md5').update(op.content).digest('base64');
  await db.transaction(async (tx) => {
    const instances = instanceRepository(tx);
    const current = await instances.lockInstance(op.partyId, guid);
    if (!current) throw new Error(`instance ${id} vanished`);
    const at = new Date().toISOString();
    const element: DataElement = {
      id: dataGuid,
      instanceGuid: guid,
      dataType: op.dataType,
      filename: null,
      contentType,
      blobStoragePath,
      selfLinks: { platform: `${STORAGE_PREFIX}/instances/${id}/data/${dataGuid}` },
      size: stored.size,
      contentHash,
      locked: false,
      refs: [],
      isRead: false,
      tags: [],
      created: at,
      createdBy: op.org,
      lastChanged: at,
      lastChangedBy: op.org,
    };
    await dataElementRepository(tx).insertDataElement(element);
    await instances.updateInstance({
      ...current,
      data: [...current.data, element],
      lastChanged: at,
      lastChangedBy: op.org,
    });
  });

  const element = await dataElementRepository(db).findDataElement(guid, dataGuid);
  if (!element) throw new Error(`data element ${dataGuid} vanished`);
  const download = await blob.download(container, element.blobStoragePath);
  if (!download) throw new Error(`blob ${element.blobStoragePath} vanished`);
  let size = 0;
  const reader = download.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) size += read.value.byteLength;
  if (size !== op.content.length) throw new Error(`read back ${size} bytes, stored ${op.content.length}`);
}

/** How to seed instances: `count` rows of `org/app` spread evenly over `parties` and a time range. */
export interface SeedOptions {
  count: number;
  parties: number;
  /** The first party id; the others follow it. */
  firstPartyId: number;
  org: string;
  app: string;
  /** `created` lies between these instants (ms since the epoch), `lastChanged` up to a day after. */
  fromMs: number;
  toMs: number;
  /** Rows per INSERT statement. */
  batch: number;
}

/** ISO 8601 in UTC with milliseconds, as `Date.toISOString()` writes it (and the API stores it). */
const ISO = `to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Inserts the rows `insertInstance` would write for instances created through the API (every column, and the
 * JSON document with the same fields), in multi-row INSERT ... SELECT FROM generate_series batches; then ANALYZE.
 * Timestamps are whole milliseconds, like the API's, so the columns and the JSON agree.
 */
export async function seedInstances(db: Database, options: SeedOptions): Promise<void> {
  const sql = `
    INSERT INTO instances (instance_guid, party_id, org, app, instance, created, last_changed, due_before,
      visible_after, current_task, is_complete, is_archived, is_soft_deleted, is_hard_deleted, person_number,
      organisation_number, confirmed_by)
    SELECT s.guid, s.party, $5::text, $6::text,
      jsonb_build_object(
        'id', s.party || '/' || s.guid,
        'instanceOwner', jsonb_build_object('partyId', s.party::text),
        'appId', $5::text || '/' || $6::text,
        'org', $5::text,
        'selfLinks', jsonb_build_object('platform', $9::text || '/instances/' || s.party || '/' || s.guid),
        'process', NULL,
        'status', jsonb_build_object('isArchived', false, 'isSoftDeleted', false, 'isHardDeleted', false,
          'readStatus', 'Unread'),
        'data', '[]'::jsonb,
        'created', ${ISO.replace('%s', 's.created')},
        'createdBy', $5::text,
        'lastChanged', ${ISO.replace('%s', 's.last_changed')},
        'lastChangedBy', $5::text),
      s.created, s.last_changed, NULL, NULL, NULL, false, false, false, false, NULL, NULL, '{}'::text[]
    FROM (
      SELECT t.guid, t.party, t.created,
        date_trunc('milliseconds', t.created + random() * interval '1 day') AS last_changed
      FROM (
        SELECT gen_random_uuid() AS guid, $3::bigint + g % $4::int AS party,
          date_trunc('milliseconds', to_timestamp(($7::float8 + random() * $8::float8) / 1000)) AS created
        FROM generate_series($1::int, $2::int) AS g
      ) t
    ) s`;
  for (let start = 0; start < options.count; start += options.batch) {
    const end = Math.min(options.count, start + options.batch) - 1;
    await db.query(sql, [
      start,
      end,
      options.firstPartyId,
      options.parties,
      options.org,
      options.app,
      options.fromMs,
      options.toMs - options.fromMs,
      STORAGE_PREFIX,
    ]);
  }
  await db.exec('ANALYZE instances');
}

/** Runs each filter once through the repository (no HTTP, no auth) and answers each query's milliseconds. */
export async function rawQueries(db: Database, filters: InstanceFilter[], expectRows: number): Promise<number[]> {
  const repository = instanceRepository(db);
  const latencies: number[] = [];
  for (const filter of filters) {
    const t0 = performance.now();
    const rows = await repository.queryInstances(filter);
    latencies.push(performance.now() - t0);
    if (rows.length < expectRows) throw new Error(`raw query found ${rows.length} rows, expected ${expectRows}`);
  }
  return latencies;
}
