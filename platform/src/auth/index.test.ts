import { Hono } from 'hono';
import { base64url, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/support/database.js';
import type { Database } from '../db/index.js';
import { handleError } from '../errors/index.js';
import {
  ACCESS_TOKEN_HEADER,
  type AuthVariables,
  authenticate,
  createSigningKeyStore,
  createTokenIssuer,
  createTokenVerifier,
  InvalidTokenError,
  RUNTIME_COOKIE,
  type SigningKeyStore,
  TOKEN_LIFETIME_SECONDS,
} from './index.js';

const ISSUER = 'http://platform.test/authentication/api/v1/openid/';
const MINUTE = 60_000;

let db: Database;
let clock: number;
const now = () => new Date(clock);

function stores(database: Database = db): { keys: SigningKeyStore } & ReturnType<typeof tokens> {
  const keys = createSigningKeyStore({ db: database, retainRetiredMs: TOKEN_LIFETIME_SECONDS * 1000 + MINUTE, now });
  return { keys, ...tokens(keys) };
}

function tokens(keys: SigningKeyStore, issuer = ISSUER) {
  return {
    issuer: createTokenIssuer({ keys, issuer, now }),
    verifier: createTokenVerifier({ keys, issuer: ISSUER, now }),
  };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return (error as Error).message;
}

beforeEach(async () => {
  db = await openTestDatabase();
  clock = Date.parse('2026-03-01T12:00:00Z');
});
afterEach(() => db.close());

describe('signing keys', () => {
  it('makes one active RS256 key on first use and publishes its public half only', async () => {
    const { keys } = stores();
    const [first, second] = await Promise.all([keys.activeKey(), keys.activeKey()]);
    expect(first.kid).toBe(second.kid);
    const jwks = await keys.jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: first.kid });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const rows = await db.query('SELECT kid FROM signing_keys');
    expect(rows).toHaveLength(1);
  });

  it('shares keys between stores on one database: one signs, the other verifies', async () => {
    const a = stores();
    const b = stores();
    const token = await a.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 });
    await expect(b.verifier.verify(token)).resolves.toMatchObject({ kind: 'user', userId: 1001 });
    expect(await db.query('SELECT kid FROM signing_keys')).toHaveLength(1);
  });

  it('rotation: the new key signs, old tokens verify until the retired key leaves the JWKS, then not', async () => {
    const { keys, issuer, verifier } = stores();
    const oldToken = await issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 });
    const oldKid = (await keys.activeKey()).kid;
    const newKid = await keys.rotate();
    expect(newKid).not.toBe(oldKid);
    expect((await keys.activeKey()).kid).toBe(newKid);
    const newToken = await issuer.userToken({ userId: 1002, partyId: 510002, authLevel: 2 });
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(newToken.split('.')[0] ?? ''))).kid).toBe(newKid);
    expect((await keys.jwks()).keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ userId: 1001 });

    // 29 minutes on: the old token is still within its lifetime and its key still published.
    clock += 29 * MINUTE;
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ userId: 1001 });
    const laterToken = await issuer.userToken({ userId: 1003, partyId: 510003, authLevel: 2 });
    // Past the token lifetime plus leeway: the old key is gone from the JWKS, so a token it signed is refused.
    clock += 3 * MINUTE;
    await expect(verifier.verify(laterToken)).resolves.toMatchObject({ userId: 1003 });
    const fresh = stores();
    expect((await fresh.keys.jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
    expect(await refusal(fresh.verifier.verify(oldToken))).toMatch(/expired|unknown or expired key/);
  });
});

describe('tokens', () => {
  it('user tokens carry the urn:altinn claims and a 30-minute lifetime', async () => {
    const { issuer, verifier } = stores();
    const token = await issuer.userToken({
      userId: 1001,
      partyId: 510001,
      authLevel: 2,
      scopes: ['altinn:portal/enduser'],
    });
    const claims = await verifier.verifyClaims(token);
    expect(claims).toMatchObject({
      'urn:altinn:userid': '1001',
      'urn:altinn:partyid': '510001',
      'urn:altinn:authlevel': '2',
      iss: ISSUER,
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(TOKEN_LIFETIME_SECONDS);
    await expect(verifier.verify(token)).resolves.toEqual({
      kind: 'user',
      userId: 1001,
      partyId: 510001,
      authLevel: 2,
      scopes: ['altinn:portal/enduser'],
    });
  });

  it('org tokens name the org, its number and scopes', async () => {
    const { issuer, verifier } = stores();
    const token = await issuer.orgToken({
      org: 'ttd',
      orgNumber: '991825827',
      scopes: ['altinn:serviceowner/instances.read'],
    });
    await expect(verifier.verify(token)).resolves.toEqual({
      kind: 'org',
      org: 'ttd',
      orgNumber: '991825827',
      authLevel: 3,
      scopes: ['altinn:serviceowner/instances.read'],
    });
  });

  it('refuses expired and not-yet-valid tokens', async () => {
    const { issuer, verifier } = stores();
    const token = await issuer.userToken({ userId: 1, partyId: 2, authLevel: 2 });
    clock += TOKEN_LIFETIME_SECONDS * 1000 + MINUTE;
    expect(await refusal(verifier.verify(token))).toBe('the token has expired');
    clock -= TOKEN_LIFETIME_SECONDS * 1000 + 2 * MINUTE;
    expect(await refusal(verifier.verify(token))).toBe('the token is not valid yet');
  });

  it('refuses a token from another issuer name and one signed by a key the platform never published', async () => {
    const { keys, verifier } = stores();
    const wrongIssuer = tokens(keys, 'https://evil.example/').issuer;
    expect(await refusal(verifier.verify(await wrongIssuer.userToken({ userId: 1, partyId: 2, authLevel: 2 })))).toBe(
      'the token has the wrong issuer',
    );
    const otherDb = await openTestDatabase();
    try {
      const foreign = stores(otherDb);
      const forged = await foreign.issuer.userToken({ userId: 1, partyId: 2, authLevel: 2 });
      expect(await refusal(verifier.verify(forged))).toBe('the token is signed by an unknown or expired key');
    } finally {
      await otherDb.close();
    }
  });

  it('refuses a tampered payload, alg none and HS256 signed with the public key', async () => {
    const { keys, issuer, verifier } = stores();
    const token = await issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    const tampered = base64url.encode(JSON.stringify({ ...claims, 'urn:altinn:partyid': '510002' }));
    expect(await refusal(verifier.verify(`${header}.${tampered}.${signature}`))).toBe(
      'the token signature does not verify',
    );
    const kid = (await keys.activeKey()).kid;
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid }))}.${payload}.`;
    expect(await refusal(verifier.verify(none))).toBe('tokens must be signed with RS256');
    const publicJwk = (await keys.jwks()).keys[0];
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expect(await refusal(verifier.verify(hs))).toBe('tokens must be signed with RS256');
    expect(await refusal(verifier.verify('not-a-jwt'))).toBe('the token is malformed');
  });

  it('keeps PlatformAccessTokens and caller tokens apart', async () => {
    const { issuer, verifier } = stores();
    const access = await issuer.accessToken({ org: 'ttd', app: 'demo' });
    await expect(verifier.verifyAccessToken(access)).resolves.toEqual({ org: 'ttd', app: 'demo' });
    expect(await refusal(verifier.verify(access))).toBe('a PlatformAccessToken is not a caller token');
    const user = await issuer.userToken({ userId: 1, partyId: 2, authLevel: 2 });
    expect(await refusal(verifier.verifyAccessToken(user))).toBe('the token is not meant for this use');
  });

  it('refuses tokens that name neither a user nor an org, or a user without a party', async () => {
    const { issuer, verifier } = stores();
    expect(await refusal(verifier.verify(await issuer.sign({ sub: 'x' })))).toBe(
      'the token names neither a user nor an org',
    );
    expect(await refusal(verifier.verify(await issuer.sign({ 'urn:altinn:userid': '5' })))).toBe(
      'a user token needs a numeric urn:altinn:partyid claim',
    );
  });
});

describe('verifier failures', () => {
  it('lets a database failure through as an error, not as a refused token (so it answers 500, not 401)', async () => {
    const { issuer } = stores();
    const token = await issuer.userToken({ userId: 1, partyId: 2, authLevel: 2 });
    const { verifier } = stores();
    await db.close();
    const error = await verifier.verify(token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(InvalidTokenError);
    db = await openTestDatabase();
  });
});

describe('authenticate middleware', () => {
  function app() {
    const { issuer, verifier } = stores();
    const hono = new Hono<{ Variables: AuthVariables }>();
    hono.onError(handleError as never);
    hono.use('*', authenticate({ verifier, openPaths: ['/openapi.json'] }));
    hono.get('/openapi.json', (c) => c.json({ open: true }));
    hono.get('/who', (c) => c.json({ principal: c.get('principal'), app: c.get('appIdentity') ?? null }));
    return { hono, issuer };
  }

  it('answers 401 with a Bearer challenge without a token, and lets open paths through', async () => {
    const { hono } = app();
    const response = await hono.request('/who');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="platform"');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect((await hono.request('/openapi.json')).status).toBe(200);
  });

  it('takes the token from Bearer or from the AltinnStudioRuntime cookie', async () => {
    const { hono, issuer } = app();
    const token = await issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 });
    const bearer = await hono.request('/who', { headers: { authorization: `Bearer ${token}` } });
    expect(((await bearer.json()) as { principal: { userId: number } }).principal.userId).toBe(1001);
    const cookie = await hono.request('/who', { headers: { cookie: `${RUNTIME_COOKIE}=${token}` } });
    expect(((await cookie.json()) as { principal: { userId: number } }).principal.userId).toBe(1001);
  });

  it('answers 401 invalid_token for a bad token and invalid_request for a malformed header', async () => {
    const { hono } = app();
    const bad = await hono.request('/who', { headers: { authorization: 'Bearer abc.def.ghi' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const basic = await hono.request('/who', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
  });

  it('verifies the PlatformAccessToken when sent: the app identity on success, 401 when invalid', async () => {
    const { hono, issuer } = app();
    const token = await issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 });
    const access = await issuer.accessToken({ org: 'ttd', app: 'demo' });
    const ok = await hono.request('/who', {
      headers: { authorization: `Bearer ${token}`, [ACCESS_TOKEN_HEADER]: access },
    });
    expect(((await ok.json()) as { app: unknown }).app).toEqual({ org: 'ttd', app: 'demo' });
    const bad = await hono.request('/who', {
      headers: { authorization: `Bearer ${token}`, [ACCESS_TOKEN_HEADER]: token },
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { detail: string }).detail).toBe(
      'PlatformAccessToken refused: the token is not meant for this use',
    );
  });
});
