import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  appToken,
  CREDENTIALS_KEY,
  call,
  devEnv,
  egressAdmin,
  egressEnv,
  putCredential,
  putTarget,
  targetPort,
} from '../../test/egress';
import { ADMIN_TOKEN } from '../../test/helpers';
import type { AuditEntry } from './audit';

/** The egress admin API: targets, write-only credentials, validation, and the audit log's retention. */

const SECRET = 'very-secret-value-42';

describe('egress admin: targets and credentials', () => {
  it('creates (201 + Location), lists, replaces (200) and deletes a target', async () => {
    const created = await egressAdmin('PUT', '/adm/targets/weather', {
      host: 'api.weather.example',
      pathPrefixes: ['/v1/'],
    });
    expect(created.res.status, created.text).toBe(201);
    expect(created.res.headers.get('location')).toBe('/_edge/egress/adm/targets/weather');
    expect(JSON.parse(created.text)).toMatchObject({
      name: 'weather',
      scheme: 'https',
      host: 'api.weather.example',
      ports: [443],
      methods: ['GET'],
      pathPrefixes: ['/v1/'],
      maxRedirects: 3,
    });
    const replaced = await egressAdmin('PUT', '/adm/targets/weather', {
      host: 'api.weather.example',
      methods: ['GET', 'POST'],
    });
    expect(replaced.res.status).toBe(200);
    const list = JSON.parse((await egressAdmin('GET', '/adm/targets')).text) as {
      targets: { name: string; methods: string[] }[];
    };
    expect(list.targets).toEqual([expect.objectContaining({ name: 'weather', methods: ['GET', 'POST'] })]);
    expect((await egressAdmin('DELETE', '/adm/targets/weather')).res.status).toBe(204);
    expect((await egressAdmin('GET', '/adm/targets/weather')).res.status).toBe(404);
  });

  it('sets and rotates a credential but never shows it, and stores it only sealed', async () => {
    await putTarget('sealed', 'crm', { host: 'crm.example' });
    const set = await egressAdmin('PUT', '/sealed/targets/crm/credential', {
      type: 'header',
      name: 'X-Key',
      value: SECRET,
    });
    expect(set.res.status).toBe(201);
    expect(set.text).not.toContain(SECRET);
    expect(JSON.parse(set.text)).toMatchObject({ type: 'header', header: 'x-key', version: 1 });
    const rotated = await egressAdmin('PUT', '/sealed/targets/crm/credential', {
      type: 'basic',
      username: 'u',
      password: SECRET,
    });
    expect(rotated.res.status).toBe(200);
    expect(JSON.parse(rotated.text)).toMatchObject({ type: 'basic', username: 'u', version: 2 });
    for (const path of ['/sealed/targets/crm', '/sealed/targets']) {
      const { text } = await egressAdmin('GET', path);
      expect(text).toContain('"version":2');
      expect(text).not.toContain(SECRET);
    }
    const raw = (await env.ROUTES.get('egress/sealed')) ?? '';
    expect(raw).toContain('"ct"');
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(btoa(`u:${SECRET}`));
  });

  it('keeps a credential when the target rule is replaced, and deletes it on request', async () => {
    await putTarget('keepcred', 'api', { host: 'api.keep.example' });
    await putCredential('keepcred', 'api', { type: 'header', name: 'x-key', value: SECRET });
    await putTarget('keepcred', 'api', { host: 'api.keep.example', methods: ['POST'] });
    expect(JSON.parse((await egressAdmin('GET', '/keepcred/targets/api')).text).credential).toMatchObject({
      type: 'header',
    });
    expect((await egressAdmin('DELETE', '/keepcred/targets/api/credential')).res.status).toBe(204);
    expect(JSON.parse((await egressAdmin('GET', '/keepcred/targets/api')).text).credential).toBeUndefined();
    expect((await egressAdmin('DELETE', '/keepcred/targets/api/credential')).res.status).toBe(404);
  });

  it('opens a credential sealed with the previous key after the key is rotated, and refuses with neither key', async () => {
    await putTarget('rotkey', 'echo', { scheme: 'http', host: '127.0.0.1', ports: [targetPort()] });
    await putCredential('rotkey', 'echo', { type: 'header', name: 'x-key', value: SECRET });
    const newKey = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));
    const headers = { PlatformAccessToken: await appToken('rotkey', 'app') };
    const path = `/_egress/http/127.0.0.1:${targetPort()}/echo`;
    const rotated = devEnv({ EGRESS_CREDENTIALS_KEY: newKey, EGRESS_CREDENTIALS_KEY_PREVIOUS: CREDENTIALS_KEY });
    const ok = await call(path, { headers }, rotated);
    expect(ok.res.status, ok.text).toBe(200);
    expect((JSON.parse(ok.text) as { headers: Record<string, string> }).headers['x-key']).toBe(SECRET);
    const lost = await call(path, { headers }, devEnv({ EGRESS_CREDENTIALS_KEY: newKey }));
    expect(lost.res.status).toBe(503);
    expect(JSON.parse(lost.text)).toMatchObject({ reason: 'credential-unavailable' });
    expect(lost.text).not.toContain(SECRET);
  });

  it('answers 401 without the admin token and 503 when setting a credential with no key configured', async () => {
    const anon = await call('/_edge/egress/adm/targets', {}, egressEnv());
    expect(anon.res.status).toBe(401);
    await putTarget('nokey', 'api', { host: 'api.nokey.example' });
    const res = await egressAdmin(
      'PUT',
      '/nokey/targets/api/credential',
      { type: 'header', name: 'x-k', value: 'v' },
      egressEnv({ EGRESS_CREDENTIALS_KEY: undefined }),
    );
    expect(res.res.status).toBe(503);
  });
});

describe('egress admin: validation answers 400 naming the field', () => {
  const badTargets: [string, unknown, string][] = [
    ['a missing host', {}, 'host'],
    ['a host with upper case', { host: 'API.example.com' }, 'host'],
    ['a host with userinfo', { host: 'user@api.example.com' }, 'host'],
    ['a host with a port', { host: 'api.example.com:8443' }, 'host'],
    ['a bad scheme', { host: 'a.example', scheme: 'ftp' }, 'scheme'],
    ['a port of 0', { host: 'a.example', ports: [0] }, 'ports.0'],
    ['an unknown method', { host: 'a.example', methods: ['TRACE'] }, 'methods.0'],
    ['a path prefix without a slash', { host: 'a.example', pathPrefixes: ['v1'] }, 'pathPrefixes.0'],
    ['a bad app name', { host: 'a.example', apps: ['My_App'] }, 'apps.0'],
    ['a timeout of 0', { host: 'a.example', timeoutMs: 0 }, 'timeoutMs'],
    ['too many redirects', { host: 'a.example', maxRedirects: 50 }, 'maxRedirects'],
    ['an unknown field', { host: 'a.example', secret: 'x' }, 'secret'],
    ['an empty rate list', { host: 'a.example', rate: [] }, 'rate'],
    [
      'a rate window of 0 seconds',
      { host: 'a.example', rate: [{ limit: 5, windowSeconds: 0 }] },
      'rate.0.windowSeconds',
    ],
    ['a rate with no limit', { host: 'a.example', rate: [{ windowSeconds: 1 }] }, 'rate.0.limit'],
    [
      'a rate with an unknown field',
      { host: 'a.example', rate: [{ limit: 1, windowSeconds: 1, burst: 2 }] },
      'rate.0.burst',
    ],
    ['a concurrency of 0', { host: 'a.example', concurrency: 0 }, 'concurrency'],
    ['a fractional concurrency', { host: 'a.example', concurrency: 1.5 }, 'concurrency'],
  ];
  for (const [what, body, field] of badTargets) {
    it(`refuses a target with ${what}`, async () => {
      const { res, text } = await egressAdmin('PUT', '/badegress/targets/t', body);
      expect(res.status, text).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const problem = JSON.parse(text) as { errors: { field: string }[]; detail: string };
      expect(problem.errors.map((e) => e.field)).toContain(field);
      expect(problem.detail).toContain(field);
      expect(await env.ROUTES.get('egress/badegress')).toBeNull();
    });
  }

  const badCredentials: [string, unknown, string][] = [
    ['no type', { value: 'x' }, 'type'],
    ['a header credential with no value', { type: 'header', name: 'x-key' }, 'value'],
    ['a header credential naming Host', { type: 'header', name: 'Host', value: 'x' }, 'name'],
    ['a header value with a newline', { type: 'header', name: 'x-key', value: 'a\r\nb' }, 'value'],
    ['a Basic username with a colon', { type: 'basic', username: 'a:b', password: 'x' }, 'username'],
    [
      'an OAuth2 token URL that is not http(s)',
      { type: 'oauth2', tokenUrl: 'file:///x', clientId: 'c', clientSecret: 's' },
      'tokenUrl',
    ],
    [
      'an OAuth2 credential with no secret',
      { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'c' },
      'clientSecret',
    ],
  ];
  for (const [what, body, field] of badCredentials) {
    it(`refuses a credential with ${what}`, async () => {
      await putTarget('badcred', 'api', { host: 'api.badcred.example' });
      const { res, text } = await egressAdmin('PUT', '/badcred/targets/api/credential', body);
      expect(res.status, text).toBe(400);
      expect((JSON.parse(text) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
      expect(text).not.toContain('"x"');
    });
  }

  it('refuses a credential on a wildcard target, and turning a credentialed target into a wildcard', async () => {
    await putTarget('wild', 'any', { host: '*.example.com' });
    const onWild = await egressAdmin('PUT', '/wild/targets/any/credential', {
      type: 'header',
      name: 'x-k',
      value: 'v',
    });
    expect(onWild.res.status).toBe(400);
    expect(onWild.text).toContain('"field":"host"');
    await putTarget('wild', 'exact', { host: 'api.example.com' });
    await putCredential('wild', 'exact', { type: 'header', name: 'x-k', value: 'v' });
    const widen = await egressAdmin('PUT', '/wild/targets/exact', { host: '*' });
    expect(widen.res.status).toBe(400);
    expect(widen.text).toContain('"field":"host"');
  });

  it('refuses bad names and bad audit queries', async () => {
    const name = await egressAdmin('PUT', '/Bad_Org/targets/t', { host: 'a.example' });
    expect(name.text).toContain('"field":"org"');
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['decision=maybe', 'decision'],
      ['since=yesterday', 'since'],
    ]) {
      const { res, text } = await egressAdmin('GET', `/adm/audit?${query}`);
      expect(res.status).toBe(400);
      expect(text).toContain(`"field":"${field}"`);
    }
  });
});

describe('egress audit retention', () => {
  function entry(at: number, app: string): AuditEntry {
    return {
      at,
      requestId: `r-${at}`,
      org: 'retained',
      app,
      target: 't',
      method: 'GET',
      url: 'https://a.example:443/',
      status: 200,
      bytes: 1,
      durationMs: 1,
      decision: 'allowed',
      reason: null,
      redirects: 0,
    };
  }

  it('hides calls older than the retention and deletes them when pruned (the hourly alarm)', async () => {
    const stub = env.EGRESS_AUDIT.get(env.EGRESS_AUDIT.idFromName('retained'));
    const now = Date.now();
    await stub.record(entry(now - 800 * 3_600_000, 'old'));
    await stub.record(entry(now - 1000, 'new'));
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const { text } = await call('/_edge/egress/retained/audit', { headers }, egressEnv());
    expect((JSON.parse(text) as { calls: { app: string }[] }).calls.map((c) => c.app)).toEqual(['new']);
    expect(await stub.prune()).toBe(1);
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec('SELECT app FROM calls').toArray(),
    );
    expect(rows).toEqual([{ app: 'new' }]);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
  });
});
