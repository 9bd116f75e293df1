import { base64url, createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../platform/src/db/index.js';
import { createPlatformAuth, type PlatformAuth } from '../../../platform/src/index.js';
import { silentLogger } from '../../../platform/src/logging/index.js';
import { openTestDatabase } from '../../../test/support/database.js';
import { problemOf } from '../../../test/support/storage.js';
import type { IdentityDirectory } from './directory.js';
import { AUTHENTICATION_PREFIX, createAuthenticationApi } from './index.js';
import { createTestIdentityProvider, type TestIdentityProvider } from './providers.js';

const ISSUER = 'http://platform.test/authentication/api/v1/openid/';
const PERSON = { ssn: '01017512345', userId: 1001, partyId: 510001 };
const TTD = { org: 'ttd', orgNumber: '991825827' };

/** The people and service owners of these tests (Register provides them in the running platform). */
const directory: IdentityDirectory = {
  userBySsn: async (ssn) => (ssn === PERSON.ssn ? { userId: PERSON.userId, partyId: PERSON.partyId } : undefined),
  serviceOwnerByNumber: async (orgNumber) => (orgNumber === TTD.orgNumber ? TTD : undefined),
};

let db: Database;
let auth: PlatformAuth;
let idp: TestIdentityProvider;
let api: ReturnType<typeof createAuthenticationApi>;

const get = (path: string, headers: Record<string, string> = {}) =>
  Promise.resolve(api.request(`${AUTHENTICATION_PREFIX}/${path}`, { headers }));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeEach(async () => {
  db = await openTestDatabase();
  auth = createPlatformAuth(db, ISSUER);
  idp = createTestIdentityProvider(ISSUER);
  api = createAuthenticationApi({
    auth,
    issuer: ISSUER,
    logger: silentLogger,
    directory,
    providers: idp.issuers,
    testIdp: idp,
  });
});
afterEach(() => db.close());

describe('OpenID metadata', () => {
  it('names the issuer and a JWKS that verifies the tokens the platform issues', async () => {
    const config = (await (await get('openid/.well-known/openid-configuration')).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ issuer: ISSUER, id_token_signing_alg_values_supported: ['RS256'] });
    expect(config.jwks_uri).toBe(`${ISSUER}.well-known/openid-configuration/jwks`);
    const jwks = await (await get('openid/.well-known/openid-configuration/jwks')).json();
    const token = await auth.issuer.userToken({ userId: 1, partyId: 2, authLevel: 2 });
    // Any client can verify platform tokens with the published keys alone.
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), { issuer: ISSUER });
    expect(payload['urn:altinn:userid']).toBe('1');
  });
});

describe('exchange', () => {
  it('turns an ID-porten token into a platform token for the registered person, at the token’s level', async () => {
    for (const level of [3, 4] as const) {
      const response = await get('exchange/id-porten', bearer(await idp.idporten({ ssn: PERSON.ssn, level })));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      await expect(auth.verifier.verify(await response.text())).resolves.toEqual({
        kind: 'user',
        userId: PERSON.userId,
        partyId: PERSON.partyId,
        authLevel: level,
        scopes: [],
      });
    }
  });

  it('turns a Maskinporten token into an org token keeping its scopes', async () => {
    const external = await idp.maskinporten({
      orgNumber: TTD.orgNumber,
      scopes: ['altinn:serviceowner/instances.read'],
    });
    const response = await get('exchange/maskinporten', bearer(external));
    expect(response.status).toBe(200);
    await expect(auth.verifier.verify(await response.text())).resolves.toMatchObject({
      kind: 'org',
      org: 'ttd',
      orgNumber: TTD.orgNumber,
      scopes: ['altinn:serviceowner/instances.read'],
    });
  });

  it('answers 401 without a token, for another issuer’s, an expired one, a wrong audience and alg none', async () => {
    const stranger = createTestIdentityProvider(ISSUER);
    const otherAudience = createTestIdentityProvider('https://someone-else.example/');
    const good = await idp.idporten({ ssn: PERSON.ssn });
    const [, payload] = good.split('.');
    const none = `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${payload}.`;
    const cases: [string, Record<string, string>, RegExp][] = [
      ['no token', {}, /Send the id-porten token/],
      [
        'signed by another provider',
        bearer(await stranger.idporten({ ssn: PERSON.ssn })),
        /not signed by the trusted issuer/,
      ],
      ['expired', bearer(await idp.idporten({ ssn: PERSON.ssn }, -120)), /expired/],
      [
        'wrong audience',
        bearer(await otherAudience.idporten({ ssn: PERSON.ssn })),
        /not signed by the trusted issuer|aud/,
      ],
      ['alg none', bearer(none), /RS256|malformed/],
    ];
    for (const [name, headers, detail] of cases) {
      const response = await get('exchange/id-porten', headers);
      expect(response.status, name).toBe(401);
      expect((await problemOf(response)).detail, name).toMatch(detail);
    }
  });

  it('checks the audience with the issuer’s own keys', async () => {
    // Same keys, other audience: only the aud check can refuse it.
    const sameKeysOtherAudience = createAuthenticationApi({
      auth,
      issuer: ISSUER,
      logger: silentLogger,
      directory,
      providers: { 'id-porten': { ...idp.issuers['id-porten'], audience: 'https://expected.example/' } },
    });
    const response = await sameKeysOtherAudience.request(`${AUTHENTICATION_PREFIX}/exchange/id-porten`, {
      headers: bearer(await idp.idporten({ ssn: PERSON.ssn })),
    });
    expect(response.status).toBe(401);
    expect((await problemOf(response)).detail).toBe("The id-porten token refused: the token's aud claim is not valid");
  });

  it('answers 403 for a person or organisation the platform does not know', async () => {
    const person = await get('exchange/id-porten', bearer(await idp.idporten({ ssn: '02029012345' })));
    expect(person.status).toBe(403);
    const org = await get('exchange/maskinporten', bearer(await idp.maskinporten({ orgNumber: '974760673' })));
    expect(org.status).toBe(403);
    expect((await problemOf(org)).detail).toBe('Organisation 974760673 is not a service owner of this platform.');
  });

  it('answers 404 for a provider that is not configured and 400 for an unknown one', async () => {
    const bare = createAuthenticationApi({ auth, issuer: ISSUER, logger: silentLogger, directory, providers: {} });
    const token = await idp.idporten({ ssn: PERSON.ssn });
    expect((await bare.request(`${AUTHENTICATION_PREFIX}/exchange/id-porten`, { headers: bearer(token) })).status).toBe(
      404,
    );
    expect((await get('exchange/bankid', bearer(token))).status).toBe(400);
  });
});

describe('refresh', () => {
  it('answers a new token with the same claims, from Bearer or the AltinnStudioRuntime cookie', async () => {
    const token = await auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 3 });
    for (const headers of [bearer(token), { cookie: `AltinnStudioRuntime=${token}` }]) {
      const response = await get('refresh', headers);
      expect(response.status).toBe(200);
      const fresh = await response.text();
      expect(fresh).not.toBe(token);
      await expect(auth.verifier.verify(fresh)).resolves.toMatchObject({ userId: 1001, partyId: 510001, authLevel: 3 });
      const claims = await auth.verifier.verifyClaims(fresh);
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(30 * 60);
    }
  });

  it('answers 401 without a token, for an external token and for a tampered one', async () => {
    expect((await get('refresh')).status).toBe(401);
    expect((await get('refresh', bearer(await idp.idporten({ ssn: PERSON.ssn })))).status).toBe(401);
    const token = await auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 3 });
    expect((await get('refresh', bearer(`${token.slice(0, -3)}abc`))).status).toBe(401);
  });
});

describe('test identity provider (local mode)', () => {
  it('signs external tokens and, with exchange=true, answers a platform token in one call', async () => {
    const external = await (await get(`testidp/token?ssn=${PERSON.ssn}`)).text();
    expect((await get('exchange/id-porten', bearer(external))).status).toBe(200);
    const direct = await get(`testidp/token?ssn=${PERSON.ssn}&level=4&exchange=true`);
    await expect(auth.verifier.verify(await direct.text())).resolves.toMatchObject({ userId: 1001, authLevel: 4 });
    const org = await get(`testidp/token?orgNumber=${TTD.orgNumber}&scope=altinn:appdeploy&exchange=true`);
    await expect(auth.verifier.verify(await org.text())).resolves.toMatchObject({
      org: 'ttd',
      scopes: ['altinn:appdeploy'],
    });
  });

  it('answers 400 for both or neither of ssn and orgNumber, and the exchange’s 403 for an unknown person', async () => {
    expect((await get(`testidp/token?ssn=${PERSON.ssn}&orgNumber=${TTD.orgNumber}`)).status).toBe(400);
    expect((await get('testidp/token')).status).toBe(400);
    expect((await get('testidp/token?ssn=02029012345&exchange=true')).status).toBe(403);
  });

  it('does not exist unless configured', async () => {
    const bare = createAuthenticationApi({
      auth,
      issuer: ISSUER,
      logger: silentLogger,
      directory,
      providers: idp.issuers,
    });
    expect((await bare.request(`${AUTHENTICATION_PREFIX}/testidp/token?ssn=${PERSON.ssn}`)).status).toBe(404);
  });
});

describe('PlatformAccessTokens and key rotation', () => {
  it('gives an org PlatformAccessTokens for its own apps only', async () => {
    expect((await get('accesstoken/ttd/demo')).status).toBe(401);
    const user = await auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 3 });
    expect((await get('accesstoken/ttd/demo', bearer(user))).status).toBe(403);
    const other = await auth.issuer.orgToken({ org: 'skd' });
    expect((await get('accesstoken/ttd/demo', bearer(other))).status).toBe(403);
    const response = await get('accesstoken/ttd/demo', bearer(await auth.issuer.orgToken({ org: 'ttd' })));
    expect(response.status).toBe(200);
    await expect(auth.verifier.verifyAccessToken(await response.text())).resolves.toEqual({ org: 'ttd', app: 'demo' });
  });

  it('rotates the signing key with the keys admin scope: old tokens still verify, the JWKS shows both keys', async () => {
    const before = await auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 3 });
    const post = (headers: Record<string, string>) =>
      Promise.resolve(api.request(`${AUTHENTICATION_PREFIX}/openid/keys/rotate`, { method: 'POST', headers }));
    expect((await post({})).status).toBe(401);
    expect((await post(bearer(await auth.issuer.orgToken({ org: 'ttd' })))).status).toBe(403);
    const admin = await auth.issuer.orgToken({ org: 'ttd', scopes: ['altinn:platform/keys.admin'] });
    const rotated = await post(bearer(admin));
    expect(rotated.status).toBe(200);
    const { kid } = (await rotated.json()) as { kid: string };
    expect((await auth.keys.activeKey()).kid).toBe(kid);
    const jwks = (await (await get('openid/.well-known/openid-configuration/jwks')).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((key) => key.kid)).toContain(kid);
    expect(jwks.keys).toHaveLength(2);
    await expect(auth.verifier.verify(before)).resolves.toMatchObject({ userId: 1001 });
  });
});
