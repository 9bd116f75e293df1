import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  appToken,
  call,
  devEnv,
  egressAdmin,
  problemOf,
  putCredential,
  putTarget,
  targetBase,
  targetPort,
} from '../../test/egress';
import worker from '../index';
import type { AuditEntry } from './audit';

/** Egress calls that are allowed: what the target receives, credentials, redirects, limits, app authentication. */

const ORG = 'egress';
const APP = 'forms';

interface Received {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

async function egressCall(path: string, init: RequestInit = {}, app = APP, org = ORG) {
  const headers = new Headers(init.headers);
  if (!headers.has('platformaccesstoken')) headers.set('PlatformAccessToken', await appToken(org, app));
  return call(`/_egress/http/127.0.0.1:${targetPort()}${path}`, { ...init, headers }, devEnv());
}

async function oauthIssued(): Promise<number> {
  return ((await (await fetch(`${targetBase()}/oauth/requests`)).json()) as { issued: number }).issued;
}

beforeAll(async () => {
  const loopback = { scheme: 'http', host: '127.0.0.1', ports: [targetPort()] };
  await putTarget(ORG, 'keyed', { ...loopback, methods: ['GET', 'POST'], pathPrefixes: ['/api/'] });
  await putTarget(ORG, 'slow', { ...loopback, pathPrefixes: ['/api/slow'], timeoutMs: 300 });
  await putCredential(ORG, 'keyed', { type: 'header', name: 'X-Api-Key', value: 'secret-api-key-1' });
  await putTarget(ORG, 'basic', { ...loopback, pathPrefixes: ['/basic/'], apps: ['forms'] });
  await putCredential(ORG, 'basic', { type: 'basic', username: 'svc', password: 'pa:ss' });
  await putTarget(ORG, 'oauth', { ...loopback, pathPrefixes: ['/oauth-api/'] });
  await putCredential(ORG, 'oauth', {
    type: 'oauth2',
    tokenUrl: `${targetBase()}/oauth/token`,
    clientId: 'egress-client',
    clientSecret: 'client-secret-1',
    scope: 'read',
  });
  await putTarget(ORG, 'short-lived', { ...loopback, pathPrefixes: ['/short/'] });
  await putCredential(ORG, 'short-lived', {
    type: 'oauth2',
    tokenUrl: `${targetBase()}/oauth/token?ttl=1`,
    clientId: 'egress-client',
    clientSecret: 'client-secret-1',
  });
  await putTarget(ORG, 'hops', { ...loopback, pathPrefixes: ['/redirect'], maxRedirects: 2 });
  await putTarget(ORG, 'small', { ...loopback, pathPrefixes: ['/api/big'], maxResponseBytes: 4096 });
});

describe('egress: an allowed call', () => {
  it('injects the credential, and the target never sees the app token, its Authorization or cookies', async () => {
    const token = await appToken(ORG, APP);
    const { res, text } = await egressCall('/api/echo?q=1', {
      method: 'POST',
      headers: {
        PlatformAccessToken: token,
        authorization: 'Bearer app-user-token',
        cookie: 'AltinnStudioRuntime=user-session',
        'x-api-key': 'app-chosen-key',
        'proxy-authorization': 'Basic eA==',
        'x-forwarded-for': '10.1.2.3',
        connection: 'x-hop',
        'x-hop': 'drop me',
        'content-type': 'application/json',
      },
      body: '{"a":1}',
    });
    expect(res.status, text).toBe(200);
    const received = JSON.parse(text) as Received;
    expect(received).toMatchObject({ method: 'POST', url: '/api/echo?q=1', body: '{"a":1}' });
    expect(received.headers['x-api-key']).toBe('secret-api-key-1');
    expect(received.headers['content-type']).toBe('application/json');
    for (const name of [
      'authorization',
      'cookie',
      'platformaccesstoken',
      'proxy-authorization',
      'x-forwarded-for',
      'x-hop',
    ]) {
      expect(received.headers[name], name).toBeUndefined();
    }
    expect(text).not.toContain(token);
    expect(text).not.toContain('user-session');
    // the target's hop-by-hop fields do not reach the app
    expect(res.headers.get('x-target')).toBe('yes');
    expect(res.headers.get('x-private')).toBeNull();
  });

  it('strips every field a malformed Connection of the app names, instead of failing with 500', async () => {
    const { res, text } = await egressCall('/api/echo', {
      headers: { connection: 'x-hop x-other;q=1, (odd)', 'x-hop': 'drop me', 'x-other': 'drop me', 'x-end': 'kept' },
    });
    expect(res.status, text).toBe(200);
    const received = JSON.parse(text) as Received;
    expect(received.headers['x-hop']).toBeUndefined();
    expect(received.headers['x-other']).toBeUndefined();
    expect(received.headers['x-end']).toBe('kept');
  });

  it("injects Basic credentials on a target limited to one app, and refuses the org's other apps", async () => {
    const { res, text } = await egressCall('/basic/echo');
    expect(res.status, text).toBe(200);
    const auth = (JSON.parse(text) as Received).headers.authorization;
    expect(auth).toBe(`Basic ${btoa('svc:pa:ss')}`);
    const other = await egressCall('/basic/echo', {}, 'other-app');
    expect(problemOf(other.res, other.text, 403).reason).toBe('not-allowed');
  });

  it('fetches an OAuth2 token once, reuses it, and fetches a new one after the credential is rotated', async () => {
    const before = await oauthIssued();
    const first = await egressCall('/oauth-api/echo');
    expect(first.res.status, first.text).toBe(200);
    const firstAuth = (JSON.parse(first.text) as Received).headers.authorization;
    expect(firstAuth).toMatch(/^Bearer oauth-token-\d+$/);
    const second = await egressCall('/oauth-api/echo');
    expect((JSON.parse(second.text) as Received).headers.authorization).toBe(firstAuth);
    expect(await oauthIssued()).toBe(before + 1);

    await putCredential(ORG, 'oauth', {
      type: 'oauth2',
      tokenUrl: `${targetBase()}/oauth/token`,
      clientId: 'egress-client',
      clientSecret: 'client-secret-1',
    });
    const third = await egressCall('/oauth-api/echo');
    expect((JSON.parse(third.text) as Received).headers.authorization).not.toBe(firstAuth);
    expect(await oauthIssued()).toBe(before + 2);
  });

  it('never injects a token minted for an old client after the target or its credential is deleted and set again', async () => {
    const loopback = { scheme: 'http', host: '127.0.0.1', ports: [targetPort()], pathPrefixes: ['/recreated/'] };
    const client = (n: 1 | 2) => ({
      type: 'oauth2',
      tokenUrl: `${targetBase()}/oauth/token`,
      clientId: n === 1 ? 'egress-client' : 'egress-client-2',
      clientSecret: n === 1 ? 'client-secret-1' : 'client-secret-2',
    });
    const lastTokenClient = async () => {
      const { tokenRequests } = (await (await fetch(`${targetBase()}/oauth/requests`)).json()) as {
        tokenRequests: { authorization: string }[];
      };
      return atob((tokenRequests.at(-1)?.authorization ?? '').replace(/^Basic /, '')).split(':')[0];
    };
    const authOf = async () => {
      const { res, text } = await egressCall('/recreated/echo');
      expect(res.status, text).toBe(200);
      return (JSON.parse(text) as Received).headers.authorization;
    };

    // the target is deleted and created again (version 1 again) with a new client
    await putTarget(ORG, 'recreated', loopback);
    await putCredential(ORG, 'recreated', client(1));
    const old = await authOf();
    expect(await lastTokenClient()).toBe('egress-client');
    expect((await egressAdmin('DELETE', `/${ORG}/targets/recreated`)).res.status).toBe(204);
    await putTarget(ORG, 'recreated', loopback);
    await putCredential(ORG, 'recreated', client(2));
    const renewed = await authOf();
    expect(renewed).not.toBe(old);
    expect(await lastTokenClient()).toBe('egress-client-2');

    // the credential alone is deleted and set again (version 1 again) with the first client
    expect((await egressAdmin('DELETE', `/${ORG}/targets/recreated/credential`)).res.status).toBe(204);
    await putCredential(ORG, 'recreated', client(1));
    expect(await authOf()).not.toBe(renewed);
    expect(await lastTokenClient()).toBe('egress-client');
  });

  it('refreshes an OAuth2 token that is about to expire', async () => {
    const before = await oauthIssued();
    await egressCall('/short/echo');
    await egressCall('/short/echo');
    expect(await oauthIssued()).toBe(before + 2);
  });

  it('fetches a new OAuth2 token and retries once when the target refuses the cached one', async () => {
    await putTarget(ORG, 'strict', {
      scheme: 'http',
      host: '127.0.0.1',
      ports: [targetPort()],
      pathPrefixes: ['/strict/'],
    });
    await putCredential(ORG, 'strict', {
      type: 'oauth2',
      tokenUrl: `${targetBase()}/oauth/token`,
      clientId: 'egress-client',
      clientSecret: 'client-secret-1',
    });
    expect((await egressCall('/strict/echo')).res.status).toBe(200);
    // another client gets a token: the strict API now refuses the one the proxy has cached
    const basic = `Basic ${btoa('egress-client:client-secret-1')}`;
    await fetch(`${targetBase()}/oauth/token`, { method: 'POST', headers: { authorization: basic } });
    const before = await oauthIssued();
    const { res, text } = await egressCall('/strict/echo');
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toEqual({ authorization: `Bearer oauth-token-${before + 1}` });
  });

  it('answers 502 credential-unavailable when the token endpoint refuses the client', async () => {
    await putTarget(ORG, 'bad-client', {
      scheme: 'http',
      host: '127.0.0.1',
      ports: [targetPort()],
      pathPrefixes: ['/badclient/'],
    });
    await putCredential(ORG, 'bad-client', {
      type: 'oauth2',
      tokenUrl: `${targetBase()}/oauth/token`,
      clientId: 'egress-client',
      clientSecret: 'wrong',
    });
    const { res, text } = await egressCall('/badclient/x');
    const problem = problemOf(res, text, 502);
    expect(problem.reason).toBe('credential-unavailable');
    expect(text).not.toContain('wrong');
  });

  it("passes the target's own errors through untouched", async () => {
    const { res, text } = await egressCall('/api/status?code=503');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(text)).toEqual({ error: 'from the target' });
  });
});

describe('egress: deny by default', () => {
  /** A second loopback port the development allowance lets through, which no target allows. */
  const otherPort = () => (targetPort() === 65535 ? 65534 : targetPort() + 1);
  const cases: [string, string, RequestInit, string?][] = [
    ['a path outside every prefix', '/admin/echo', {}],
    ['a method the target does not allow', '/api/echo', { method: 'DELETE' }],
    ['a port no target allows', '', {}, '/_egress/http/127.0.0.1:OTHER/api/echo'],
    ['https to an http-only target', '', {}, `/_egress/https/127.0.0.1:PORT/api/echo`],
  ];
  for (const [what, path, init, full] of cases) {
    it(`refuses ${what} with 403 not-allowed`, async () => {
      const target = (full ?? `/_egress/http/127.0.0.1:PORT${path}`)
        .replace('PORT', String(targetPort()))
        .replace('OTHER', String(otherPort()));
      const headers = { PlatformAccessToken: await appToken(ORG, APP) };
      // both ports pass the SSRF checks, so only the allow-list can refuse
      const both = devEnv({ EGRESS_DEV_LOOPBACK_PORTS: `${targetPort()},${otherPort()}` });
      const { res, text } = await call(target, { ...init, headers }, both);
      const problem = problemOf(res, text, 403);
      expect(problem.reason).toBe('not-allowed');
      const port = full?.includes('OTHER') ? otherPort() : targetPort();
      expect(problem.detail).toContain(`127.0.0.1:${port}/`);
    });
  }

  it('refuses every call of an org with no egress targets', async () => {
    const { res, text } = await egressCall('/api/echo', {}, 'app', 'no-policy-org');
    expect(problemOf(res, text, 403).reason).toBe('not-allowed');
  });

  it('answers 400-free 403 problems naming the reason in type and body', async () => {
    const { res, text } = await egressCall('/nowhere');
    const problem = problemOf(res, text, 403);
    expect(problem.type).toBe('urn:altinn-platform:problem:egress-not-allowed');
    expect(problem.detail).toContain('forms');
  });
});

describe('egress: redirects', () => {
  it("follows a redirect to an allowed target and injects that target's credential", async () => {
    const { res, text } = await egressCall(`/redirect?to=${encodeURIComponent('/api/echo?hop=1')}`);
    expect(res.status, text).toBe(200);
    const received = JSON.parse(text) as Received;
    expect(received.url).toBe('/api/echo?hop=1');
    expect(received.headers['x-api-key']).toBe('secret-api-key-1');
  });

  const refused: [string, string][] = [
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['localhost on the allowed port', `http://localhost:${0}/api/echo`],
    ['a loopback port the allowance does not name', `http://127.0.0.1:${1}/api/echo`],
    ['an IPv6 loopback', 'http://[::1]/'],
    ['a host no rule allows', 'http://not-allowed.example/api/echo'],
    ['a name resolving to a private address', 'http://rebind.example/api/echo'],
    ['userinfo', `http://x@127.0.0.1:${0}/api/echo`],
    ['another scheme', 'file:///etc/passwd'],
    // the development allowance is for 127.0.0.1 written so: other spellings of it, however the
    // Location writes its authority, are loopback like any other
    ['a protocol-relative hex short form', `//0x7f.1:${0}/api/echo`],
    ['a protocol-relative decimal form', `//2130706433:${0}/api/echo`],
    ['a protocol-relative octal form', `//0177.0.0.1:${0}/api/echo`],
    ['a protocol-relative short form', `//127.1:${0}/api/echo`],
    ['a backslashed protocol-relative form', `\\\\0x7f.1:${0}/api/echo`],
    ['a mixed-slash protocol-relative form', `/\\0x7f.1:${0}/api/echo`],
    ['a scheme without slashes', `http:0x7f.1:${0}/api/echo`],
    ['a scheme with one slash', `http:/0x7f.1:${0}/api/echo`],
    ['a scheme with backslashes', `http:\\\\0x7f.1:${0}/api/echo`],
  ];
  for (const [what, location] of refused) {
    it(`refuses a redirect to ${what} with 403 redirect-denied or an SSRF reason`, async () => {
      const to = location.replace(':0/', `:${targetPort()}/`);
      const { res, text } = await egressCall(`/redirect?to=${encodeURIComponent(to)}`);
      const problem = problemOf(res, text, 403);
      expect(['redirect-denied', 'forbidden-address', 'forbidden-name', 'resolves-to-forbidden-address']).toContain(
        problem.reason,
      );
    });
  }

  it('stops after the hop limit with 502 too-many-redirects', async () => {
    let to = '/redirect?to=/api/echo';
    for (let i = 0; i < 3; i++) to = `/redirect?to=${encodeURIComponent(to)}`;
    const { res, text } = await egressCall(to);
    expect(problemOf(res, text, 502).reason).toBe('too-many-redirects');
  });
});

describe('egress: limits', () => {
  it("answers 504 target-timeout when the target is slower than the target's timeout", async () => {
    const { res, text } = await egressCall('/api/slow?ms=5000');
    expect(problemOf(res, text, 504).reason).toBe('target-timeout');
  });

  it('refuses a response whose Content-Length is over the limit with 502 response-too-large', async () => {
    const { res, text } = await egressCall('/api/big?bytes=8192');
    expect(problemOf(res, text, 502).reason).toBe('response-too-large');
  });

  it('passes a response under the limit, and cuts a streamed one that grows past it', async () => {
    const ok = await egressCall('/api/big?bytes=4000&length=no');
    expect(ok.res.status).toBe(200);
    expect(ok.text.length).toBe(4000);

    // no Content-Length: the head goes out as the target's, then the body errors where it passes the limit
    const since = Date.now();
    const ctx = createExecutionContext();
    const request = new Request(
      `https://edge.test/_egress/http/127.0.0.1:${targetPort()}/api/big?bytes=65536&length=no`,
      {
        headers: { PlatformAccessToken: await appToken(ORG, APP) },
      },
    ) as Request<unknown, IncomingRequestCfProperties>;
    const res = await worker.fetch(request, devEnv() as never, ctx);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let received = '';
    let failure: unknown;
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += decoder.decode(value);
      }
    } catch (error) {
      failure = error;
    }
    await waitOnExecutionContext(ctx);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('response exceeds 4096 bytes');
    expect(received.length).toBeLessThanOrEqual(4096);
    expect(received).toBe('a'.repeat(received.length));

    const audit = await egressAdmin('GET', `/${ORG}/audit?target=small&since=${since}`);
    const rows = (JSON.parse(audit.text) as { calls: AuditEntry[] }).calls;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 200,
      bytes: received.length,
      decision: 'failed',
      reason: 'response-too-large: the streamed body passed 4096 bytes and was cut',
    });
  });
});

describe('egress: app authentication', () => {
  it('answers 401 with a Bearer challenge when no app token is sent', async () => {
    const { res, text } = await call(`/_egress/http/127.0.0.1:${targetPort()}/api/echo`, {}, devEnv());
    expect(problemOf(res, text, 401).reason).toBe('unauthenticated');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('accepts the token as Authorization: Bearer too, and strips it', async () => {
    const token = await appToken(ORG, APP);
    const { res, text } = await call(
      `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
      { headers: { authorization: `Bearer ${token}` } },
      devEnv(),
    );
    expect(res.status, text).toBe(200);
    expect(text).not.toContain(token);
  });

  it('refuses a token signed by a key the platform never published', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const forged = await appToken(ORG, APP, {}, { ...(await exportJWK(privateKey)), kid: 'egress-test-key' });
    const { res, text } = await egressCall('/api/echo', { headers: { PlatformAccessToken: forged } });
    expect(problemOf(res, text, 401).detail).toContain('signature');
  });

  it('refuses an expired token, a caller token (wrong audience) and one naming no app', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    for (const claims of [{ exp: past }, { aud: 'some-api' }, { 'urn:altinn:app': undefined }]) {
      const token = await appToken(ORG, APP, claims);
      const { res, text } = await egressCall('/api/echo', { headers: { PlatformAccessToken: token } });
      expect(problemOf(res, text, 401).reason).toBe('unauthenticated');
    }
  });

  it('answers 503 when egress has no JWKS configured', async () => {
    const { res, text } = await call(
      `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
      { headers: { PlatformAccessToken: await appToken(ORG, APP) } },
      devEnv({ EGRESS_JWKS_URL: undefined }),
    );
    expect(problemOf(res, text, 503).reason).toBe('not-configured');
  });
});

describe('egress: the audit log', () => {
  it('records allowed and denied calls with org, app, target, method, status, bytes and decision', async () => {
    const app = 'audited';
    await putTarget(ORG, 'audited', {
      scheme: 'http',
      host: '127.0.0.1',
      ports: [targetPort()],
      pathPrefixes: ['/audit/'],
      apps: [app],
    });
    const since = Date.now();
    const ok = await egressCall('/audit/echo?secret=query', {}, app);
    expect(ok.res.status).toBe(200);
    const no = await egressCall('/audit/echo', { method: 'PUT' }, app);
    expect(no.res.status).toBe(403);
    const { res, text } = await egressAdmin('GET', `/${ORG}/audit?app=${app}&since=${since}`);
    expect(res.status, text).toBe(200);
    const calls = (JSON.parse(text) as { calls: Record<string, unknown>[] }).calls;
    expect(calls).toHaveLength(2);
    expect(text).not.toContain('secret=query');
    expect(calls[1]).toMatchObject({
      org: ORG,
      app,
      target: 'audited',
      method: 'GET',
      url: `http://127.0.0.1:${targetPort()}/audit/echo`,
      status: 200,
      bytes: ok.text.length,
      decision: 'allowed',
    });
    expect(calls[0]).toMatchObject({ app, method: 'PUT', status: 403, decision: 'denied', target: null });
    expect(String(calls[0]?.reason)).toMatch(/^not-allowed/);
    const denied = await egressAdmin('GET', `/${ORG}/audit?app=${app}&decision=denied`);
    expect((JSON.parse(denied.text) as { calls: unknown[] }).calls).toHaveLength(1);
  });
});

describe('egress: the audit log of calls with no app identity', () => {
  async function unauthenticatedRow(requestId: string | null): Promise<AuditEntry | undefined> {
    const { text } = await egressAdmin('GET', '/_unauthenticated/audit?limit=1000');
    return (JSON.parse(text) as { calls: AuditEntry[] }).calls.find((c) => c.requestId === requestId);
  }

  it('records 401s (no token, a forged token, a bad egress key) in the _unauthenticated log, never in the claimed org', async () => {
    const since = Date.now();
    const path = `/_egress/http/127.0.0.1:${targetPort()}/api/echo`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const forged = await appToken(ORG, 'spoofed', {}, { ...(await exportJWK(privateKey)), kid: 'egress-test-key' });
    const attempts = [
      await call(path, {}, devEnv()),
      await call(path, { headers: { PlatformAccessToken: forged } }, devEnv()),
      await call(path, { headers: { 'x-egress-key': `egk_0123456789abcdef_${'x'.repeat(43)}` } }, devEnv()),
    ];
    for (const { res, text } of attempts) {
      expect(problemOf(res, text, 401).reason).toBe('unauthenticated');
      const row = await unauthenticatedRow(res.headers.get('x-request-id'));
      expect(row).toMatchObject({
        org: '_unauthenticated',
        app: '-',
        target: null,
        method: 'GET',
        url: `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
        status: 401,
        decision: 'denied',
      });
      expect(row?.reason).toMatch(/^unauthenticated: /);
    }
    const claimed = await egressAdmin('GET', `/${ORG}/audit?app=spoofed&since=${since}`);
    expect((JSON.parse(claimed.text) as { calls: unknown[] }).calls).toEqual([]);
  });

  it('records an unexpected error (the JWKS unreachable) as a failed 500', async () => {
    const { res, text } = await call(
      `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
      { headers: { PlatformAccessToken: await appToken(ORG, APP) } },
      devEnv({ EGRESS_JWKS_URL: 'http://127.0.0.1:1/unreachable-jwks' }),
    );
    expect(res.status).toBe(500);
    expect(text).not.toContain('unreachable-jwks');
    const row = await unauthenticatedRow(res.headers.get('x-request-id'));
    expect(row).toMatchObject({ org: '_unauthenticated', app: '-', status: 500, decision: 'failed' });
    expect(row?.reason).toMatch(/^internal: /);
  });
});

describe('egress: the simpler app credential (X-Egress-Key)', () => {
  it('issues a key shown once, authenticates the app with it, strips it, and stops accepting it once revoked', async () => {
    const issued = await egressAdmin('POST', `/${ORG}/apps/keyed-app/keys`);
    expect(issued.res.status, issued.text).toBe(201);
    const { key, keyId, org, app } = JSON.parse(issued.text) as {
      key: string;
      keyId: string;
      org: string;
      app: string;
    };
    expect({ org, app }).toEqual({ org: ORG, app: 'keyed-app' });
    expect(key).toMatch(/^egk_[0-9a-f]{16}_/);
    expect(issued.text).not.toContain('sha256');
    const stored = (await env.ROUTES.get(`egress-appkey/${keyId}`)) ?? '';
    // the secret is everything after `egk_{keyId}_` (it may itself hold `_`, so no split)
    expect(stored).not.toContain(key.slice('egk_0123456789abcdef_'.length));

    const path = `/_egress/http/127.0.0.1:${targetPort()}/api/echo`;
    const ok = await call(path, { headers: { 'x-egress-key': key } }, devEnv());
    expect(ok.res.status, ok.text).toBe(200);
    expect(ok.text).not.toContain(key);
    expect((JSON.parse(ok.text) as Received).headers['x-api-key']).toBe('secret-api-key-1');

    const wrong = await call(path, { headers: { 'x-egress-key': `${key.slice(0, -2)}xx` } }, devEnv());
    expect(problemOf(wrong.res, wrong.text, 401).reason).toBe('unauthenticated');
    expect((await egressAdmin('DELETE', `/${ORG}/apps/other-app/keys/${keyId}`)).res.status).toBe(404);
    expect((await egressAdmin('DELETE', `/${ORG}/apps/keyed-app/keys/${keyId}`)).res.status).toBe(204);
    const revoked = await call(path, { headers: { 'x-egress-key': key } }, devEnv());
    expect(problemOf(revoked.res, revoked.text, 401).reason).toBe('unauthenticated');
  });
});
