import type { Database } from '../../functions/src/platform/db/index.js';
import { silentLogger } from '../../functions/src/platform/logging/index.js';
import { createStorageApi, STORAGE_PREFIX } from '../../functions/src/storage/index.js';
import { openTestDatabase } from './database.js';

/** A Storage API on a fresh test database, with helpers to call it and read what it stored. */
export interface StorageHarness {
  db: Database;
  /** Sends `method path` (relative to `/storage/api/v1/`) with `body` as JSON, or as raw text when a string. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Rows of `applications` and `texts` as `org/app` and `org/app/language` keys, to prove what was written. */
  stored(): Promise<{ applications: string[]; texts: string[] }>;
  /** Rows of `instances` (hard-deleted ones too) as `{partyId}/{guid}` ids with their flag columns, oldest first. */
  storedInstances(): Promise<StoredInstance[]>;
  close(): Promise<void>;
}

/** One row of `instances` as the harness reads it back. */
export interface StoredInstance {
  id: string;
  isSoftDeleted: boolean;
  isHardDeleted: boolean;
}

/** Options of openStorageHarness. */
export interface StorageHarnessOptions {
  /** The API's clock; a steppingClock by default. */
  now?: () => Date;
}

/** A clock that stands still at `at` until moved with `set`, to give several writes one timestamp. */
export function manualClock(at = '2026-01-01T00:00:00Z'): { now: () => Date; set(iso: string): void } {
  let current = Date.parse(at);
  return {
    now: () => new Date(current),
    set(iso) {
      current = Date.parse(iso);
    },
  };
}

/** The fixed clock of the harness: `created` and `lastChanged` advance one second per write. */
export function steppingClock(start = Date.parse('2026-01-01T00:00:00Z')): () => Date {
  let tick = 0;
  return () => new Date(start + 1000 * tick++);
}

/** Opens a migrated test database and a Storage API on it. */
export async function openStorageHarness(options: StorageHarnessOptions = {}): Promise<StorageHarness> {
  const db = await openTestDatabase();
  const api = createStorageApi({ db, logger: silentLogger, now: options.now ?? steppingClock() });
  return {
    db,
    call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        init.headers = { 'content-type': 'application/json', ...headers };
      }
      return Promise.resolve(api.request(`${STORAGE_PREFIX}/${path}`, init));
    },
    async stored() {
      const applications = await db.query<{ key: string }>(
        "SELECT org || '/' || app AS key FROM applications ORDER BY key",
      );
      const texts = await db.query<{ key: string }>(
        "SELECT org || '/' || app || '/' || language AS key FROM texts ORDER BY key",
      );
      return { applications: applications.map((r) => r.key), texts: texts.map((r) => r.key) };
    },
    async storedInstances() {
      const rows = await db.query<{ id: string; is_soft_deleted: boolean; is_hard_deleted: boolean }>(
        `SELECT party_id::text || '/' || instance_guid::text AS id, is_soft_deleted, is_hard_deleted
         FROM instances ORDER BY created, instance_guid`,
      );
      return rows.map((row) => ({
        id: row.id,
        isSoftDeleted: row.is_soft_deleted,
        isHardDeleted: row.is_hard_deleted,
      }));
    },
    close: () => db.close(),
  };
}
