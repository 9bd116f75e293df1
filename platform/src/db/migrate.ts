import { createHash } from 'node:crypto';
import type { Queryable, Transaction } from './index.js';

/** One versioned schema change; its SQL must never change once applied anywhere. */
export interface Migration {
  /** Positive integer; migrations run in ascending order. */
  version: number;
  /** Short snake_case description, e.g. `platform_info`. */
  name: string;
  /** Script of one or more statements, run in one transaction. */
  sql: string;
}

/** What a migration run did. */
export interface MigrationReport {
  /** Versions applied by this run. */
  applied: number[];
  /** Versions that were already applied before this run. */
  skipped: number[];
}

/** Thrown when migrations cannot run safely: a bad list, checksum drift or a failing script. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** SHA-256 of a migration's SQL, recorded when applied and compared on every later start. */
export function checksumOf(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Serialises migration runs against one schema across processes: a transaction-scoped advisory lock keyed by
 * the current schema, released at commit or rollback.
 */
async function lockMigrations(tx: Transaction): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('platform.schema_migrations.' || current_schema()))`);
}

function validate(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new MigrationError(
        `migration versions must be positive integers in strictly ascending order; ` +
          `${migration.version} (${migration.name}) follows ${previous}`,
      );
    }
    previous = migration.version;
  }
}

type AppliedRow = { version: number; name: string; checksum: string };

function refuseDrift(migration: Migration, row: AppliedRow): void {
  if (row.checksum !== checksumOf(migration)) {
    throw new MigrationError(
      `migration ${migration.version} (${migration.name}) was changed after it was applied ` +
        `(recorded checksum ${row.checksum.slice(0, 12)}, now ${checksumOf(migration).slice(0, 12)}); ` +
        'add a new migration instead of editing an applied one',
    );
  }
}

/**
 * Applies the pending `migrations` in order, each in its own transaction together with its schema_migrations row.
 * Already applied ones are skipped; a changed checksum of an applied one fails before anything runs; a failing
 * script rolls back completely and stops the run. Safe to call from several processes at once.
 */
export async function runMigrations(db: Queryable, migrations: readonly Migration[]): Promise<MigrationReport> {
  validate(migrations);
  const recorded = await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.exec(CREATE_TABLE);
    return tx.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  });
  const byVersion = new Map(recorded.map((row) => [row.version, row]));
  for (const migration of migrations) {
    const row = byVersion.get(migration.version);
    if (row) refuseDrift(migration, row);
  }

  const report: MigrationReport = { applied: [], skipped: [] };
  for (const migration of migrations) {
    const appliedNow = await db.transaction(async (tx) => {
      await lockMigrations(tx);
      const [row] = await tx.query<AppliedRow>(
        'SELECT version, name, checksum FROM schema_migrations WHERE version = $1',
        [migration.version],
      );
      if (row) {
        refuseDrift(migration, row);
        return false;
      }
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`migration ${migration.version} (${migration.name}) failed: ${reason}`, {
          cause: error,
        });
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        checksumOf(migration),
      ]);
      return true;
    });
    (appliedNow ? report.applied : report.skipped).push(migration.version);
  }
  return report;
}

/**
 * Merges the migration lists of the features a host serves into the one ordered list runMigrations applies:
 * by version, oldest first. Two features claiming one version is a MigrationError.
 */
export function composeMigrations(...lists: readonly (readonly Migration[])[]): readonly Migration[] {
  const merged = lists.flat().sort((a, b) => a.version - b.version);
  for (let i = 1; i < merged.length; i++) {
    const [previous, migration] = [merged[i - 1]!, merged[i]!];
    if (previous.version === migration.version) {
      throw new MigrationError(
        `migration version ${migration.version} is claimed twice: ${previous.name} and ${migration.name}`,
      );
    }
  }
  return merged;
}
