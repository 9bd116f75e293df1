import { randomUUID } from 'node:crypto';
import { PGlite, type PGliteInterface } from '@electric-sql/pglite';
import pg from 'pg';
import { hostMigrations } from '../../functions/src/migrations.js';
import type { Database } from '../../platform/src/db/index.js';
import { checksumOf, type Migration, runMigrations } from '../../platform/src/db/migrate.js';
import { databaseFromPGlite } from '../../platform/src/db/pglite.js';
import { openPostgres } from '../../platform/src/db/postgres.js';

/** Options of openTestDatabase. */
export interface TestDatabaseOptions {
  /** Migrations applied before the test gets the database; the platform's own by default, `[]` for an empty one. */
  migrations?: readonly Migration[];
}

/** True when this run targets a real PostgreSQL server (DATABASE_URL set), false for embedded PGlite. */
export const usingPostgres = Boolean(process.env.DATABASE_URL);

/** One in-memory PGlite per test file (starting one takes seconds); each test database is a schema in it. */
let sharedPGlite: Promise<PGliteInterface> | undefined;

function newSchemaName(): string {
  return `test_${randomUUID().replaceAll('-', '')}`;
}

/** Makes `close()` also run `discard` once, and every later call fail as it would on a closed database. */
function discardOnClose(db: Database, discard: () => Promise<void>): Database {
  let closed = false;
  const open =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      closed ? Promise.reject(new Error('database is closed')) : fn(...args);
  return {
    kind: db.kind,
    query: open((sql: string, params?: readonly unknown[]) => db.query(sql, params)) as Database['query'],
    exec: open((sql: string) => db.exec(sql)),
    transaction: open((fn: Parameters<Database['transaction']>[0]) => db.transaction(fn)) as Database['transaction'],
    ping: open((timeoutMs?: number) => db.ping(timeoutMs)),
    async close() {
      if (closed) return;
      closed = true;
      await discard();
    },
  };
}

/** The schema_migrations table as runMigrations creates it (platform/src/db/migrate.ts). */
const MIGRATIONS_TABLE = `CREATE TABLE schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Migration lists this file's PGlite has applied once through runMigrations, so their SQL is known to run. */
const provenLists = new WeakSet<readonly Migration[]>();

/**
 * Applies `migrations` to the current (empty) schema as runMigrations leaves it: the first time per list and file
 * through runMigrations itself; after that as one script (the same SQL, in order) plus the same schema_migrations
 * rows, which costs half as much.
 */
async function migrate(pglite: PGliteInterface, db: Database, migrations: readonly Migration[]): Promise<void> {
  if (migrations.length === 0 || !provenLists.has(migrations)) {
    await runMigrations(db, migrations);
    provenLists.add(migrations);
    return;
  }
  const rows = migrations.map((m) => `(${m.version}, '${m.name.replaceAll("'", "''")}', '${checksumOf(m)}')`);
  await pglite.exec(
    `BEGIN;\n${migrations.map((m) => m.sql).join('\n;\n')}\n;\n${MIGRATIONS_TABLE};\n` +
      `INSERT INTO schema_migrations (version, name, checksum) VALUES ${rows.join(', ')};\nCOMMIT;`,
  );
}

async function openPGliteSchema(migrations: readonly Migration[]): Promise<Database> {
  sharedPGlite ??= PGlite.create();
  const pglite = await sharedPGlite;
  const schema = newSchemaName();
  // Tests of one file run one after another, so switching the single session's search_path is safe.
  await pglite.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
  const db = databaseFromPGlite(pglite);
  await migrate(pglite, db, migrations);
  // The schema is left in place: the file's in-memory PGlite goes with the file, and dropping each schema would
  // cost as much again. A later test gets a new schema, so none sees another's rows.
  return discardOnClose(db, async () => {
    await pglite.exec('SET search_path TO public');
  });
}

async function openPostgresSchema(url: string, migrations: readonly Migration[]): Promise<Database> {
  const schema = newSchemaName();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const db = await openPostgres(url, { schema, maxConnections: 4 });
  await runMigrations(db, migrations);
  return discardOnClose(db, async () => {
    await db.close();
    const dropper = new pg.Client({ connectionString: url });
    await dropper.connect();
    try {
      await dropper.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await dropper.end();
    }
  });
}

/**
 * Opens a fresh, migrated database for one test: a new schema in this file's in-memory PGlite by default (gone
 * with the file), or a new schema on the DATABASE_URL server, dropped by `close()`; so tests leave no residue and
 * files can run in parallel. Tests of one file must not hold two test databases open at once on PGlite.
 */
export async function openTestDatabase(options: TestDatabaseOptions = {}): Promise<Database> {
  const migrations = options.migrations ?? hostMigrations;
  const url = process.env.DATABASE_URL;
  if (url) return openPostgresSchema(url, migrations);
  return openPGliteSchema(migrations);
}

/** A second connection to the same test database (PostgreSQL only), e.g. to race two migration runners. */
export async function openSecondConnection(db: Database): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('openSecondConnection needs DATABASE_URL');
  const [row] = await db.query<{ schema: string }>('SELECT current_schema() AS schema');
  if (!row) throw new Error('no current schema');
  return openPostgres(url, { schema: row.schema, maxConnections: 2 });
}
