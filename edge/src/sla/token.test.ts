import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { expectProblem, routeOrg } from '../../test/helpers';
import { newConsumer, putPlan, TEST_DEFAULT_PLAN } from '../../test/sla';
import worker from '../index';

let jwks: string;
let sign: (claims: Record<string, unknown>) => Promise<string>;
let forge: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  await routeOrg('tokorg');
  const platform = await generateKeyPair('RS256', { extractable: true });
  const other = await generateKeyPair('RS256', { extractable: true });
  jwks = JSON.stringify({ keys: [{ ...(await exportJWK(platform.publicKey)), kid: 'platform-1', alg: 'RS256' }] });
  const signer = (key: CryptoKey) => (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'platform-1' }).setExpirationTime('30m').sign(key);
  sign = signer(platform.privateKey);
  forge = signer(other.privateKey);
  await putPlan('default', TEST_DEFAULT_PLAN);
});

/** Calls the Worker with PLATFORM_JWKS set, from one client IP. */
async function asToken(
  path: string,
  token: string,
  how: 'bearer' | 'cookie' = 'bearer',
  platformJwks = jwks,
): Promise<Response> {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = { 'cf-connecting-ip': '198.51.100.7' };
  if (how === 'bearer') headers.authorization = `Bearer ${token}`;
  else headers.cookie = `lang=nb; AltinnStudioRuntime=${token}`;
  const req = new Request<unknown, IncomingRequestCfProperties>(`https://edge.test${path}`, { headers });
  const res = await worker.fetch(req, { ...env, PLATFORM_JWKS: platformJwks }, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(body, res);
}

describe('callers identified by platform-token claims', () => {
  it('limits each user of a verified token separately, though all come from one IP', async () => {
    const alice = await sign({ 'urn:altinn:userid': '1001' });
    const bob = await sign({ 'urn:altinn:userid': 1002 });
    expect((await asToken('/tokorg/app/', alice)).status).toBe(200);
    await expectProblem(await asToken('/tokorg/app/', alice), 429);
    expect((await asToken('/tokorg/app/', bob, 'cookie')).status).toBe(200);
  });

  it('puts an org token on the plan of the consumer named org-{org}', async () => {
    await putPlan('org-plan', { rate: [{ limit: 3, windowSeconds: 60 }] });
    await newConsumer('org-skd', 'org-plan');
    const skd = await sign({ 'urn:altinn:org': 'skd', 'urn:altinn:orgNumber': '974761076' });
    const res = await asToken('/tokorg/app/', skd);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe('"rate-60s";q=3;w=60');
    // a registered consumer counts as a subscriber where one is required
    expect((await asToken('/tokorg/members/', skd)).status).toBe(200);
    await expectProblem(await asToken('/tokorg/members/', await sign({ 'urn:altinn:userid': '1003' })), 401);
  });

  it("does not take an app's PlatformAccessToken for its org: the caller is limited by IP", async () => {
    await putPlan('org-unlimited', { rate: [{ limit: 1000, windowSeconds: 60 }] });
    await newConsumer('org-appaccess', 'org-unlimited');
    const access = await sign({
      'urn:altinn:org': 'appaccess',
      'urn:altinn:app': 'forms',
      aud: 'urn:altinn-platform:access-token',
    });
    const first = await asToken('/tokorg/access/', access);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).not.toContain('q=1000');
  });

  it('treats a token that does not verify as no token: the caller is limited by IP', async () => {
    const forged = await forge({ 'urn:altinn:userid': '1004' });
    const forged2 = await forge({ 'urn:altinn:userid': '1005' });
    expect((await asToken('/tokorg/forged/', forged)).status).toBe(200);
    await expectProblem(await asToken('/tokorg/forged/', forged2), 429);
  });

  it('takes PLATFORM_JWKS as the URL of the platform JWKS endpoint (as npm start sets it) and verifies against it', async () => {
    // the loopback JWKS endpoint of the edge tests (edge/test/egress-target.ts) and its signing key
    const url = `http://127.0.0.1:${inject('egressTargetPort')}/jwks`;
    const jwk = inject('egressSigningJwk');
    const key = (await importJWK(jwk, 'RS256')) as CryptoKey;
    const mint = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).setExpirationTime('30m').sign(key);
    const carol = await mint({ 'urn:altinn:userid': '1006' });
    const dave = await mint({ 'urn:altinn:userid': '1007' });
    expect((await asToken('/tokorg/byurl/', carol, 'bearer', url)).status).toBe(200);
    await expectProblem(await asToken('/tokorg/byurl/', carol, 'bearer', url), 429);
    expect((await asToken('/tokorg/byurl/', dave, 'bearer', url)).status).toBe(200);
  });

  it('a JWKS URL that cannot be reached verifies nobody: callers are limited by IP', async () => {
    const url = `http://127.0.0.1:${inject('deadPort')}/jwks`;
    expect((await asToken('/tokorg/nojwks/', await sign({ 'urn:altinn:userid': '1008' }), 'bearer', url)).status).toBe(
      200,
    );
    await expectProblem(
      await asToken('/tokorg/nojwks/', await sign({ 'urn:altinn:userid': '1009' }), 'bearer', url),
      429,
    );
  });
});
