import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegisterHarness, type RegisterHarness } from '../../../test/support/register.js';
import { fieldsOf, problemOf } from '../../../test/support/storage.js';
import type { Party } from './schemas.js';
import { TEST_PARTIES, TEST_USERS } from './seed.js';

const SOPHIE = { userId: 1001, partyId: 510001, ssn: '01817550181' };
const DDG = { partyId: 500000, orgNumber: '310000000' };
const DDG_BERGEN = { partyId: 500001, orgNumber: '310100005' };
const ESTATE = { partyId: 500200, orgNumber: '310400009' };
// Valid by mod-11 but not in the test data.
const UNKNOWN_SSN = '15058045656';
const UNKNOWN_ORG = '974760673';

let h: RegisterHarness;
let ttd: Record<string, string>;
let sophie: Record<string, string>;

beforeAll(async () => {
  h = await openRegisterHarness();
  ttd = await h.org('ttd');
  sophie = await h.user(SOPHIE.userId, SOPHIE.partyId);
});
afterAll(() => h.close());

const json = async <T>(response: Response, status = 200): Promise<T> => {
  expect(response.status).toBe(status);
  return (await response.json()) as T;
};

describe('GET parties/{partyId}', () => {
  it('answers an organisation with its sub-units as childParties', async () => {
    const party = await json<Party>(await h.register('GET', `parties/${DDG.partyId}`, ttd));
    expect(party).toMatchObject({
      partyId: DDG.partyId,
      partyUuid: '00000000-0000-4000-a000-000000500000',
      partyTypeName: 2,
      orgNumber: DDG.orgNumber,
      ssn: null,
      unitType: 'AS',
      name: 'DDG Fitness AS',
      isDeleted: false,
      person: null,
      organization: { orgNumber: DDG.orgNumber, name: 'DDG Fitness AS', businessPostalCity: 'OSLO' },
    });
    expect(party.childParties?.map((child) => [child.partyId, child.partyTypeName])).toEqual([
      [500001, 4],
      [500002, 4],
    ]);
  });

  it('answers a person with person details and no organisation', async () => {
    const party = await json<Party>(await h.register('GET', `parties/${SOPHIE.partyId}`, ttd));
    expect(party).toMatchObject({ partyTypeName: 1, ssn: SOPHIE.ssn, orgNumber: null, organization: null });
    expect(party.person).toMatchObject({ ssn: SOPHIE.ssn, firstName: 'Sophie', lastName: 'Salt', addressCity: 'OSLO' });
    expect(party.childParties).toBeNull();
  });

  it('answers a self-identified party and a bankruptcy estate with their types', async () => {
    expect(await json<Party>(await h.register('GET', 'parties/501337', ttd))).toMatchObject({
      partyTypeName: 3,
      name: 'hackerman',
      ssn: null,
      orgNumber: null,
    });
    expect(await json<Party>(await h.register('GET', `parties/${ESTATE.partyId}`, ttd))).toMatchObject({
      partyTypeName: 5,
      unitType: 'KBO',
    });
  });

  it('lets a user read their own party, and answers 403 for any other', async () => {
    expect((await json<Party>(await h.register('GET', `parties/${SOPHIE.partyId}`, sophie))).name).toBe('Sophie Salt');
    const other = await h.register('GET', `parties/${DDG.partyId}`, sophie);
    expect(other.status).toBe(403);
    expect((await problemOf(other)).type).toBe('urn:altinn-platform:problem:forbidden');
  });

  it('answers 404 for an unknown party and 400 for a malformed id', async () => {
    const missing = await h.register('GET', 'parties/999999', ttd);
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).detail).toBe('No party with id 999999.');
    const bad = await h.register('GET', 'parties/abc', ttd);
    expect(bad.status).toBe(400);
    expect(await fieldsOf(bad)).toEqual(['path.partyId']);
  });

  it('answers 401 without a token and with a bad one', async () => {
    const none = await h.register('GET', `parties/${DDG.partyId}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="platform"');
    expect((await h.register('GET', `parties/${DDG.partyId}`, { authorization: 'Bearer x.y.z' })).status).toBe(401);
  });
});

describe('POST parties/lookup', () => {
  it('finds a person by ssn and an organisation or sub-unit by orgNo for an org caller', async () => {
    expect((await json<Party>(await h.register('POST', 'parties/lookup', ttd, { ssn: SOPHIE.ssn }))).partyId).toBe(
      SOPHIE.partyId,
    );
    expect((await json<Party>(await h.register('POST', 'parties/lookup', ttd, { orgNo: DDG.orgNumber }))).partyId).toBe(
      DDG.partyId,
    );
    const bergen = await json<Party>(await h.register('POST', 'parties/lookup', ttd, { orgNo: DDG_BERGEN.orgNumber }));
    expect(bergen).toMatchObject({ partyId: DDG_BERGEN.partyId, partyTypeName: 4, unitType: 'BEDR' });
  });

  it('answers 404 for valid but unknown numbers', async () => {
    expect((await h.register('POST', 'parties/lookup', ttd, { ssn: UNKNOWN_SSN })).status).toBe(404);
    expect((await h.register('POST', 'parties/lookup', ttd, { orgNo: UNKNOWN_ORG })).status).toBe(404);
  });

  it.each([
    ['an ssn failing its mod-11 check', { ssn: '01817550182' }, 'ssn', 'has invalid mod-11 control digits'],
    ['an ssn of 10 digits', { ssn: '0181755018' }, 'ssn', 'must be an 11-digit fødselsnummer'],
    ['an orgNo failing its mod-11 check', { orgNo: '310000001' }, 'orgNo', 'has an invalid mod-11 control digit'],
    ['an orgNo with a letter', { orgNo: '31000000x' }, 'orgNo', 'must be a 9-digit organisasjonsnummer'],
  ])('answers 400 naming the field for %s', async (_, body, field, detail) => {
    const response = await h.register('POST', 'parties/lookup', ttd, body);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).errors).toEqual([{ field, detail }]);
  });

  it('answers 400 for both numbers at once, for neither, and for unknown fields', async () => {
    const both = await h.register('POST', 'parties/lookup', ttd, { ssn: SOPHIE.ssn, orgNo: DDG.orgNumber });
    expect(both.status).toBe(400);
    expect(await fieldsOf(both)).toEqual(['body']);
    expect((await h.register('POST', 'parties/lookup', ttd, {})).status).toBe(400);
    expect(await fieldsOf(await h.register('POST', 'parties/lookup', ttd, { ssn: SOPHIE.ssn, name: 'x' }))).toEqual([
      'name',
    ]);
  });

  it('lets a user look up their own party, and answers 403 for others whether or not they exist', async () => {
    expect((await json<Party>(await h.register('POST', 'parties/lookup', sophie, { ssn: SOPHIE.ssn }))).partyId).toBe(
      SOPHIE.partyId,
    );
    expect((await h.register('POST', 'parties/lookup', sophie, { orgNo: DDG.orgNumber })).status).toBe(403);
    expect((await h.register('POST', 'parties/lookup', sophie, { ssn: UNKNOWN_SSN })).status).toBe(403);
  });

  it('answers 401 without a token', async () => {
    expect((await h.register('POST', 'parties/lookup', {}, { ssn: SOPHIE.ssn })).status).toBe(401);
  });
});

describe('POST parties/partylist', () => {
  it('answers the known parties in the order asked, each once, leaving unknown ids out', async () => {
    const parties = await json<Party[]>(
      await h.register('POST', 'parties/partylist', ttd, [ESTATE.partyId, 999999, SOPHIE.partyId, ESTATE.partyId]),
    );
    expect(parties.map((party) => party.partyId)).toEqual([ESTATE.partyId, SOPHIE.partyId]);
  });

  it('lets a user list their own party only (403 otherwise), and refuses a body that is not a list of ids', async () => {
    expect(await json<Party[]>(await h.register('POST', 'parties/partylist', sophie, [SOPHIE.partyId]))).toHaveLength(
      1,
    );
    expect((await h.register('POST', 'parties/partylist', sophie, [SOPHIE.partyId, DDG.partyId])).status).toBe(403);
    const bad = await h.register('POST', 'parties/partylist', ttd, ['510001']);
    expect(bad.status).toBe(400);
    expect(await fieldsOf(bad)).toEqual(['[0]']);
  });
});

describe('GET organizations/{orgNr}', () => {
  it('answers the organisation to any authenticated caller', async () => {
    for (const caller of [ttd, sophie]) {
      expect(await json(await h.register('GET', `organizations/${DDG_BERGEN.orgNumber}`, caller))).toMatchObject({
        orgNumber: DDG_BERGEN.orgNumber,
        name: 'DDG Fitness Bergen',
        unitType: 'BEDR',
        businessPostalCity: 'BERGEN',
      });
    }
  });

  it('answers 400 for a bad check digit, 404 for an unknown number, 401 without a token', async () => {
    const bad = await h.register('GET', 'organizations/310000001', ttd);
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).errors).toEqual([
      { field: 'path.orgNr', detail: 'has an invalid mod-11 control digit' },
    ]);
    expect((await h.register('GET', `organizations/${UNKNOWN_ORG}`, ttd)).status).toBe(404);
    expect((await h.register('GET', `organizations/${DDG.orgNumber}`)).status).toBe(401);
  });
});

describe('GET testdata', () => {
  it('lists every seeded user and organisation without a token', async () => {
    const listing = await json<{ users: { userId: number; ssn: string | null }[]; organisations: unknown[] }>(
      await h.register('GET', 'testdata'),
    );
    expect(listing.users.map((user) => user.userId)).toEqual(TEST_USERS.map((user) => user.userId));
    expect(listing.users.find((user) => user.userId === SOPHIE.userId)?.ssn).toBe(SOPHIE.ssn);
    expect(listing.organisations).toHaveLength(TEST_PARTIES.filter((party) => party.orgNumber).length);
    expect(listing.organisations).toContainEqual(expect.objectContaining({ partyId: 500001, parentPartyId: 500000 }));
  });

  it('answers 404 when test data is off, with or without a token', async () => {
    await h.close();
    const off = await openRegisterHarness({ testData: false });
    try {
      expect((await off.register('GET', 'testdata')).status).toBe(404);
      expect((await off.register('GET', 'testdata', await off.org('ttd'))).status).toBe(404);
    } finally {
      await off.close();
      h = await openRegisterHarness();
    }
  });
});
