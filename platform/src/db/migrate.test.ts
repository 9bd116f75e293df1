import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSecondConnection, openTestDatabase, usingPostgres } from '../../../test/support/database.js';
import type { Database } from './index.js';
import { checksumOf, type Migration, MigrationError, runMigrations } from './migrate.js';
import { platformMigrations } from './migrations.js';

const createOrg: Migration = { version: 1, name: 'org', sql: 'CREATE TABLE org (name text PRIMARY KEY);' };
const createApp: Migration = {
  version: 2,
  name: 'app',
  sql: "CREATE TABLE app (org text REFERENCES org, name text); INSERT INTO org VALUES ('ttd');",
};
const broken: Migration = {
  version: 3,
  name: 'broken',
  sql: "CREATE TABLE half_done (id int); INSERT INTO app VALUES ('ttd', 'x'); SELECT no_such_function();",
};

describe(`runMigrations on ${usingPostgres ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Database;

  beforeEach(async () => {
    db = await openTestDatabase({ migrations: [] });
  });
  afterEach(async () => {
    await db.close();
  });

  const recorded = () =>
    db.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
  const tableExists = async (table: string) =>
    (await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table]))[0]?.found != null;

  it('applies pending migrations in order and records version, name and checksum', async () => {
    const report = await runMigrations(db, [createOrg, createApp]);
    expect(report).toEqual({ applied: [1, 2], skipped: [] });
    expect(await recorded()).toEqual([
      { version: 1, name: 'org', checksum: checksumOf(createOrg) },
      { version: 2, name: 'app', checksum: checksumOf(createApp) },
    ]);
    expect(await db.query('SELECT name FROM org')).toEqual([{ name: 'ttd' }]);
  });

  it('skips already applied migrations on a re-run, changing nothing', async () => {
    await runMigrations(db, [createOrg, createApp]);
    const report = await runMigrations(db, [createOrg, createApp]);
    expect(report).toEqual({ applied: [], skipped: [1, 2] });
    expect(await db.query('SELECT name FROM org')).toEqual([{ name: 'ttd' }]);
  });

  it('applies only the new migration when the list grew', async () => {
    await runMigrations(db, [createOrg]);
    expect(await runMigrations(db, [createOrg, createApp])).toEqual({ applied: [2], skipped: [1] });
  });

  it('rolls a failing migration back completely, names it, and keeps the earlier ones', async () => {
    const run = runMigrations(db, [createOrg, createApp, broken]);
    await expect(run).rejects.toThrow(MigrationError);
    await expect(run).rejects.toThrow(/migration 3 \(broken\) failed: .*no_such_function/);
    expect((await recorded()).map((row) => row.version)).toEqual([1, 2]);
    expect(await tableExists('half_done')).toBe(false);
    expect(await db.query('SELECT * FROM app')).toEqual([]);
  });

  it('refuses to start when an applied migration was edited (checksum drift), before running anything', async () => {
    await runMigrations(db, [createOrg]);
    const edited = { ...createOrg, sql: 'CREATE TABLE org (name text PRIMARY KEY, extra int);' };
    const run = runMigrations(db, [edited, createApp]);
    await expect(run).rejects.toThrow(/migration 1 \(org\) was changed after it was applied/);
    expect(await tableExists('app')).toBe(false);
  });

  it('refuses a list whose versions are not strictly ascending', async () => {
    await expect(runMigrations(db, [createApp, createOrg])).rejects.toThrow(/strictly ascending/);
    await expect(runMigrations(db, [createOrg, { ...createApp, version: 1 }])).rejects.toThrow(/strictly ascending/);
    expect(await tableExists('org')).toBe(false);
  });

  // Only a server can race two sessions: PGlite has a single session that runs one query at a time, so there
  // the two runners could never overlap and the test would pass even without the advisory lock.
  it.runIf(usingPostgres)(
    'serialises two runners on separate connections with the advisory lock, applying each migration once (PostgreSQL only)',
    async () => {
      const slow: Migration = { version: 1, name: 'slow', sql: 'SELECT pg_sleep(0.2); CREATE TABLE slow (id int);' };
      const list = [slow, { ...createOrg, version: 2 }];
      const other = await openSecondConnection(db);
      try {
        const reports = await Promise.all([runMigrations(db, list), runMigrations(other, list)]);
        expect(reports.flatMap((report) => report.applied).sort()).toEqual([1, 2]);
        expect(reports.flatMap((report) => report.skipped).sort()).toEqual([1, 2]);
        expect(await recorded()).toHaveLength(2);
      } finally {
        await other.close();
      }
    },
  );

  it("applies the platform's own migrations, recording one installation id", async () => {
    await runMigrations(db, platformMigrations);
    const rows = await db.query<{ installation_id: string }>('SELECT installation_id FROM platform_info');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.installation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await runMigrations(db, platformMigrations)).toEqual({
      applied: [],
      skipped: platformMigrations.map((m) => m.version),
    });
  });
});
