import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { appToken, call, devEnv, egressEnv, putCredential, putTarget, targetHits, targetPort } from '../../test/egress';
import { ADMIN_TOKEN, routeOrg } from '../../test/helpers';
import { checkMode, isStrongSecret, modeOf } from '.';

/** A token production accepts: 43 base64url characters, all distinct enough. */
const STRONG = 'q3Zb9X_kP2mW7vR4tY8uA1sD6fG0hJ5lN-cV3bM9nQe';

/** The Worker's env in production mode with `overrides` (the workers project binds PLATFORM_MODE=local). */
function production(overrides: Record<string, string | undefined> = {}): Cloudflare.Env {
  return { ...env, PLATFORM_MODE: undefined, ...overrides } as Cloudflare.Env;
}

function adminCall(path: string, workerEnv: Cloudflare.Env, token: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  return call(`/_edge${path}`, { ...init, headers }, workerEnv);
}

describe('mode: which mode', () => {
  it('is production unless PLATFORM_MODE is exactly local', () => {
    expect(modeOf('local')).toBe('local');
    expect(modeOf(' local ')).toBe('local');
    for (const value of [undefined, '', 'production', 'Local', 'dev', 'development']) {
      expect(modeOf(value)).toBe('production');
    }
  });

  it('asks for 43 characters with 16 distinct ones of a production secret', () => {
    expect(isStrongSecret(STRONG)).toBe(true);
    expect(isStrongSecret('x'.repeat(64))).toBe(false);
    expect(isStrongSecret(STRONG.slice(0, 42))).toBe(false);
    expect(isStrongSecret('abcdefghijklmno'.repeat(4))).toBe(false);
  });

  it('refuses development-only egress settings and malformed keys in production, nothing in local mode', () => {
    const settings = {
      ROUTES: env.ROUTES,
      EDGE_ADMIN_TOKEN: 'short',
      EGRESS_DEV_LOOPBACK_PORTS: '8080',
      EGRESS_DNS: '{"a.example":["127.0.0.1"]}',
      EGRESS_JWKS_URL: 'http://127.0.0.1:7071/jwks',
      EGRESS_CREDENTIALS_KEY: btoa('sixteen-bytes-xx'),
      EGRESS_CREDENTIALS_KEY_PREVIOUS: 'not base64!',
    };
    const refused = checkMode(settings);
    expect(refused.mode).toBe('production');
    expect(refused.admin.map((r) => r.setting)).toEqual(['EDGE_ADMIN_TOKEN']);
    expect(refused.egress.map((r) => r.setting)).toEqual([
      'EGRESS_DEV_LOOPBACK_PORTS',
      'EGRESS_DNS',
      'EGRESS_JWKS_URL',
      'EGRESS_CREDENTIALS_KEY',
      'EGRESS_CREDENTIALS_KEY_PREVIOUS',
    ]);
    expect(checkMode({ ...settings, PLATFORM_MODE: 'local' })).toEqual({ mode: 'local', admin: [], egress: [] });
    const clean = checkMode({
      ROUTES: env.ROUTES,
      EDGE_ADMIN_TOKEN: STRONG,
      EGRESS_DNS: 'doh',
      EGRESS_JWKS_URL: 'https://platform.example/jwks',
      EGRESS_CREDENTIALS_KEY: btoa(String.fromCharCode(...new Uint8Array(32).fill(1))),
    });
    expect(clean).toEqual({ mode: 'production', admin: [], egress: [] });
  });
});

describe('mode: the admin API in production', () => {
  it('answers 503 naming EDGE_ADMIN_TOKEN to every admin call when the token is weak, even with that token', async () => {
    const weak = production({ EDGE_ADMIN_TOKEN: ADMIN_TOKEN });
    for (const [path, token] of [
      ['/routes', ADMIN_TOKEN],
      ['/routes', null],
      ['/health', null],
      ['/egress/prodweak/targets', ADMIN_TOKEN],
    ] as const) {
      const { res, text } = await adminCall(path, weak, token);
      expect(res.status, text).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const problem = JSON.parse(text) as { type: string; detail: string; errors: { field: string }[] };
      expect(problem.type).toBe('urn:altinn-platform:problem:configuration-refused');
      expect(problem.detail).toContain('EDGE_ADMIN_TOKEN');
      expect(problem.errors.map((e) => e.field)).toEqual(['EDGE_ADMIN_TOKEN']);
      expect(text).not.toContain(ADMIN_TOKEN);
    }
    const put = await adminCall('/routes/prodweak', weak, ADMIN_TOKEN, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"clusterBase":"https://prodweak.example"}',
    });
    expect(put.res.status).toBe(503);
    expect(await env.ROUTES.get('org/prodweak')).toBeNull();
  });

  it('works with a strong token: the right token writes, a wrong one gets 401, health is open', async () => {
    const strong = production({ EDGE_ADMIN_TOKEN: STRONG });
    const put = await adminCall('/routes/prodstrong', strong, STRONG, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"clusterBase":"https://prodstrong.example"}',
    });
    expect(put.res.status, put.text).toBe(201);
    expect((await adminCall('/routes/prodstrong', strong, STRONG)).res.status).toBe(200);
    expect((await adminCall('/routes', strong, ADMIN_TOKEN)).res.status).toBe(401);
    expect((await adminCall('/health', strong, null)).res.status).toBe(200);
  });

  it('keeps local mode as it was: the short test token works', async () => {
    const { res, text } = await adminCall('/routes', production({ PLATFORM_MODE: 'local' }), ADMIN_TOKEN);
    expect(res.status, text).toBe(200);
  });

  it('keeps routing app traffic while the admin API is refused', async () => {
    await routeOrg('prodroute');
    const { res, text } = await call('/prodroute/app/ping', {}, production({ EDGE_ADMIN_TOKEN: ADMIN_TOKEN }));
    expect(res.status, text).toBe(200);
  });
});

describe('mode: egress in production', () => {
  const path = () => `/_egress/http/127.0.0.1:${targetPort()}/api/echo`;
  /** Production egress settings apart from the ones a test breaks. */
  const sound = { EGRESS_DNS: 'doh', EGRESS_JWKS_URL: 'https://platform.example/jwks' };

  it('answers 503 naming EGRESS_DEV_LOOPBACK_PORTS, and the target is not called', async () => {
    const before = await targetHits();
    const { res, text } = await call(path(), {}, devEnv({ ...sound, PLATFORM_MODE: 'production' }));
    expect(res.status, text).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = JSON.parse(text) as { type: string; reason: string; detail: string };
    expect(problem).toMatchObject({
      type: 'urn:altinn-platform:problem:egress-not-configured',
      reason: 'not-configured',
    });
    expect(problem.detail).toContain('EGRESS_DEV_LOOPBACK_PORTS');
    expect(problem.detail).not.toContain('EGRESS_DNS');
    expect(await targetHits()).toBe(before);
  });

  it('answers 503 naming a credentials key that is not 32 bytes of base64', async () => {
    const broken = egressEnv({ ...sound, PLATFORM_MODE: 'production', EGRESS_CREDENTIALS_KEY: btoa('too short') });
    const { res, text } = await call(path(), {}, broken);
    expect(res.status, text).toBe(503);
    expect(text).toContain('EGRESS_CREDENTIALS_KEY');
  });

  it('goes on to authenticate the app when nothing is refused', async () => {
    const { res, text } = await call(path(), {}, egressEnv({ ...sound, PLATFORM_MODE: 'production' }));
    expect(res.status, text).toBe(401);
  });

  it('keeps local mode as it was: the development settings are not refused', async () => {
    const { res, text } = await call(path(), {}, devEnv());
    expect(res.status, text).toBe(401);
  });

  it('answers 503 naming EGRESS_CREDENTIALS_KEY to a call that needs a credential when the key is unset', async () => {
    await putTarget('nokeycall', 'echo', { scheme: 'http', host: '127.0.0.1', ports: [targetPort()] });
    await putCredential('nokeycall', 'echo', { type: 'header', name: 'x-key', value: 'sealed-secret-1' });
    const headers = { PlatformAccessToken: await appToken('nokeycall', 'app') };
    const { res, text } = await call(path(), { headers }, devEnv({ EGRESS_CREDENTIALS_KEY: undefined }));
    expect(res.status, text).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ reason: 'credential-unavailable' });
    expect(text).toContain('EGRESS_CREDENTIALS_KEY is not set');
    expect(text).not.toContain('sealed-secret-1');
  });
});
