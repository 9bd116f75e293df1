import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegisterHarness, type RegisterHarness } from '../../../test/support/register.js';
import { fieldsOf, problemOf } from '../../../test/support/storage.js';
import type { UserProfile } from './schemas.js';

const SOPHIE = { userId: 1001, partyId: 510001, ssn: '01817550181', uuid: '00000000-0000-4000-b000-000000001001' };
const OLA = { userId: 1002, partyId: 510002 };
const UNKNOWN_UUID = '00000000-0000-4000-b000-000000009999';

let h: RegisterHarness;
let ttd: Record<string, string>;
let sophie: Record<string, string>;
let ola: Record<string, string>;

beforeAll(async () => {
  h = await openRegisterHarness();
  ttd = await h.org('ttd');
  sophie = await h.user(SOPHIE.userId, SOPHIE.partyId);
  ola = await h.user(OLA.userId, OLA.partyId);
});
afterAll(() => h.close());

const profileOf = async (response: Response): Promise<UserProfile> => {
  expect(response.status).toBe(200);
  return (await response.json()) as UserProfile;
};

describe('reading profiles', () => {
  it('GET users/current answers the caller with their party and default settings', async () => {
    const profile = await profileOf(await h.profile('GET', 'users/current', sophie));
    expect(profile).toMatchObject({
      userId: SOPHIE.userId,
      userUuid: SOPHIE.uuid,
      userName: 'sophie',
      isReserved: false,
      email: 'sophie.salt@test.local',
      phoneNumber: '+4799000001',
      partyId: SOPHIE.partyId,
      userType: 1,
      party: { partyId: SOPHIE.partyId, ssn: SOPHIE.ssn, person: { lastName: 'Salt' } },
      profileSettingPreference: { language: 'nb', preSelectedPartyId: 0, doNotPromptForParty: false },
    });
  });

  it('lets a user read their own profile by id, uuid and ssn', async () => {
    expect((await profileOf(await h.profile('GET', `users/${SOPHIE.userId}`, sophie))).userUuid).toBe(SOPHIE.uuid);
    expect((await profileOf(await h.profile('GET', `users/byuuid/${SOPHIE.uuid}`, sophie))).userId).toBe(SOPHIE.userId);
    expect((await profileOf(await h.profile('POST', 'users', sophie, JSON.stringify(SOPHIE.ssn)))).userId).toBe(
      SOPHIE.userId,
    );
  });

  it("answers 403 for another user's profile by id, uuid or ssn", async () => {
    for (const response of [
      await h.profile('GET', `users/${SOPHIE.userId}`, ola),
      await h.profile('GET', `users/byuuid/${SOPHIE.uuid}`, ola),
      await h.profile('POST', 'users', ola, JSON.stringify(SOPHIE.ssn)),
    ]) {
      expect(response.status).toBe(403);
      expect((await problemOf(response)).detail).toBe('User 1002 may read their own profile only.');
    }
  });

  it('lets an org look any user up, a self-identified one too', async () => {
    expect((await profileOf(await h.profile('GET', `users/${SOPHIE.userId}`, ttd))).partyId).toBe(SOPHIE.partyId);
    expect((await profileOf(await h.profile('POST', 'users', ttd, JSON.stringify(SOPHIE.ssn)))).userId).toBe(1001);
    const self = await profileOf(await h.profile('GET', 'users/1337', ttd));
    expect(self).toMatchObject({ userType: 2, userName: 'hackerman', party: { partyTypeName: 3 } });
  });

  it('answers 404 to an org for unknown users', async () => {
    expect((await h.profile('GET', 'users/999999', ttd)).status).toBe(404);
    expect((await h.profile('GET', `users/byuuid/${UNKNOWN_UUID}`, ttd)).status).toBe(404);
    expect((await h.profile('POST', 'users', ttd, JSON.stringify('15058045656'))).status).toBe(404);
  });

  it('answers 400 naming the field for a bad ssn, user id or uuid', async () => {
    const badSsn = await h.profile('POST', 'users', ttd, JSON.stringify('01817550182'));
    expect(badSsn.status).toBe(400);
    expect((await problemOf(badSsn)).errors).toEqual([{ field: 'body', detail: 'has invalid mod-11 control digits' }]);
    expect(await fieldsOf(await h.profile('POST', 'users', ttd, JSON.stringify(1001)))).toEqual(['body']);
    expect(await fieldsOf(await h.profile('GET', 'users/abc', ttd))).toEqual(['path.userId']);
    expect(await fieldsOf(await h.profile('GET', 'users/byuuid/not-a-uuid', ttd))).toEqual(['path.userUuid']);
  });

  it('answers 403 to an org asking for users/current, and 401 without a token', async () => {
    expect((await h.profile('GET', 'users/current', ttd)).status).toBe(403);
    const none = await h.profile('GET', 'users/current');
    expect(none.status).toBe(401);
    expect((await h.profile('GET', `users/${SOPHIE.userId}`)).status).toBe(401);
    expect((await h.profile('POST', 'users', {}, JSON.stringify(SOPHIE.ssn))).status).toBe(401);
  });
});

describe('PUT users/current/profilesettingpreference', () => {
  const put = (headers: Record<string, string>, body: unknown) =>
    h.profile('PUT', 'users/current/profilesettingpreference', headers, body);

  it('changes the named settings, keeps the others, and GET answers them', async () => {
    const changed = await profileOf(await put(ola, { language: 'nn', preSelectedPartyId: 510002 }));
    expect(changed.profileSettingPreference).toEqual({
      language: 'nn',
      preSelectedPartyId: 510002,
      doNotPromptForParty: false,
    });
    await profileOf(await put(ola, { doNotPromptForParty: true }));
    const read = await profileOf(await h.profile('GET', 'users/current', ola));
    expect(read.profileSettingPreference).toEqual({
      language: 'nn',
      preSelectedPartyId: 510002,
      doNotPromptForParty: true,
    });
    const cleared = await profileOf(await put(ola, { preSelectedPartyId: null, language: 'en' }));
    expect(cleared.profileSettingPreference).toMatchObject({ language: 'en', preSelectedPartyId: 0 });
    // Sophie's settings are her own.
    const other = await profileOf(await h.profile('GET', 'users/current', sophie));
    expect(other.profileSettingPreference.language).toBe('nb');
  });

  it('answers 400 for an unknown language, a party that does not exist and unknown fields, changing nothing', async () => {
    const language = await put(sophie, { language: 'sv' });
    expect(language.status).toBe(400);
    expect(await fieldsOf(language)).toEqual(['language']);
    const party = await put(sophie, { language: 'en', preSelectedPartyId: 999999 });
    expect(party.status).toBe(400);
    // A party that does not exist and one that exists but Sophie may not represent (Ola's) answer alike, so the
    // settings tell nothing of whether a party id exists.
    const unknown = (await problemOf(party)).errors;
    const foreign = await put(sophie, { preSelectedPartyId: 510002 });
    expect(foreign.status).toBe(400);
    expect((await problemOf(foreign)).errors).toEqual(unknown);
    expect(unknown).toEqual([{ field: 'preSelectedPartyId', detail: 'not a party user 1001 may represent' }]);
    expect(await fieldsOf(await put(sophie, { theme: 'dark' }))).toEqual(['theme']);
    const read = await profileOf(await h.profile('GET', 'users/current', sophie));
    expect(read.profileSettingPreference.language).toBe('nb');
  });

  it('answers 403 to an org and 401 without a token', async () => {
    expect((await put(ttd, { language: 'en' })).status).toBe(403);
    expect((await put({}, { language: 'en' })).status).toBe(401);
  });
});
