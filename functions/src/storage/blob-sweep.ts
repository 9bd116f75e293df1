import type { BlobListing, BlobStore } from '../../../platform/src/blob/index.js';
import type { Database, Queryable } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';

/**
 * The orphan-blob sweep. An upload writes the blob first and commits the row after; a crash in between, or a
 * failed clean-up, leaves a blob that no `data_elements` row points at. The sweep finds and removes those.
 *
 * A blob is *referenced* when the row of its data guid has `blobStoragePath` equal to the blob's name (a replace
 * writes `{dataGuid}.{version}`, so an old version whose removal failed is an orphan too) and the row's instance
 * is not hard deleted. Everything else under the data-element name pattern is an orphan candidate.
 *
 * Hard-deleted instances: DataServices, like Altinn, keeps the instance row (and its element rows) marked
 * `is_hard_deleted`, hidden from every API, and no upload can reach it again. Its content is meant to go, so the
 * sweep treats those blobs as orphans once both the blob and the hard delete are older than the grace period;
 * the rows stay as the record of what was there.
 */

/** What one sweep did; every listed blob is counted in exactly one of the fields after `scanned`. */
export interface BlobSweepReport {
  /** Blobs listed. */
  scanned: number;
  /** Orphans removed. */
  deleted: number;
  /** Blobs a live row points at, or that turned out to be in use (row committed, blob rewritten) before deletion. */
  kept: number;
  /** Orphan candidates younger than the grace period: possibly an upload in flight, judged again next time. */
  skippedYoung: number;
  /** Names not of the form `{org}/{app}/{instanceGuid}/data/{dataGuid}`: not the sweep's business, left alone. */
  foreign: number;
  /** Orphans whose deletion failed; they stay for the next sweep. */
  failed: number;
  /** With `dryRun`: orphans old enough to be removed, none of them removed. */
  orphans?: number;
}

/** Options of sweepOrphanBlobs. */
export interface BlobSweepOptions {
  db: Database;
  blob: BlobStore;
  /** The data-element container (`DATA_CONTAINER` in production). */
  container: string;
  /** The clock blob ages are measured against. */
  now: () => Date;
  /** How old an orphan must be before it is removed; DEFAULT_SWEEP_GRACE_MS by default. */
  graceMs?: number;
  /** Receives the one summary line (and the failure, if the sweep stops). */
  logger: Logger;
  /** Blobs per listing page and per database check; DEFAULT_SWEEP_BATCH_SIZE by default. */
  batchSize?: number;
  /** Count the orphans old enough to go (`orphans`) and remove nothing: the consistency check's report mode. */
  dryRun?: boolean;
}

/** One hour: far longer than the gap between an upload's blob commit and its row commit. */
export const DEFAULT_SWEEP_GRACE_MS = 60 * 60 * 1000;

/** Blobs per listing page and per database check. */
export const DEFAULT_SWEEP_BATCH_SIZE = 500;

const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** `{org}/{app}/{instanceGuid}/data/{dataGuid}`, optionally `.{versionGuid}` (a replaced element's content). */
const DATA_BLOB_NAME = new RegExp(`^[^/]+/[^/]+/(${GUID})/data/(${GUID})(?:\\.${GUID})?$`, 'i');

/** A listed blob whose name is a data element's. */
interface DataBlob extends BlobListing {
  instanceGuid: string;
  dataGuid: string;
}

/** What the database says about one data guid. */
interface ElementReference {
  blobStoragePath: string;
  /** When the element's instance was hard deleted (its last change when the stamp is missing), else undefined. */
  hardDeletedAt: Date | undefined;
}

function parseDataBlob(item: BlobListing): DataBlob | undefined {
  const match = DATA_BLOB_NAME.exec(item.name);
  if (!match?.[1] || !match[2]) return undefined;
  return { ...item, instanceGuid: match[1].toLowerCase(), dataGuid: match[2].toLowerCase() };
}

/** The rows of `dataGuids`, by data guid, with their instance's hard-delete time. */
async function referencesOf(db: Queryable, dataGuids: string[]): Promise<Map<string, ElementReference>> {
  const rows = await db.query<{ data_guid: string; path: string | null; hard_deleted_at: Date | string | null }>(
    `SELECT d.data_guid::text AS data_guid, d.element->>'blobStoragePath' AS path,
            CASE WHEN i.is_hard_deleted
                 THEN coalesce((i.instance->'status'->>'hardDeleted')::timestamptz, i.last_changed) END
              AS hard_deleted_at
       FROM data_elements d JOIN instances i ON i.instance_guid = d.instance_guid
      WHERE d.data_guid = ANY($1::uuid[])`,
    [dataGuids],
  );
  return new Map(
    rows.map((row) => [
      row.data_guid,
      {
        blobStoragePath: row.path ?? '',
        hardDeletedAt: row.hard_deleted_at === null ? undefined : new Date(row.hard_deleted_at),
      },
    ]),
  );
}

/** True when a row of a live (not hard-deleted) instance points at exactly this blob. */
function isReferenced(item: DataBlob, references: Map<string, ElementReference>): boolean {
  const reference = references.get(item.dataGuid);
  return reference !== undefined && reference.blobStoragePath === item.name && reference.hardDeletedAt === undefined;
}

/** Milliseconds since the later of the blob's last write and its instance's hard delete. */
function ageOf(item: DataBlob, references: Map<string, ElementReference>, now: Date): number {
  const hardDeletedAt = references.get(item.dataGuid)?.hardDeletedAt?.getTime() ?? 0;
  return now.getTime() - Math.max(item.lastModified.getTime(), hardDeletedAt);
}

/**
 * Removes `orphans` unless they turned out to be in use; answers how many went, stayed and failed.
 *
 * Why this cannot lose a just-committed element: an upload commits its blob, then in one transaction takes its
 * instance's row lock (`FOR UPDATE`), inserts or updates the row and commits. Here, holding `FOR SHARE` locks on
 * the candidates' instances, we
 * 1. wait for any upload transaction on those instances that is still open, and re-read the rows afterwards
 *    (a fresh statement in READ COMMITTED sees what it committed), so a row committed at any point after the
 *    listing, or after the first check, keeps its blob;
 * 2. delete with `If-Match` the ETag from the listing, so a blob rewritten since it was listed (and judged old)
 *    is never removed on the strength of its previous version's age.
 * What remains is an upload whose blob is older than the grace period yet has not reached its transaction: the
 * grace period (an hour by default, against milliseconds between the two steps) is what rules that out.
 * The locks are held while the deletes run, which only delays uploads to instances that hold orphans.
 */
async function removeOrphans(
  db: Database,
  blob: BlobStore,
  container: string,
  orphans: DataBlob[],
): Promise<{ deleted: number; kept: number; failed: number; errors: unknown[] }> {
  const instanceGuids = [...new Set(orphans.map((item) => item.instanceGuid))].sort();
  return db.transaction(async (tx) => {
    await tx.query(
      'SELECT instance_guid FROM instances WHERE instance_guid = ANY($1::uuid[]) ORDER BY instance_guid FOR SHARE',
      [instanceGuids],
    );
    const references = await referencesOf(
      tx,
      orphans.map((item) => item.dataGuid),
    );
    const outcome = { deleted: 0, kept: 0, failed: 0, errors: [] as unknown[] };
    for (const item of orphans) {
      if (isReferenced(item, references)) {
        outcome.kept += 1;
        continue;
      }
      try {
        if (await blob.deleteIfUnchanged(container, item.name, item.etag)) outcome.deleted += 1;
        else outcome.kept += 1;
      } catch (error) {
        outcome.failed += 1;
        outcome.errors.push(error);
      }
    }
    return outcome;
  });
}

/**
 * Lists `container` page by page and removes data-element blobs that no row points at (or whose instance is hard
 * deleted) once they are older than the grace period. Other names are counted and left alone. Logs one line
 * with the report; when listing (or the database) fails it logs the partial report and rethrows.
 */
export async function sweepOrphanBlobs(options: BlobSweepOptions): Promise<BlobSweepReport> {
  const { db, blob, container, now, logger } = options;
  const graceMs = options.graceMs ?? DEFAULT_SWEEP_GRACE_MS;
  const batchSize = options.batchSize ?? DEFAULT_SWEEP_BATCH_SIZE;
  const report: BlobSweepReport = { scanned: 0, deleted: 0, kept: 0, skippedYoung: 0, foreign: 0, failed: 0 };
  const errors: unknown[] = [];
  const started = Date.now();
  try {
    for await (const page of blob.list(container, { pageSize: batchSize })) {
      report.scanned += page.length;
      const dataBlobs: DataBlob[] = [];
      for (const item of page) {
        const parsed = parseDataBlob(item);
        if (parsed) dataBlobs.push(parsed);
        else report.foreign += 1;
      }
      if (dataBlobs.length === 0) continue;
      const references = await referencesOf(
        db,
        dataBlobs.map((item) => item.dataGuid),
      );
      const at = now();
      const orphans: DataBlob[] = [];
      for (const item of dataBlobs) {
        if (isReferenced(item, references)) report.kept += 1;
        else if (ageOf(item, references, at) < graceMs) report.skippedYoung += 1;
        else orphans.push(item);
      }
      if (orphans.length === 0) continue;
      if (options.dryRun) {
        report.orphans = (report.orphans ?? 0) + orphans.length;
        continue;
      }
      const outcome = await removeOrphans(db, blob, container, orphans);
      report.deleted += outcome.deleted;
      report.kept += outcome.kept;
      report.failed += outcome.failed;
      errors.push(...outcome.errors);
    }
  } catch (error) {
    logger.error('blob sweep failed', { container, ...report, durationMs: Date.now() - started, error });
    throw error;
  }
  const fields = { container, ...report, durationMs: Date.now() - started };
  if (report.failed > 0) logger.warn('blob sweep finished with failures', { ...fields, firstError: errors[0] });
  else logger.info('blob sweep finished', fields);
  return report;
}
