import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { admin, expectProblem, upstreamBase } from '../../test/helpers';
import { edgeApp } from '../app';

describe('admin API auth', () => {
  it('answers 401 with WWW-Authenticate when the token is missing', async () => {
    const res = await admin('GET', '/routes', undefined, null);
    const problem = await expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-admin"');
    expect(problem.type).toBe('urn:altinn-platform:problem:unauthorized');
  });

  it('answers 401 when the token is wrong, also for writes, and writes nothing', async () => {
    await expectProblem(await admin('GET', '/routes', undefined, 'wrong'), 401);
    const put = await admin('PUT', '/routes/authorg', { clusterBase: upstreamBase() }, 'test-admin-token-but-longer');
    await expectProblem(put, 401);
    expect(await env.ROUTES.get('org/authorg')).toBeNull();
  });

  it('answers 401 to a non-bearer scheme carrying the right token', async () => {
    const res = await SELF.fetch('https://edge.test/_edge/routes', {
      headers: { authorization: 'Basic test-admin-token' },
    });
    await expectProblem(res, 401);
  });

  it('answers 503 to every admin call when no admin token is configured', async () => {
    const unconfigured = { ROUTES: env.ROUTES, EDGE_ADMIN_TOKEN: '' };
    for (const token of [null, '', 'anything']) {
      const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
      const res = await edgeApp.request('/_edge/routes', { headers }, unconfigured);
      const problem = await expectProblem(res, 503);
      expect(problem.type).toBe('urn:altinn-platform:problem:admin-not-configured');
    }
    const put = await edgeApp.request(
      '/_edge/routes/noadmin',
      { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"clusterBase":"https://x.example"}' },
      { ROUTES: env.ROUTES },
    );
    await expectProblem(put, 503);
    expect(await env.ROUTES.get('org/noadmin')).toBeNull();
  });

  it('keeps /_edge/health open', async () => {
    const res = await SELF.fetch('https://edge.test/_edge/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('admin API: org routes', () => {
  it('creates (201 + Location), reads, updates (200), lists and deletes an org route', async () => {
    const created = await admin('PUT', '/routes/crud', { clusterBase: 'https://crud.apps.example.no/' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/_edge/routes/crud');
    const route = (await created.json()) as Record<string, unknown>;
    expect(route).toMatchObject({ org: 'crud', clusterBase: 'https://crud.apps.example.no', listedAppsOnly: false });

    const updated = await admin('PUT', '/routes/crud', { clusterBase: 'https://other.example.no/ingress' });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ clusterBase: 'https://other.example.no/ingress' });

    const got = await admin('GET', '/routes/crud');
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ org: 'crud', clusterBase: 'https://other.example.no/ingress', apps: [] });

    const list = (await (await admin('GET', '/routes')).json()) as { routes: { org: string }[] };
    expect(list.routes.map((r) => r.org)).toContain('crud');

    expect((await admin('DELETE', '/routes/crud')).status).toBe(204);
    await expectProblem(await admin('GET', '/routes/crud'), 404);
    await expectProblem(await admin('DELETE', '/routes/crud'), 404);
  });

  it('pages the list with limit and cursor', async () => {
    for (const org of ['page-a', 'page-b', 'page-c']) {
      expect((await admin('PUT', `/routes/${org}`, { clusterBase: 'https://x.example' })).status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await admin('GET', `/routes?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const page = (await res.json()) as { routes: { org: string }[]; cursor?: string };
      expect(page.routes.length).toBeLessThanOrEqual(1);
      seen.push(...page.routes.map((r) => r.org));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c']));
    const bad = await expectProblem(await admin('GET', '/routes?limit=0'), 400);
    expect(bad.errors?.[0]?.field).toBe('limit');
  });

  it('deleting an org removes its app routes too', async () => {
    await admin('PUT', '/routes/cascade', { clusterBase: 'https://x.example' });
    await admin('PUT', '/routes/cascade/app1', { disabled: true });
    expect((await admin('DELETE', '/routes/cascade')).status).toBe(204);
    expect(await env.ROUTES.get('app/cascade/app1')).toBeNull();
  });
});

describe('admin API: app routes', () => {
  it('creates, reads, updates and deletes an app route, listed under its org', async () => {
    await admin('PUT', '/routes/approutes', { clusterBase: 'https://x.example' });
    const created = await admin('PUT', '/routes/approutes/form-a', {
      clusterBase: 'http://127.0.0.1:9/pinned',
      disabled: true,
      retryAfterSeconds: 60,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/_edge/routes/approutes/form-a');
    expect(await created.json()).toMatchObject({
      org: 'approutes',
      app: 'form-a',
      clusterBase: 'http://127.0.0.1:9/pinned',
      disabled: true,
      retryAfterSeconds: 60,
    });
    const org = (await (await admin('GET', '/routes/approutes')).json()) as { apps: { app: string }[] };
    expect(org.apps.map((a) => a.app)).toEqual(['form-a']);

    const updated = await admin('PUT', '/routes/approutes/form-a', { disabled: false });
    expect(updated.status).toBe(200);
    const body = (await updated.json()) as Record<string, unknown>;
    expect(body.disabled).toBe(false);
    expect(body.clusterBase).toBeUndefined();

    expect((await admin('GET', '/routes/approutes/form-a')).status).toBe(200);
    expect((await admin('DELETE', '/routes/approutes/form-a')).status).toBe(204);
    await expectProblem(await admin('GET', '/routes/approutes/form-a'), 404);
    await expectProblem(await admin('DELETE', '/routes/approutes/form-a'), 404);
  });
});

describe('admin API validation', () => {
  const badBodies: [string, unknown, string][] = [
    ['a relative URL', { clusterBase: '/just/a/path' }, 'clusterBase'],
    ['a non-http scheme', { clusterBase: 'ftp://cluster.example' }, 'clusterBase'],
    ['userinfo', { clusterBase: 'https://user:pw@cluster.example' }, 'clusterBase'],
    ['a query', { clusterBase: 'https://cluster.example/?x=1' }, 'clusterBase'],
    ['a fragment', { clusterBase: 'https://cluster.example/#x' }, 'clusterBase'],
    ['a number for the URL', { clusterBase: 42 }, 'clusterBase'],
    ['a missing clusterBase', {}, 'clusterBase'],
    ['an unknown field', { clusterBase: 'https://cluster.example', colour: 'blue' }, 'colour'],
    [
      'a wrong type for listedAppsOnly',
      { clusterBase: 'https://cluster.example', listedAppsOnly: 'yes' },
      'listedAppsOnly',
    ],
  ];
  for (const [what, body, field] of badBodies) {
    it(`refuses an org route with ${what}: 400 naming ${field}, nothing stored`, async () => {
      const problem = await expectProblem(await admin('PUT', '/routes/badorg', body), 400);
      expect(problem.type).toBe('urn:altinn-platform:problem:validation');
      expect(problem.errors?.map((e) => e.field)).toContain(field);
      expect(problem.detail).toContain(field);
      expect(await env.ROUTES.get('org/badorg')).toBeNull();
    });
  }

  const badApps: [string, unknown, string][] = [
    ['an unknown field', { disabled: true, pinned: 'x' }, 'pinned'],
    ['a string for disabled', { disabled: 'true' }, 'disabled'],
    ['retryAfterSeconds of 0', { disabled: true, retryAfterSeconds: 0 }, 'retryAfterSeconds'],
    ['a bad clusterBase', { clusterBase: 'not a url' }, 'clusterBase'],
  ];
  for (const [what, body, field] of badApps) {
    it(`refuses an app route with ${what}: 400 naming ${field}`, async () => {
      const problem = await expectProblem(await admin('PUT', '/routes/badorg/badapp', body), 400);
      expect(problem.errors?.map((e) => e.field)).toContain(field);
      expect(await env.ROUTES.get('app/badorg/badapp')).toBeNull();
    });
  }

  const badNames: [string, string, string][] = [
    ['an upper-case org', '/routes/TTD', 'org'],
    ['an org with an underscore', '/routes/my_org', 'org'],
    ['an org starting with a hyphen', '/routes/-org', 'org'],
    ['an org ending with a hyphen', '/routes/org-', 'org'],
    ['an org of 64 characters', `/routes/${'a'.repeat(64)}`, 'org'],
    ['an app with a dot', '/routes/ttd/my.app', 'app'],
    ['an app with upper case', '/routes/ttd/MyApp', 'app'],
  ];
  for (const [what, path, field] of badNames) {
    it(`refuses ${what}: 400 naming ${field}`, async () => {
      const problem = await expectProblem(await admin('PUT', path, { clusterBase: 'https://x.example' }), 400);
      expect(problem.errors).toEqual([expect.objectContaining({ field })]);
    });
  }

  it('accepts a 63-character org name', async () => {
    expect((await admin('PUT', `/routes/${'a'.repeat(63)}`, { clusterBase: 'https://x.example' })).status).toBe(201);
  });

  it('answers 405 with Allow to a method a route path does not take', async () => {
    const post = await admin('POST', '/routes/ttd', { clusterBase: 'https://x.example' });
    await expectProblem(post, 405);
    expect(post.headers.get('allow')).toBe('GET, PUT, DELETE');
    const del = await admin('DELETE', '/routes');
    await expectProblem(del, 405);
    expect(del.headers.get('allow')).toBe('GET');
    await expectProblem(await admin('GET', '/routes/a/b/c'), 404);
  });

  it('refuses malformed JSON with 400 and a non-JSON body with 415', async () => {
    const malformed = await expectProblem(await admin('PUT', '/routes/jsonorg', '{"clusterBase":'), 400);
    expect(malformed.title).toBe('Malformed JSON');
    const res = await SELF.fetch('https://edge.test/_edge/routes/jsonorg', {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'text/plain' },
      body: 'clusterBase=https://x.example',
    });
    await expectProblem(res, 415);
    expect(await env.ROUTES.get('org/jsonorg')).toBeNull();
  });

  it('refuses a body over 64 KiB with 413, whether it declares its length or streams it, and stores nothing', async () => {
    const big = JSON.stringify({ clusterBase: 'https://big.example', pad: 'x'.repeat(70 * 1024) });
    const declared = await expectProblem(await admin('PUT', '/routes/bigorg', big), 413);
    expect(declared.type).toBe('urn:altinn-platform:problem:payload-too-large');
    const chunks = new TextEncoder().encode(big);
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < chunks.length; i += 8192) controller.enqueue(chunks.slice(i, i + 8192));
        controller.close();
      },
    });
    const res = await SELF.fetch('https://edge.test/_edge/plans/bigplan', {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: streamed,
      duplex: 'half',
    } as RequestInit);
    await expectProblem(res, 413);
    expect(await env.ROUTES.get('org/bigorg')).toBeNull();
    expect(await env.ROUTES.get('plan/bigplan')).toBeNull();
  });

  it('refuses JSON nested deeper than 32 levels with 400 before parsing it, on every admin API', async () => {
    const deep = `{"rate":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const path of ['/plans/deepplan', '/routes/deeporg', '/egress/deeporg/targets/t']) {
      const problem = await expectProblem(await admin('PUT', path, deep), 400);
      expect(problem.detail, path).toContain('nested deeper than 32');
    }
    // deep inside a string is only text
    const res = await admin('PUT', '/routes/deepstr', { clusterBase: 'https://deep.example', x: '['.repeat(100) });
    expect((await expectProblem(res, 400)).errors?.[0]).toEqual({ field: 'x', detail: 'unknown field' });
  });
});
