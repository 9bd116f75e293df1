import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { admin, expectProblem } from '../../test/helpers';
import { hashKey } from './store';

describe('plans admin API', () => {
  it('creates (201 + Location), reads, updates (200), lists and deletes a plan', async () => {
    const body = {
      rate: [
        { limit: 10, windowSeconds: 1 },
        { limit: 300, windowSeconds: 60 },
      ],
      quota: { period: 'month', calls: 100000, bytes: 1000000000 },
      concurrency: 20,
      shards: 2,
      failMode: 'closed',
      apps: { 'ttd/heavy': { rate: [{ limit: 1, windowSeconds: 1 }] }, skd: { requireSubscription: true } },
    };
    const created = await admin('PUT', '/plans/gold', body);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/_edge/plans/gold');
    expect(await created.json()).toMatchObject({ id: 'gold', ...body });
    const updated = await admin('PUT', '/plans/gold', { rate: [{ limit: 5, windowSeconds: 1 }] });
    expect(updated.status).toBe(200);
    const got = (await (await admin('GET', '/plans/gold')).json()) as Record<string, unknown>;
    expect(got.rate).toEqual([{ limit: 5, windowSeconds: 1 }]);
    expect(got.quota).toBeUndefined();
    const list = (await (await admin('GET', '/plans')).json()) as { plans: { id: string }[] };
    expect(list.plans.map((p) => p.id)).toContain('gold');
    expect((await admin('DELETE', '/plans/gold')).status).toBe(204);
    await expectProblem(await admin('GET', '/plans/gold'), 404);
  });

  const bad: [string, unknown, string][] = [
    ['a negative limit', { rate: [{ limit: -1, windowSeconds: 1 }] }, 'rate.0.limit'],
    ['a fractional window', { rate: [{ limit: 1, windowSeconds: 0.5 }] }, 'rate.0.windowSeconds'],
    ['a window over an hour', { rate: [{ limit: 1, windowSeconds: 7200 }] }, 'rate.0.windowSeconds'],
    ['a string limit', { rate: [{ limit: '10', windowSeconds: 1 }] }, 'rate.0.limit'],
    [
      'two windows of one length',
      {
        rate: [
          { limit: 1, windowSeconds: 1 },
          { limit: 2, windowSeconds: 1 },
        ],
      },
      'rate',
    ],
    ['a quota with neither calls nor bytes', { quota: { period: 'day' } }, 'quota.calls'],
    ['a quota period of a week', { quota: { period: 'week', calls: 1 } }, 'quota.period'],
    ['a concurrency of 1.5', { concurrency: 1.5 }, 'concurrency'],
    ['an unknown fail mode', { failMode: 'maybe' }, 'failMode'],
    ['an unknown field', { burst: 3 }, 'burst'],
    ['an app key that is not org/app', { apps: { 'TTD/App': { concurrency: 1 } } }, 'apps.TTD/App'],
    ['an unknown field in an app override', { apps: { ttd: { shards: 2 } } }, 'apps.ttd.shards'],
    ['0 shards', { shards: 0 }, 'shards'],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses a plan with ${what}: 400 problem naming ${field}, nothing stored`, async () => {
      const problem = await expectProblem(await admin('PUT', '/plans/badplan', body), 400);
      expect(problem.type).toBe('urn:altinn-platform:problem:validation');
      expect(problem.errors?.map((e) => e.field)).toContain(field);
      expect(problem.detail).toContain(field);
      expect(await env.ROUTES.get('plan/badplan')).toBeNull();
    });
  }

  it('refuses a bad plan name and needs the admin token', async () => {
    const problem = await expectProblem(await admin('PUT', '/plans/Gold_1', {}), 400);
    expect(problem.errors?.[0]?.field).toBe('plan');
    await expectProblem(await admin('PUT', '/plans/x', {}, null), 401);
    await expectProblem(await admin('GET', '/consumers', undefined, 'wrong'), 401);
    await expectProblem(await admin('GET', '/metrics', undefined, null), 401);
  });
});

describe('consumers admin API', () => {
  it('shows both keys once at creation, stores only their hashes, and never shows them again', async () => {
    const created = await admin('PUT', '/consumers/acme', { plan: 'gold', displayName: 'Acme AS' });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const body = (await created.json()) as { keys: { primary: string; secondary: string }; keyHashes?: unknown };
    expect(body.keys.primary).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.keys.secondary).not.toBe(body.keys.primary);
    expect(body.keyHashes).toBeUndefined();

    const stored = await env.ROUTES.get('consumer/acme');
    expect(stored).not.toContain(body.keys.primary);
    expect(stored).toContain(await hashKey(body.keys.primary));
    expect(await env.ROUTES.get(`consumer-key/${await hashKey(body.keys.primary)}`)).toBe('acme');

    const got = await (await admin('GET', '/consumers/acme')).text();
    const list = await (await admin('GET', '/consumers')).text();
    for (const text of [got, list]) {
      expect(text).not.toContain(body.keys.primary);
      expect(text).not.toContain(await hashKey(body.keys.primary));
    }
    const updated = await admin('PUT', '/consumers/acme', { plan: 'silver' });
    expect(updated.status).toBe(200);
    const u = (await updated.json()) as Record<string, unknown>;
    expect(u).toMatchObject({ id: 'acme', plan: 'silver' });
    expect(u.keys).toBeUndefined();
  });

  it('regenerates one key: the old hash is dropped from the index, the new key shown once', async () => {
    const { keys } = (await (await admin('PUT', '/consumers/rot', {})).json()) as { keys: { primary: string } };
    const res = await admin('POST', '/consumers/rot/keys/primary/regenerate');
    expect(res.status).toBe(200);
    const { key } = (await res.json()) as { key: string };
    expect(key).not.toBe(keys.primary);
    expect(await env.ROUTES.get(`consumer-key/${await hashKey(keys.primary)}`)).toBeNull();
    expect(await env.ROUTES.get(`consumer-key/${await hashKey(key)}`)).toBe('rot');
    const bad = await expectProblem(await admin('POST', '/consumers/rot/keys/tertiary/regenerate'), 400);
    expect(bad.errors?.[0]?.field).toBe('which');
    await expectProblem(await admin('POST', '/consumers/nobody/keys/primary/regenerate'), 404);
  });

  it('deletes a consumer and its keys', async () => {
    const { keys } = (await (await admin('PUT', '/consumers/gone', {})).json()) as { keys: { secondary: string } };
    expect((await admin('DELETE', '/consumers/gone')).status).toBe(204);
    expect(await env.ROUTES.get(`consumer-key/${await hashKey(keys.secondary)}`)).toBeNull();
    await expectProblem(await admin('GET', '/consumers/gone'), 404);
  });

  const bad: [string, unknown, string][] = [
    ['a plan name with upper case', { plan: 'Gold' }, 'plan'],
    ['a string for disabled', { disabled: 'yes' }, 'disabled'],
    ['a key in the body', { key: 'chosen-by-me' }, 'key'],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses a consumer with ${what}: 400 naming ${field}`, async () => {
      const problem = await expectProblem(await admin('PUT', '/consumers/badc', body), 400);
      expect(problem.errors?.map((e) => e.field)).toContain(field);
      expect(await env.ROUTES.get('consumer/badc')).toBeNull();
    });
  }
});
