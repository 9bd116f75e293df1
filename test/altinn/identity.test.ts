import { createPublicKey } from 'node:crypto';
import { createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, signAppToken, type TestCertificate } from '../support/certificates.js';
import { problemOf } from '../support/storage.js';
import { bearer, jsonBody, ORG_SCOPES, TTD, USERS, useReplayHost } from './harness.js';

/**
 * Replay tests of Register, Profile and Authentication: each call sent as Altinn's app library (v8.12.7) builds it,
 * with the PlatformAccessToken the app signs itself with its org's certificate (Altinn.Common.AccessTokenClient's
 * AccessTokenGenerator), registered here through `authentication/api/v1/apptokenkeys/{org}`.
 */

const OPERATOR_TOKEN = 'operator-token-for-identity-replay';
const h = useReplayHost({ PROVISIONER_ADMIN_TOKEN: OPERATOR_TOKEN });

const APP = 'identity-app';
const KEYS = `/authentication/api/v1/apptokenkeys/${TTD.org}`;
/** The headers every app-lib platform client sets on its HttpClient (PlatformSettings.SubscriptionKey, Accept). */
const CLIENT_HEADERS = { 'Ocp-Apim-Subscription-Key': 'replay-subscription-key', Accept: 'application/json' };

let ttd: string;
let sophie: string;
let certificate: TestCertificate;
/** A PlatformAccessToken of ttd/identity-app signed with ttd's registered certificate. */
let appToken: string;

/** The headers of `HttpClientExtension.GetAsync/PostAsync(token, uri, platformAccessToken)`. */
const appCall = (userToken: string, accessToken = appToken) => ({
  ...CLIENT_HEADERS,
  ...bearer(userToken),
  PlatformAccessToken: accessToken,
});

const registerKey = (token: string, body: unknown, org: string = TTD.org) => {
  const json = jsonBody(body);
  return h.send('POST', `/authentication/api/v1/apptokenkeys/${org}`, {
    headers: { ...json.headers, ...bearer(token) },
    body: json.body,
  });
};

beforeAll(async () => {
  ttd = await h.orgToken(ORG_SCOPES);
  sophie = await h.userToken(USERS.sophie.ssn);
  const created = await h.send('POST', `/storage/api/v1/applications/${TTD.org}/${APP}`, {
    ...jsonBody({ title: { nb: 'Identitet' } }),
    headers: { ...jsonBody({}).headers, ...bearer(ttd) },
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const now = Date.now();
  certificate = makeCertificate('ttd', new Date(now - 3_600_000), new Date(now + 86_400_000));
  const registered = await registerKey(ttd, { certificate: certificate.pem });
  expect(registered.status, await registered.clone().text()).toBe(201);
  appToken = await signAppToken(certificate.privateKeyPem, {
    issuer: TTD.org,
    app: APP,
    kid: certificate.thumbprint,
    x5t: certificate.x5t,
  });
}, 60_000);

describe('Register as app-lib calls it', () => {
  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, GetParty
  it('GET parties/{partyId}: the user’s own party, every field Party deserializes', async () => {
    const response = await h.send('GET', `/register/api/v1/parties/${USERS.sophie.partyId}`, {
      headers: appCall(sophie),
    });
    expect(response.status).toBe(200);
    const party = (await response.json()) as Record<string, unknown>;
    expect(party).toMatchObject({
      partyId: USERS.sophie.partyId,
      partyTypeName: 1,
      ssn: USERS.sophie.ssn,
      orgNumber: null,
      isDeleted: false,
      onlyHierarchyElementWithNoAccess: false,
      person: { ssn: USERS.sophie.ssn, lastName: 'Salt' },
      organization: null,
    });
    expect(party.partyUuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, GetParty (a represented party)
  it('GET parties/{partyId}: a party the user represents (DAGL of DDG Fitness), with its sub-units', async () => {
    const response = await h.send('GET', '/register/api/v1/parties/500000', { headers: appCall(sophie) });
    expect(response.status).toBe(200);
    const party = (await response.json()) as { partyTypeName: number; orgNumber: string; childParties: unknown[] };
    expect(party).toMatchObject({ partyTypeName: 2, orgNumber: '310000000', ssn: null, person: null });
    expect(party.childParties).toHaveLength(2);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, GetParty (bad path)
  it('GET parties/{partyId}: 403 problem for a party the user may not represent', async () => {
    const response = await h.send('GET', '/register/api/v1/parties/500100', { headers: appCall(sophie) });
    expect(response.status).toBe(403);
    expect((await problemOf(response)).detail).toMatch(/represent/);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, LookupParty
  // (JsonSerializerPermissive.Serialize(PartyLookup): both members, the unused one null; Content-Type application/json)
  it('POST parties/lookup with {"ssn":..,"orgNo":null} and {"ssn":null,"orgNo":..}', async () => {
    const headers = { ...appCall(sophie), 'Content-Type': 'application/json' };
    const bySsn = await h.send('POST', '/register/api/v1/parties/lookup', {
      headers,
      body: `{"ssn":"${USERS.sophie.ssn}","orgNo":null}`,
    });
    expect(bySsn.status).toBe(200);
    expect(await bySsn.json()).toMatchObject({ partyId: USERS.sophie.partyId, partyTypeName: 1 });
    const byOrgNo = await h.send('POST', '/register/api/v1/parties/lookup', {
      headers,
      body: '{"ssn":null,"orgNo":"310000000"}',
    });
    expect(byOrgNo.status).toBe(200);
    expect(await byOrgNo.json()).toMatchObject({ partyId: 500000, orgNumber: '310000000' });
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, LookupParty (bad paths; and the
  // app's PlatformAccessToken lets it look up any party, as Altinn's Register serves it)
  it('POST parties/lookup: 400 with neither member; a foreign organisation through the app 200, without it 403', async () => {
    const headers = { ...appCall(sophie), 'Content-Type': 'application/json' };
    const neither = await h.send('POST', '/register/api/v1/parties/lookup', {
      headers,
      body: '{"ssn":null,"orgNo":null}',
    });
    expect(neither.status).toBe(400);
    expect((await problemOf(neither)).detail).toMatch(/exactly one of ssn and orgNo/);
    const body = '{"ssn":null,"orgNo":"310300004"}';
    const throughApp = await h.send('POST', '/register/api/v1/parties/lookup', { headers, body });
    expect(throughApp.status).toBe(200);
    expect(await throughApp.json()).toMatchObject({ partyId: 500100 });
    const { PlatformAccessToken: _app, ...userOnly } = headers;
    const direct = await h.send('POST', '/register/api/v1/parties/lookup', { headers: userOnly, body });
    expect(direct.status).toBe(403);
  });

  // src/Altinn.App.Core/Internal/Registers/RegisterClient.cs, GetPartyListUnchecked
  // (POST parties/partylist?fetchSubUnits=true, StringContent(JsonSerializer.Serialize(partyIds), UTF8, "application/json"))
  it('POST parties/partylist?fetchSubUnits=true: any parties for the app, sub-units included; none found 404', async () => {
    const headers = { ...appCall(sophie), 'Content-Type': 'application/json; charset=utf-8' };
    const response = await h.send('POST', '/register/api/v1/parties/partylist?fetchSubUnits=true', {
      headers,
      body: JSON.stringify([500000, 500100]),
    });
    expect(response.status).toBe(200);
    const parties = (await response.json()) as { partyId: number; childParties: unknown[] | null }[];
    expect(parties.map((party) => party.partyId)).toEqual([500000, 500100]);
    expect(parties[0]?.childParties).toHaveLength(2);
    const flat = await h.send('POST', '/register/api/v1/parties/partylist?fetchSubUnits=False', {
      headers,
      body: JSON.stringify([500000]),
    });
    expect(((await flat.json()) as { childParties: unknown }[])[0]?.childParties).toBeNull();
    const none = await h.send('POST', '/register/api/v1/parties/partylist?fetchSubUnits=true', {
      headers,
      body: JSON.stringify([999999]),
    });
    expect(none.status).toBe(404);
    expect((await problemOf(none)).status).toBe(404);
    // Without the app's token a user reads only parties they represent.
    const { PlatformAccessToken: _app, ...userOnly } = headers;
    const direct = await h.send('POST', '/register/api/v1/parties/partylist', {
      headers: userOnly,
      body: JSON.stringify([500100]),
    });
    expect(direct.status).toBe(403);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, GetPartyIdByUrn
  // (POST apps/parties/query?fields=id,user.id, StringContent(JsonSerializer.Serialize(new { data = [urn] })),
  // Content-Type application/json; reads data[0].partyId as an int, null when data is empty)
  it('POST apps/parties/query: the party a URN names, for the app; empty data for an unknown one; 400 for a bad URN', async () => {
    const query = (urn: string, headers: Record<string, string> = appCall(sophie)) =>
      h.send('POST', '/register/api/v1/apps/parties/query?fields=id,user.id', {
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ data: [urn] }),
      });
    const person = await query(`urn:altinn:person:identifier-no:${USERS.ola.ssn}`);
    expect(person.status).toBe(200);
    const found = (await person.json()) as { data: { partyId: number; partyUuid: string }[] };
    expect(found.data).toHaveLength(1);
    expect(found.data[0]?.partyId).toBe(USERS.ola.partyId);
    const org = (await (await query('urn:altinn:organization:identifier-no:310000000')).json()) as {
      data: { partyId: number }[];
    };
    expect(org.data.map((party) => party.partyId)).toEqual([500000]);
    expect(((await (await query('urn:altinn:person:identifier-no:01010100000')).json()) as { data: [] }).data).toEqual(
      [],
    );
    const bad = await query('urn:altinn:person:name:Ola');
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).errors?.map((error) => error.field)).toEqual(['data[0]']);
    // A user without the app's token sees only parties they represent: Ola's party is left out for Sophie.
    const { PlatformAccessToken: _app, ...userOnly } = appCall(sophie);
    const direct = await query(`urn:altinn:person:identifier-no:${USERS.ola.ssn}`, userOnly);
    expect(direct.status).toBe(200);
    expect(((await direct.json()) as { data: [] }).data).toEqual([]);
    expect((await query(`urn:altinn:person:identifier-no:${USERS.ola.ssn}`, CLIENT_HEADERS)).status).toBe(401);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs, GetPartyUuidByUrn
  // (POST access-management/parties/query, the same body; reads data[0].partyUuid as a Guid)
  it('POST access-management/parties/query: the party UUID a URN names, for the app', async () => {
    const response = await h.send('POST', '/register/api/v1/access-management/parties/query', {
      headers: { ...appCall(sophie), 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: [`urn:altinn:party:id:${USERS.sophie.partyId}`] }),
    });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { partyUuid: string; partyId: number }[] };
    expect(data[0]?.partyId).toBe(USERS.sophie.partyId);
    expect(data[0]?.partyUuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/PersonClient.cs, GetPerson
  // (X-Ai-NationalIdentityNumber as it is, X-Ai-LastName Base64 of the UTF-8 name)
  it('GET persons with the Base64 last name: 200 Person; a wrong name 404', async () => {
    const lookup = (lastName: string) =>
      h.send('GET', '/register/api/v1/persons', {
        headers: {
          ...appCall(sophie),
          'X-Ai-NationalIdentityNumber': USERS.ola.ssn,
          'X-Ai-LastName': Buffer.from(lastName, 'utf8').toString('base64'),
        },
      });
    const found = await lookup('Nordmann');
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ ssn: USERS.ola.ssn, lastName: 'Nordmann', firstName: 'Ola' });
    const wrong = await lookup('Sørensen');
    expect(wrong.status).toBe(404);
    expect((await problemOf(wrong)).status).toBe(404);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/PersonClient.cs, GetPerson (a name with æøå)
  it('GET persons matches a non-ASCII last name sent as Base64', async () => {
    const response = await h.send('GET', '/register/api/v1/persons', {
      headers: {
        ...appCall(sophie),
        'X-Ai-NationalIdentityNumber': '24839920071',
        'X-Ai-LastName': Buffer.from('Sørensen', 'utf8').toString('base64'),
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ lastName: 'Sørensen' });
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Register/RegisterERClient.cs, GetOrganization
  it('GET organizations/{orgNr}: the Organization fields', async () => {
    const response = await h.send('GET', '/register/api/v1/organizations/310000000', { headers: appCall(sophie) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ orgNumber: '310000000', name: 'DDG Fitness AS', unitType: 'AS' });
  });
});

describe('Profile as app-lib calls it', () => {
  /** What app-lib's UserProfile needs: ints as ints (preSelectedPartyId 0 when none), never null where Altinn has int. */
  const expectProfile = (profile: Record<string, unknown>) => {
    expect(profile).toMatchObject({
      userId: USERS.sophie.userId,
      partyId: USERS.sophie.partyId,
      userType: 1,
      isReserved: false,
      party: { partyId: USERS.sophie.partyId, partyTypeName: 1 },
      profileSettingPreference: { language: 'nb', doNotPromptForParty: false },
    });
    const preference = profile.profileSettingPreference as { preSelectedPartyId: unknown };
    expect(Number.isInteger(preference.preSelectedPartyId)).toBe(true);
    expect(profile.userUuid).toMatch(/^[0-9a-f-]{36}$/);
  };

  // src/Altinn.App.Core/Infrastructure/Clients/Profile/ProfileClient.cs, GetUserProfile(int userId)
  it('GET users/{userId}', async () => {
    const response = await h.send('GET', `/profile/api/v1/users/${USERS.sophie.userId}`, { headers: appCall(sophie) });
    expect(response.status).toBe(200);
    const profile = (await response.json()) as Record<string, unknown>;
    expectProfile(profile);
    expect((profile.profileSettingPreference as { preSelectedPartyId: number }).preSelectedPartyId).toBe(0);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Profile/ProfileClient.cs, GetUserProfile(string ssn)
  // (StringContent(JsonSerializer.Serialize(ssn), Encoding.UTF8, "application/json"))
  it('POST users with the ssn as a JSON string', async () => {
    const response = await h.send('POST', '/profile/api/v1/users', {
      headers: { ...appCall(sophie), 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(USERS.sophie.ssn),
    });
    expect(response.status).toBe(200);
    expectProfile((await response.json()) as Record<string, unknown>);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Profile/ProfileClient.cs, GetUserProfile(Guid userUuid)
  it('GET users/byuuid/{userUuid}', async () => {
    const uuid = '00000000-0000-4000-b000-000000001001';
    const response = await h.send('GET', `/profile/api/v1/users/byuuid/${uuid}`, { headers: appCall(sophie) });
    expect(response.status).toBe(200);
    expectProfile((await response.json()) as Record<string, unknown>);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Profile/ProfileClient.cs, GetUserProfile(int userId) (bad path)
  it("GET users/{userId}: 403 problem for another user's profile", async () => {
    const response = await h.send('GET', `/profile/api/v1/users/${USERS.ola.userId}`, { headers: appCall(sophie) });
    expect(response.status).toBe(403);
    expect((await problemOf(response)).status).toBe(403);
  });
});

describe('Authentication as app-lib and app-localtest use it', () => {
  // src/Altinn.App.Core/Infrastructure/Clients/Authentication/AuthenticationClient.cs, RefreshToken
  it('GET refresh: a new platform token with the same claims', async () => {
    const response = await h.send('GET', '/authentication/api/v1/refresh', {
      headers: { ...CLIENT_HEADERS, ...bearer(sophie) },
    });
    expect(response.status).toBe(200);
    const refreshed = (await response.text()).replace(/"/g, ' ').trim();
    const jwks = await (
      await h.send('GET', '/authentication/api/v1/openid/.well-known/openid-configuration/jwks')
    ).json();
    const { payload } = await jwtVerify(refreshed, createLocalJWKSet(jwks as never));
    expect(payload['urn:altinn:userid']).toBe(String(USERS.sophie.userId));
    expect(payload['urn:altinn:partyid']).toBe(String(USERS.sophie.partyId));
  });

  /** A browser request that does not follow redirects (the harness's `send` does). */
  const browser = (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${h.url}${path}`, { method, redirect: 'manual', headers: init.headers ?? {}, body: init.body ?? null });

  // src/Altinn.App.Core/Features/Maskinporten/MaskinportenClient.cs, HandleMaskinportenAltinnTokenExchange
  it('GET exchange/maskinporten: the Maskinporten token (Bearer) for a platform JWT', async () => {
    const external = await (
      await h.send('GET', `/authentication/api/v1/testidp/token?orgNumber=${TTD.orgNumber}&scope=altinn:appdeploy`, {})
    ).text();
    const response = await h.send('GET', '/authentication/api/v1/exchange/maskinporten', {
      headers: { 'Ocp-Apim-Subscription-Key': 'replay-subscription-key', ...bearer(external) },
    });
    expect(response.status).toBe(200);
    const token = await response.text();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({ 'urn:altinn:org': TTD.org, 'urn:altinn:orgNumber': TTD.orgNumber });
    expect(typeof claims.exp).toBe('number');
  });

  // src/Altinn.App.Api/Controllers/HomeController.cs, Index: redirect to authentication?goto={HttpUtility.UrlEncode(url)}
  // (and app-localtest's login page behind it)
  it('authentication?goto= signs a test person in at level 1 and returns with AltinnStudioRuntime', async () => {
    const goto = 'http://localhost:8787/ttd/identity-app';
    const start = await browser(
      'GET',
      `/authentication/api/v1/authentication?goto=${encodeURIComponent(goto)}&iss=idporten`,
    );
    expect(start.status).toBe(302);
    const loginPage = new URL(start.headers.get('location') ?? '');
    expect(loginPage.pathname).toBe('/authentication/api/v1/testidp/login');
    const page = await h.send('GET', `${loginPage.pathname}${loginPage.search}`, {});
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(USERS.sophie.ssn);

    const submitted = await browser('POST', loginPage.pathname, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ssn: USERS.sophie.ssn, level: '1', goto }).toString(),
    });
    expect(submitted.status).toBe(302);
    expect(submitted.headers.get('location')).toBe(goto);
    const cookie = /AltinnStudioRuntime=([^;]+)/.exec(submitted.headers.get('set-cookie') ?? '')?.[1];
    expect(cookie).toBeTruthy();
    expect(submitted.headers.get('set-cookie')).toMatch(/HttpOnly/i);

    // The cookie is a platform token at level 1: Profile answers; Storage's level rule (2 or more) leaves nothing
    // visible in a query (filtered as Altinn's PEP filters, not refused).
    const profile = await h.send('GET', '/profile/api/v1/users/current', {
      headers: { Cookie: `AltinnStudioRuntime=${cookie}` },
    });
    expect(profile.status).toBe(200);
    const instances = await h.send(
      'GET',
      `/storage/api/v1/instances?instanceOwner.partyId=${USERS.sophie.partyId}&appId=${TTD.org}/${APP}`,
      { headers: { Cookie: `AltinnStudioRuntime=${cookie}` } },
    );
    expect(instances.status).toBe(200);
    expect(((await instances.json()) as { count: number }).count).toBe(0);

    // Signed in already: straight back to goto.
    const again = await browser('GET', `/authentication/api/v1/authentication?goto=${encodeURIComponent(goto)}`, {
      headers: { Cookie: `AltinnStudioRuntime=${cookie}` },
    });
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toBe(goto);
  });

  // app-localtest's login: no open redirect
  it.each([
    ['another host', 'https://evil.example/steal'],
    ['a protocol-relative URL', '//evil.example/steal'],
    ['javascript:', 'javascript:alert(1)'],
  ])('authentication?goto= refuses %s with 400 problem and sets no cookie', async (_name, goto) => {
    const response = await browser('GET', `/authentication/api/v1/authentication?goto=${encodeURIComponent(goto)}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect((await problemOf(response)).detail).toMatch(/goto/);
  });

  it('the test IdP issues every level 0-4 as urn:altinn:authlevel', async () => {
    for (const level of [0, 1, 2, 3, 4]) {
      const token = await h.userToken(USERS.ola.ssn, level);
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
        string,
        string
      >;
      expect(claims['urn:altinn:authlevel']).toBe(String(level));
    }
  });
});

describe('app-token keys: PlatformAccessTokens the app signs itself', () => {
  /** GetParty with the user token and `accessToken`, as AltinnPartyClient sends it. */
  const getParty = (accessToken: string) =>
    h.send('GET', `/register/api/v1/parties/${USERS.sophie.partyId}`, { headers: appCall(sophie, accessToken) });

  const refusedFor = async (accessToken: string, reason: RegExp) => {
    const response = await getParty(accessToken);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/invalid_token/);
    expect((await problemOf(response)).detail).toMatch(reason);
  };

  it('lists the registered certificate with its validity and thumbprint', async () => {
    const response = await h.send('GET', KEYS, { headers: bearer(ttd) });
    expect(response.status).toBe(200);
    const keys = (await response.json()) as { keyId: string; kind: string; x5t: string; notAfter: string }[];
    expect(keys).toContainEqual(
      expect.objectContaining({ keyId: certificate.thumbprint, kind: 'certificate', x5t: certificate.x5t }),
    );
    // Registering the same certificate again changes nothing.
    const again = await registerKey(ttd, { certificate: certificate.pem });
    expect(again.status).toBe(200);
  });

  it('a token signed with the registered certificate verifies, with or without kid in its header', async () => {
    expect((await getParty(appToken)).status).toBe(200);
    const bare = await signAppToken(certificate.privateKeyPem, { issuer: TTD.org, app: APP });
    expect((await getParty(bare)).status).toBe(200);
  });

  it('a bare public key (JWK) registers and verifies too; the platform-issued convenience token still verifies', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const registered = await registerKey(ttd, { jwk: { ...jwk, kid: 'ttd-2026-rollover' } });
    expect(registered.status, await registered.clone().text()).toBe(201);
    expect(registered.headers.get('location')).toBe(`${KEYS}/ttd-2026-rollover`);
    const token = await signAppToken(await exportPKCS8(privateKey), {
      issuer: TTD.org,
      app: APP,
      kid: 'ttd-2026-rollover',
    });
    expect((await getParty(token)).status).toBe(200);

    const convenience = await h.send('GET', `/authentication/api/v1/accesstoken/${TTD.org}/${APP}`, {
      headers: bearer(ttd),
    });
    expect(convenience.status).toBe(200);
    expect((await getParty(await convenience.text())).status).toBe(200);
  });

  it('401 naming the reason: wrong issuer, an app not the org’s own, an unregistered key', async () => {
    await refusedFor(
      await signAppToken(certificate.privateKeyPem, { issuer: 'skd', app: APP, kid: certificate.thumbprint }),
      /no app-token key is registered for org skd/,
    );
    await refusedFor(
      await signAppToken(certificate.privateKeyPem, {
        issuer: TTD.org,
        app: 'not-deployed',
        kid: certificate.thumbprint,
      }),
      /ttd\/not-deployed is not an app of org ttd/,
    );
    const stranger = makeCertificate('ttd', new Date(Date.now() - 60_000), new Date(Date.now() + 86_400_000));
    await refusedFor(
      await signAppToken(stranger.privateKeyPem, { issuer: TTD.org, app: APP, kid: stranger.thumbprint }),
      /not signed by a registered app-token key of org ttd/,
    );
    await refusedFor(
      await signAppToken(certificate.privateKeyPem, { issuer: TTD.org, app: APP, lifetimeSeconds: -60 }),
      /expired/,
    );
  });

  it('401 for a key not valid yet and for an expired key', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const spki = createPublicKey(pem).export({ format: 'pem', type: 'spki' }).toString();
    const later = await registerKey(ttd, {
      publicKey: spki,
      notBefore: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(later.status, await later.clone().text()).toBe(201);
    const laterId = ((await later.json()) as { keyId: string }).keyId;
    await refusedFor(await signAppToken(pem, { issuer: TTD.org, app: APP, kid: laterId }), /not valid yet/);

    const short = await generateKeyPair('RS256', { extractable: true });
    const shortJwk = { ...(await exportJWK(short.publicKey)), kid: 'ttd-short-lived' };
    const shortLived = await registerKey(ttd, { jwk: shortJwk, notAfter: new Date(Date.now() + 1_500).toISOString() });
    expect(shortLived.status).toBe(201);
    const shortToken = await signAppToken(await exportPKCS8(short.privateKey), {
      issuer: TTD.org,
      app: APP,
      kid: 'ttd-short-lived',
    });
    expect((await getParty(shortToken)).status).toBe(200);
    // Past notAfter, and past the key store's 5-second cache.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await refusedFor(shortToken, /ttd-short-lived of org ttd has expired/);
  }, 30_000);

  it('a revoked key verifies nothing from then on', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const registered = await registerKey(ttd, { jwk: { ...(await exportJWK(publicKey)), kid: 'ttd-to-revoke' } });
    expect(registered.status).toBe(201);
    const token = await signAppToken(await exportPKCS8(privateKey), {
      issuer: TTD.org,
      app: APP,
      kid: 'ttd-to-revoke',
    });
    expect((await getParty(token)).status).toBe(200);
    expect((await h.send('DELETE', `${KEYS}/ttd-to-revoke`, { headers: bearer(ttd) })).status).toBe(204);
    await refusedFor(token, /ttd-to-revoke of org ttd was revoked/);
    expect((await h.send('DELETE', `${KEYS}/no-such-key`, { headers: bearer(ttd) })).status).toBe(404);
  });

  it('400 problem for what is not a key, a private key, an expired certificate; nothing stored', async () => {
    const before = ((await (await h.send('GET', KEYS, { headers: bearer(ttd) })).json()) as unknown[]).length;
    const notAKey = await registerKey(ttd, { publicKey: 'hello' });
    expect(notAKey.status).toBe(400);
    expect((await problemOf(notAKey)).errors).toEqual([{ field: 'publicKey', detail: 'is not a PEM public key' }]);
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const secret = await registerKey(ttd, { publicKey: await exportPKCS8(privateKey) });
    expect(secret.status).toBe(400);
    const expired = makeCertificate('ttd', new Date('2020-01-01T00:00:00Z'), new Date('2020-01-02T00:00:00Z'));
    const old = await registerKey(ttd, { certificate: expired.pem });
    expect(old.status).toBe(400);
    expect((await problemOf(old)).detail).toMatch(/expired/);
    const both = await registerKey(ttd, { certificate: certificate.pem, publicKey: 'x' });
    expect(both.status).toBe(400);
    const after = ((await (await h.send('GET', KEYS, { headers: bearer(ttd) })).json()) as unknown[]).length;
    expect(after).toBe(before);
  });

  it('only the org itself (altinn:appdeploy) or the operator manages keys', async () => {
    const body = { certificate: certificate.pem };
    expect((await registerKey('', body)).status).toBe(401);
    expect((await registerKey(sophie, body)).status).toBe(403);
    const withoutScope = await h.orgToken(['altinn:serviceowner/instances.read']);
    expect((await registerKey(withoutScope, body)).status).toBe(403);
    const otherOrg = await registerKey(ttd, body, 'skd');
    expect(otherOrg.status).toBe(403);
    expect((await problemOf(otherOrg)).detail).toMatch(/the org skd itself/);
    expect((await h.send('GET', '/authentication/api/v1/apptokenkeys/skd', { headers: bearer(ttd) })).status).toBe(403);
    // The operator registers for any org.
    const byOperator = await registerKey(OPERATOR_TOKEN, body, 'skd');
    expect(byOperator.status).toBe(201);
    expect(await byOperator.json()).toMatchObject({ org: 'skd', createdBy: 'operator' });
  });

  it('an app token alone (no user or org token) is not a caller token: 401', async () => {
    const response = await h.send('GET', `/register/api/v1/parties/${USERS.sophie.partyId}`, {
      headers: { ...CLIENT_HEADERS, ...bearer(appToken) },
    });
    expect(response.status).toBe(401);
  });
});
