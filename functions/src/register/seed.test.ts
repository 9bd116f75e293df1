import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../platform/src/db/index.js';
import { isOrganisationNumber, isPersonNumber } from '../../../platform/src/identifiers/index.js';
import { openTestDatabase } from '../../../test/support/database.js';
import { PARTY_TYPES } from './schemas.js';
import { seedRegister, TEST_PARTIES, TEST_ROLES, TEST_USERS } from './seed.js';

let db: Database;
beforeEach(async () => {
  db = await openTestDatabase();
});
afterEach(() => db.close());

const count = async (table: string) =>
  Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))[0]?.n);

describe('test data', () => {
  it('has valid, synthetic (month + 80) fødselsnummer and valid organisation numbers', () => {
    const persons = TEST_PARTIES.filter((party) => party.type === PARTY_TYPES.person);
    expect(persons.length).toBeGreaterThanOrEqual(5);
    for (const person of persons) {
      expect(isPersonNumber(person.ssn ?? '')).toBe(true);
      expect(Number(person.ssn?.slice(2, 4))).toBeGreaterThan(80);
    }
    for (const org of TEST_PARTIES.filter((party) => party.orgNumber !== undefined)) {
      expect(isOrganisationNumber(org.orgNumber ?? '')).toBe(true);
    }
  });

  it('covers every party type, Altinn’s user ids, and users and roles that name seeded parties', () => {
    expect(new Set(TEST_PARTIES.map((party) => party.type))).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(TEST_USERS.map((user) => user.userId)).toEqual([1001, 1002, 1003, 1004, 12345, 1337]);
    const ids = new Set(TEST_PARTIES.map((party) => party.partyId));
    for (const user of TEST_USERS) expect(ids.has(user.partyId)).toBe(true);
    for (const role of TEST_ROLES) expect(ids.has(role.partyId)).toBe(true);
  });

  it('is documented in SEED.md: every party id, number and user id appears in its tables', async () => {
    // Cells compared without their padding (the formatter aligns the tables).
    const doc = (await readFile(new URL('./SEED.md', import.meta.url), 'utf8')).replace(/ +/g, ' ');
    for (const party of TEST_PARTIES) {
      for (const value of [party.partyId, party.ssn, party.orgNumber, party.name]) {
        if (value !== undefined) expect(doc).toContain(`| ${value} |`);
      }
    }
    for (const user of TEST_USERS) expect(doc).toContain(`| ${user.userId} | ${user.userName} |`);
  });
});

describe('seedRegister', () => {
  it('writes every party and user, and a second run changes nothing', async () => {
    await seedRegister(db);
    expect(await count('parties')).toBe(TEST_PARTIES.length);
    expect(await count('user_profiles')).toBe(TEST_USERS.length);
    const before = await db.query('SELECT * FROM parties ORDER BY party_id');
    await seedRegister(db);
    expect(await count('parties')).toBe(TEST_PARTIES.length);
    expect(await db.query('SELECT * FROM parties ORDER BY party_id')).toEqual(before);
  });

  it("restores changed test parties but keeps a user's own settings", async () => {
    await seedRegister(db);
    await db.query("UPDATE parties SET name = 'Renamed', is_deleted = true WHERE party_id = 500000");
    await db.query("UPDATE user_profiles SET language = 'en', email = 'x@y' WHERE user_id = 1001");
    await seedRegister(db);
    expect(await db.query('SELECT name, is_deleted FROM parties WHERE party_id = 500000')).toEqual([
      { name: 'DDG Fitness AS', is_deleted: false },
    ]);
    expect(await db.query('SELECT language, email FROM user_profiles WHERE user_id = 1001')).toEqual([
      { language: 'en', email: 'sophie.salt@test.local' },
    ]);
  });
});
