import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, TTD, USERS, useReplayHost } from '../altinn/harness.js';

/**
 * Token forgeries against every platform API: each forged or misused token is a 401 problem+json, never an answer.
 * The forger knows the platform's issuer, its published key ids and the claim names (all public).
 */

const host = useReplayHost();

/** One read per API that a valid user token of Sophie's is answered 200 on. */
const TARGETS = [
  `/storage/api/v1/instances?instanceOwner.partyId=${USERS.sophie.partyId}`,
  `/register/api/v1/parties/${USERS.sophie.partyId}`,
  '/profile/api/v1/users/current',
  `/authorization/api/v1/parties?userid=${USERS.sophie.userId}`,
] as const;

let issuer: string;
let kid: string;
let valid: string;

const claims = () => ({
  'urn:altinn:userid': String(USERS.sophie.userId),
  'urn:altinn:partyid': String(USERS.sophie.partyId),
  'urn:altinn:authlevel': '3',
  'urn:altinn:authenticatemethod': 'IdportenTestId',
  pid: USERS.sophie.ssn,
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  valid = await host.userToken(USERS.sophie.ssn, 3);
  const payload = JSON.parse(Buffer.from(valid.split('.')[1] ?? '', 'base64url').toString()) as { iss: string };
  issuer = payload.iss;
  kid = (JSON.parse(Buffer.from(valid.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;
});

async function expectRefusedEverywhere(token: string, why: string): Promise<void> {
  for (const path of TARGETS) {
    const response = await host.send('GET', path, { headers: bearer(token) });
    expect(response.status, `${why}: ${path}`).toBe(401);
    expect(response.headers.get('content-type'), `${why}: ${path}`).toBe('application/problem+json');
  }
}

describe('token forgeries are refused by every API', () => {
  it('accepts the genuine token (the baseline the forgeries are measured against)', async () => {
    for (const path of TARGETS) {
      expect((await host.send('GET', path, { headers: bearer(valid) })).status, path).toBe(200);
    }
  });

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64({ ...claims(), iss: issuer, iat: now, exp: now + 600 })}.`;
    await expectRefusedEverywhere(token, 'alg none');
  });

  it('refuses HS256 keyed with the public key (algorithm confusion)', async () => {
    const jwks = (await (
      await host.send('GET', '/authentication/api/v1/openid/.well-known/openid-configuration/jwks')
    ).json()) as { keys: { kid: string; n: string }[] };
    const published = jwks.keys.find((key) => key.kid === kid) ?? jwks.keys[0];
    const secret = new TextEncoder().encode(JSON.stringify(published));
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(secret);
    await expectRefusedEverywhere(token, 'HS256 confusion');
  });

  it("refuses RS256 signed by the forger's own key under the platform's kid, also with the key embedded (jwk header)", async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const sign = (header: Record<string, unknown>) =>
      new SignJWT(claims())
        .setProtectedHeader({ alg: 'RS256', kid, ...header })
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
    await expectRefusedEverywhere(await sign({}), 'foreign key, platform kid');
    await expectRefusedEverywhere(await sign({ jwk: await exportJWK(publicKey) }), 'embedded jwk');
    await expectRefusedEverywhere(await sign({ jku: `${host.url}/evil/jwks` }), 'jku');
  });

  it('refuses a genuine token whose payload was edited (another user)', async () => {
    const [header, payload, signature] = valid.split('.');
    const edited = { ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), 'urn:altinn:userid': '1002' };
    await expectRefusedEverywhere(`${header}.${b64(edited)}.${signature}`, 'edited payload');
  });

  it('refuses the external test IdP token (wrong issuer) and a PlatformAccessToken used as a caller token', async () => {
    const external = await (
      await host.send('GET', `/authentication/api/v1/testidp/token?ssn=${USERS.sophie.ssn}`)
    ).text();
    await expectRefusedEverywhere(external, 'external ID-porten token');
    const org = await host.orgToken();
    const deployed = await host.send('POST', `/storage/api/v1/applications/${TTD.org}/forgery`, {
      headers: { ...bearer(org), 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(deployed.status).toBeLessThan(300);
    const access = await host.send('GET', `/authentication/api/v1/accesstoken/${TTD.org}/forgery`, {
      headers: bearer(org),
    });
    expect(access.status).toBe(200);
    await expectRefusedEverywhere(await access.text(), 'PlatformAccessToken as bearer');
  });

  it('refuses tokens in the runtime cookie the same way', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', kid })}.${b64({ ...claims(), iss: issuer, exp: now + 600 })}.`;
    const response = await host.send('GET', '/profile/api/v1/users/current', {
      headers: { Cookie: `AltinnStudioRuntime=${token}` },
    });
    expect(response.status).toBe(401);
  });
});
