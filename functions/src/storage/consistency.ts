import { createHash } from 'node:crypto';
import type { BlobStore } from '../../../platform/src/blob/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { type BlobSweepReport, DEFAULT_SWEEP_GRACE_MS, sweepOrphanBlobs } from './blob-sweep.js';

/**
 * The Storage consistency check: data-element rows against the blobs they point at, and the blob store against the
 * rows. It finds
 * - rows without blobs (`missing-blob`): an acknowledged upload whose content is gone, which nothing can repair: it is
 *   reported, never deleted (the row is the record of what was promised);
 * - blobs whose length differs from the row's `size` (`size-mismatch`) and, with `verifyContent`, whose MD5 differs
 *   from the row's `contentHash` (`hash-mismatch`): reported;
 * - blobs no row points at (the orphan sweep's rules, `blob-sweep.ts`): counted, and removed with `repair` once older
 *   than the grace period;
 * - what uploads cut short left in the store (a filesystem store's `incoming/` files; Azure discards uncommitted
 *   blocks itself): counted, and removed with `repair` once older than the grace period.
 * Repair never deletes a blob a row references.
 */

/** One inconsistency of a data element. */
export interface ConsistencyFinding {
  kind: 'missing-blob' | 'size-mismatch' | 'hash-mismatch';
  /** `{partyId}/{instanceGuid}`. */
  instanceId: string;
  dataId: string;
  blobStoragePath: string;
  detail: string;
}

/** What a check found (and, with repair, did). */
export interface ConsistencyReport {
  /** Data elements of live instances checked. */
  elements: number;
  findings: ConsistencyFinding[];
  /** The orphan sweep over the container (a dry run without `repair`: `orphans` counts what would go). */
  orphans: BlobSweepReport;
  /** Leftovers of uploads cut short, older than the grace period; `removed` true when repair removed them. */
  incomplete: { files: number; bytes: number; removed: boolean };
}

/** Options of checkStorageConsistency. */
export interface ConsistencyOptions {
  db: Database;
  blob: BlobStore;
  /** The data-element container. */
  container: string;
  logger: Logger;
  now?: () => Date;
  /** Age below which orphans and leftovers are left alone (uploads in flight); DEFAULT_SWEEP_GRACE_MS by default. */
  graceMs?: number;
  /** Remove orphans and leftovers (never a referenced blob). */
  repair?: boolean;
  /** Also read every blob and compare its MD5 with the row's `contentHash` (reads everything: slow). */
  verifyContent?: boolean;
  /** Rows per database page; 500 by default. */
  batchSize?: number;
}

type ElementRow = {
  data_guid: string;
  instance_id: string;
  path: string | null;
  size: string | null;
  content_hash: string | null;
};

async function md5Of(blob: BlobStore, container: string, name: string): Promise<string | undefined> {
  const download = await blob.download(container, name);
  if (!download) return undefined;
  const hash = createHash('md5');
  for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('base64');
}

/** Checks one row against its blob; answers its finding, if any. */
async function checkElement(row: ElementRow, options: ConsistencyOptions): Promise<ConsistencyFinding | undefined> {
  const path = row.path ?? '';
  const finding = (kind: ConsistencyFinding['kind'], detail: string): ConsistencyFinding => ({
    kind,
    instanceId: row.instance_id,
    dataId: row.data_guid,
    blobStoragePath: path,
    detail,
  });
  let listed: { size: number } | undefined;
  for await (const page of options.blob.list(options.container, { prefix: path, pageSize: 10 })) {
    listed ??= page.find((item) => item.name === path);
    if (listed) break;
  }
  if (!listed) return finding('missing-blob', `no blob '${path}' in ${options.container}`);
  const size = row.size === null ? undefined : Number(row.size);
  if (size !== undefined && size !== listed.size) {
    return finding('size-mismatch', `the row says ${size} bytes, the blob has ${listed.size}`);
  }
  if (options.verifyContent && row.content_hash) {
    const actual = await md5Of(options.blob, options.container, path);
    if (actual !== undefined && actual !== row.content_hash) {
      return finding('hash-mismatch', `the row's contentHash is ${row.content_hash}, the blob's MD5 is ${actual}`);
    }
  }
  return undefined;
}

/** Runs the check; logs one summary line and answers the report. */
export async function checkStorageConsistency(options: ConsistencyOptions): Promise<ConsistencyReport> {
  const now = options.now ?? (() => new Date());
  const graceMs = options.graceMs ?? DEFAULT_SWEEP_GRACE_MS;
  const batchSize = options.batchSize ?? 500;
  const findings: ConsistencyFinding[] = [];
  let elements = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await options.db.query<ElementRow>(
      `SELECT d.data_guid::text AS data_guid, i.party_id || '/' || i.instance_guid AS instance_id,
              d.element->>'blobStoragePath' AS path, d.element->>'size' AS size,
              d.element->>'contentHash' AS content_hash
         FROM data_elements d JOIN instances i ON i.instance_guid = d.instance_guid
        WHERE NOT i.is_hard_deleted AND d.data_guid > $1::uuid
        ORDER BY d.data_guid LIMIT $2`,
      [after, batchSize],
    );
    for (const row of rows) {
      elements += 1;
      const finding = await checkElement(row, options);
      if (finding) findings.push(finding);
    }
    if (rows.length < batchSize) break;
    after = rows[rows.length - 1]?.data_guid ?? after;
  }
  const orphans = await sweepOrphanBlobs({
    db: options.db,
    blob: options.blob,
    container: options.container,
    now,
    graceMs,
    logger: options.logger.child({ job: 'blob-sweep' }),
    dryRun: !options.repair,
  });
  const repair = options.repair === true;
  const leftovers = await options.blob.incompleteUploads(options.container, graceMs, repair);
  const incomplete = { ...leftovers, removed: repair };
  const report = { elements, findings, orphans, incomplete };
  const log = findings.length > 0 ? options.logger.warn.bind(options.logger) : options.logger.info.bind(options.logger);
  log('storage consistency check', {
    elements,
    findings: findings.length,
    missingBlobs: findings.filter((f) => f.kind === 'missing-blob').length,
    orphans: options.repair ? orphans.deleted : (orphans.orphans ?? 0),
    incompleteFiles: incomplete.files,
    repair: options.repair === true,
  });
  return report;
}
