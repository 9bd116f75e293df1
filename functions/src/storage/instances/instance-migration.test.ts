import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../../platform/src/db/index.js';
import { runMigrations } from '../../../../platform/src/db/migrate.js';
import { openTestDatabase } from '../../../../test/support/database.js';
import { hostMigrations } from '../../migrations.js';

const before7 = hostMigrations.filter((migration) => migration.version < 7);

/** Inserts an instance row as versions before 7 stored it: the document and the filter columns of version 3. */
async function insertDocument(db: Database, guid: string, document: Record<string, unknown>) {
  await db.query(
    `INSERT INTO instances (instance_guid, party_id, org, app, instance, created, last_changed, is_complete,
       is_archived, is_soft_deleted, is_hard_deleted)
     VALUES ($1, 510001, 'ttd', 'forms', $2::jsonb, now(), now(), false, false, false, false)`,
    [guid, JSON.stringify(document)],
  );
}

describe('migration 7 (instance owner numbers, confirmations, row version)', () => {
  let db: Database;
  beforeEach(async () => {
    db = await openTestDatabase({ migrations: before7 });
  });
  afterEach(async () => {
    await db.close();
  });

  const rows = () =>
    db.query<{ guid: string; person: string | null; organisation: string | null; confirmed: string[]; v: string }>(
      `SELECT instance_guid::text AS guid, person_number AS person, organisation_number AS organisation,
         confirmed_by AS confirmed, version::text AS v
       FROM instances ORDER BY instance_guid`,
    );

  it('backfills owner numbers and confirmed stakeholders from the stored documents, at version 1', async () => {
    const guid = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    await insertDocument(db, guid(1), {
      instanceOwner: { partyId: '510001', personNumber: '15058045656' },
      completeConfirmations: [
        { stakeholderId: 'ttd', confirmedOn: '2026-01-01T00:00:00Z' },
        { stakeholderId: 'skd', confirmedOn: '2026-01-02T00:00:00Z' },
        { stakeholderId: 'ttd', confirmedOn: '2026-01-03T00:00:00Z' },
      ],
    });
    await insertDocument(db, guid(2), {
      instanceOwner: { partyId: '510001', organisationNumber: '974760673', personNumber: '' },
      completeConfirmations: null,
    });
    await insertDocument(db, guid(3), { instanceOwner: { partyId: '510001' }, completeConfirmations: {} });
    await insertDocument(db, guid(4), { instanceOwner: { partyId: '510001' } });

    expect(
      (
        await runMigrations(
          db,
          hostMigrations.filter((m) => m.version <= 7),
        )
      ).applied,
    ).toEqual([7]);

    const backfilled = await rows();
    expect(backfilled.map((row) => ({ ...row, confirmed: [...row.confirmed].sort() }))).toEqual([
      { guid: guid(1), person: '15058045656', organisation: null, confirmed: ['skd', 'ttd'], v: '1' },
      { guid: guid(2), person: null, organisation: '974760673', confirmed: [], v: '1' },
      { guid: guid(3), person: null, organisation: null, confirmed: [], v: '1' },
      { guid: guid(4), person: null, organisation: null, confirmed: [], v: '1' },
    ]);
  });

  it('raises the version on every UPDATE of a row, whoever writes it', async () => {
    await runMigrations(db, hostMigrations);
    const guid = '00000000-0000-4000-8000-000000000009';
    await insertDocument(db, guid, { instanceOwner: { partyId: '510001' } });
    await db.query('UPDATE instances SET is_archived = true WHERE instance_guid = $1', [guid]);
    await db.query('UPDATE instances SET version = 1 WHERE instance_guid = $1', [guid]);
    expect((await rows()).map((row) => row.v)).toEqual(['3']);
  });
});
