import { beforeEach, describe, expect, it } from 'vitest';
import { isPersonNumber } from '../../platform/src/identifiers/index.js';
import { bearer, jsonBody, ORG_SCOPES, TTD, USERS, useReplayHost } from '../altinn/harness.js';
import { problemOf } from '../support/storage.js';

/**
 * Issue 16, finding 5: an org (or an app) may map national identity numbers (fødselsnummer) to parties, names and
 * profiles, as Altinn serves app-lib; it may not enumerate them. Every route that answers a party or a profile for
 * a fødselsnummer counts, per caller, lookups that found nobody (a lockout) and lookups that found someone (a
 * quota); past either, 429 problem+json with Retry-After. Budgets here are small (3 misses, 4 finds per hour).
 */

const FAILURES = 3;
const QUOTA = 4;
const h = useReplayHost({
  IDENTITY_LOOKUP_FAILURES_PER_HOUR: String(FAILURES),
  IDENTITY_LOOKUP_QUOTA_PER_HOUR: String(QUOTA),
});

/** Valid fødselsnumre (mod-11) of nobody in the seed: what an attacker walks through. */
function unknownPersonNumbers(count: number): string[] {
  const found: string[] = [];
  for (let n = 1_010_100_000; found.length < count; n++) {
    const candidate = `0${n}`.slice(-11);
    if (isPersonNumber(candidate) && !Object.values(KNOWN).includes(candidate)) found.push(candidate);
  }
  return found;
}
const KNOWN = { sophie: USERS.sophie.ssn, ola: USERS.ola.ssn, kari: '15859030014', astrid: '17856510077' };

let ttd: Record<string, string>;

beforeEach(async () => {
  await h.db.query('DELETE FROM person_lookup_failures');
  ttd = bearer(await h.orgToken(ORG_SCOPES));
});

const post = (path: string, headers: Record<string, string>, value: unknown) => {
  const json = jsonBody(value);
  return h.send('POST', path, { headers: { ...headers, ...json.headers }, body: json.body });
};
const lookupParty = (headers: Record<string, string>, ssn: string) =>
  post('/register/api/v1/parties/lookup', headers, { ssn, orgNo: null });
const queryParties = (headers: Record<string, string>, ssns: string[], api = 'apps') =>
  post(`/register/api/v1/${api}/parties/query`, headers, {
    data: ssns.map((ssn) => `urn:altinn:person:identifier-no:${ssn}`),
  });
const lookupProfile = (headers: Record<string, string>, ssn: string) => post('/profile/api/v1/users', headers, ssn);

async function expectLocked(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  const problem = await problemOf(response);
  expect(problem.type).toBe('urn:altinn-platform:problem:too-many-requests');
  // The refusal names no person.
  expect(JSON.stringify(problem)).not.toMatch(/Salt|Nordmann|Sophie/);
}

describe('an org enumerating fødselsnumre is locked out after a few misses', () => {
  it('POST parties/lookup {ssn}: misses then 429, even for a number that exists', async () => {
    for (const ssn of unknownPersonNumbers(FAILURES)) expect((await lookupParty(ttd, ssn)).status).toBe(404);
    await expectLocked(await lookupParty(ttd, KNOWN.sophie));
  });

  it.each(['apps', 'access-management'])('POST %s/parties/query with person URNs: misses then 429', async (api) => {
    const misses = unknownPersonNumbers(FAILURES);
    const answer = await queryParties(ttd, misses, api);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ data: [] });
    await expectLocked(await queryParties(ttd, [KNOWN.sophie], api));
  });

  it('POST parties/query asking more numbers than the budget has left is refused whole', async () => {
    await expectLocked(await queryParties(ttd, unknownPersonNumbers(FAILURES + 1)));
    // Nothing was looked up, so nothing was counted: a single lookup still passes.
    expect((await queryParties(ttd, [KNOWN.sophie])).status).toBe(200);
  });

  it('POST profile users (ssn): misses then 429', async () => {
    for (const ssn of unknownPersonNumbers(FAILURES)) expect((await lookupProfile(ttd, ssn)).status).toBe(404);
    await expectLocked(await lookupProfile(ttd, KNOWN.sophie));
  });

  it('counts misses across the routes: one budget per caller', async () => {
    const [a, b, c] = unknownPersonNumbers(3);
    expect((await lookupParty(ttd, a as string)).status).toBe(404);
    expect((await lookupProfile(ttd, b as string)).status).toBe(404);
    expect((await queryParties(ttd, [c as string])).status).toBe(200);
    await expectLocked(await lookupParty(ttd, KNOWN.ola));
  });
});

describe('an org mapping a list of known fødselsnumre meets the quota', () => {
  it('answers the first QUOTA finds, then 429 on every identity route', async () => {
    const known = Object.values(KNOWN);
    for (const ssn of known) expect((await lookupParty(ttd, ssn)).status).toBe(200);
    expect(known).toHaveLength(QUOTA);
    await expectLocked(await lookupParty(ttd, KNOWN.sophie));
    await expectLocked(await queryParties(ttd, [KNOWN.sophie]));
    await expectLocked(await lookupProfile(ttd, KNOWN.sophie));
  });
});

describe('what stays open', () => {
  it('another org is not locked out by ttd', async () => {
    for (const ssn of unknownPersonNumbers(FAILURES)) await lookupParty(ttd, ssn);
    await expectLocked(await lookupParty(ttd, KNOWN.sophie));
    await h.db.query(
      "INSERT INTO service_owners (org, org_number, name) VALUES ('skd', '974761076', 'Skatteetaten') ON CONFLICT DO NOTHING",
    );
    const skd = bearer(await h.orgToken(ORG_SCOPES, '974761076'));
    expect((await lookupParty(skd, KNOWN.sophie)).status).toBe(200);
  });

  it('organisation numbers are public register data: orgNo lookups are not counted', async () => {
    for (let i = 0; i < FAILURES + QUOTA + 1; i++) {
      expect((await post('/register/api/v1/parties/lookup', ttd, { ssn: null, orgNo: '310000000' })).status).toBe(200);
    }
    expect((await h.db.query('SELECT caller FROM person_lookup_failures')).length).toBe(0);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, LookupParty: the instance owner at
  // instantiation, with the user's token and the app's PlatformAccessToken; counted under the user, not the org.
  it("app-lib's lookup of the instance owner passes, and is counted under the user, not the app's org", async () => {
    const sophie = bearer(await h.userToken(USERS.sophie.ssn));
    const app = { PlatformAccessToken: await h.host.platform.auth.issuer.accessToken({ org: TTD.org, app: 'demo' }) };
    const response = await lookupParty({ ...sophie, ...app }, USERS.sophie.ssn);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ partyId: USERS.sophie.partyId, ssn: USERS.sophie.ssn });
    const rows = await h.db.query<{ caller: string }>('SELECT caller FROM person_lookup_failures');
    expect(rows.map((row) => row.caller)).toEqual([`found:user:${USERS.sophie.userId}`]);
  });

  it('a user without their app is not counted: they get their own party or 403, which tells nothing', async () => {
    const ola = bearer(await h.userToken(USERS.ola.ssn));
    for (const ssn of unknownPersonNumbers(FAILURES + 1)) expect((await lookupParty(ola, ssn)).status).toBe(403);
    expect((await lookupParty(ola, USERS.ola.ssn)).status).toBe(200);
  });
});

// Party ids are sequential: reading parties by id (app-lib's RegisterClient.GetParty) must not be a way around the
// budgets. A person found counts toward the quota, an id naming no party toward the lockout; organisations are free.
describe('an org walking party ids is held to the same budgets', () => {
  const readParty = (headers: Record<string, string>, partyId: number) =>
    h.send('GET', `/register/api/v1/parties/${partyId}`, { headers });

  it('locks out after the misses, and counts only persons toward the quota', async () => {
    for (let id = 990_001; id < 990_001 + FAILURES; id++) expect((await readParty(ttd, id)).status).toBe(404);
    await expectLocked(await readParty(ttd, 990_100));
    // The budgets are per caller: the user's own reads through the app are not this org's.
    await h.db.query('DELETE FROM person_lookup_failures');
    // An organisation is public register data: it never counts.
    for (let i = 0; i < QUOTA + 2; i++) expect((await readParty(ttd, 500000)).status).toBe(200);
    for (let i = 0; i < QUOTA; i++) expect((await readParty(ttd, USERS.sophie.partyId)).status).toBe(200);
    await expectLocked(await readParty(ttd, USERS.ola.partyId));
  });

  it('does not count an end user reading their own party', async () => {
    const sophie = bearer(await h.userToken(USERS.sophie.ssn));
    for (let i = 0; i < QUOTA + 2; i++) expect((await readParty(sophie, USERS.sophie.partyId)).status).toBe(200);
  });
});
