import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, expectProblem, routeOrg, upstreamHits } from '../../test/helpers';
import { call, drain, eventually, newConsumer, putPlan, setLimiterClock } from '../../test/sla';
import { SlaLimiter } from './limiter';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

beforeAll(async () => {
  await routeOrg('slaorg');
});

describe('rate limits', () => {
  it('admits the limit with RateLimit headers counting down, then answers 429 with Retry-After', async () => {
    await putPlan('three-per-10s', { rate: [{ limit: 3, windowSeconds: 10 }] });
    const { primary } = await newConsumer('rate-basic', 'three-per-10s');
    await setLimiterClock('c:rate-basic#0', T0);
    for (const remaining of [2, 1, 0]) {
      const res = await call('/slaorg/app/', primary);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"rate-10s";q=3;w=10');
      expect(res.headers.get('ratelimit')).toBe(`"rate-10s";r=${remaining};t=10`);
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      expect(res.headers.get('ratelimit-remaining')).toBe(String(remaining));
      expect(res.headers.get('ratelimit-reset')).toBe('10');
      await drain(res);
    }
    const refused = await call('/slaorg/app/', primary);
    const problem = await expectProblem(refused, 429);
    expect(problem.type).toBe('urn:altinn-platform:problem:rate-limited');
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(refused.headers.get('ratelimit')).toBe('"rate-10s";r=0;t=10');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
  });

  it('slides: a window admits again only when its oldest admission has left it', async () => {
    await putPlan('two-per-60s', { rate: [{ limit: 2, windowSeconds: 60 }] });
    const { primary } = await newConsumer('rate-slide', 'two-per-60s');
    const name = 'c:rate-slide#0';
    await setLimiterClock(name, T0);
    await drain(await call('/slaorg/app/', primary));
    await setLimiterClock(name, T0 + 30_000);
    await drain(await call('/slaorg/app/', primary));
    await setLimiterClock(name, T0 + 59_999);
    const early = await call('/slaorg/app/', primary);
    await expectProblem(early, 429);
    expect(early.headers.get('retry-after')).toBe('1');
    // a fixed window starting at T0 would admit two more here; the sliding window admits one
    await setLimiterClock(name, T0 + 60_000);
    expect((await call('/slaorg/app/', primary)).status).toBe(200);
    await expectProblem(await call('/slaorg/app/', primary), 429);
    await setLimiterClock(name, T0 + 90_000);
    expect((await call('/slaorg/app/', primary)).status).toBe(200);
  });

  it('enforces several windows at once and reports the tightest in RateLimit-Remaining', async () => {
    await putPlan('sec-and-min', {
      rate: [
        { limit: 2, windowSeconds: 1 },
        { limit: 3, windowSeconds: 60 },
      ],
    });
    const { primary } = await newConsumer('rate-multi', 'sec-and-min');
    const name = 'c:rate-multi#0';
    await setLimiterClock(name, T0);
    const first = await call('/slaorg/app/', primary);
    expect(first.headers.get('ratelimit-policy')).toBe('"rate-1s";q=2;w=1, "rate-60s";q=3;w=60');
    expect(first.headers.get('ratelimit')).toBe('"rate-1s";r=1;t=1, "rate-60s";r=2;t=60');
    await drain(first);
    await drain(await call('/slaorg/app/', primary));
    const perSecond = await call('/slaorg/app/', primary);
    await expectProblem(perSecond, 429);
    expect(perSecond.headers.get('retry-after')).toBe('1');
    await setLimiterClock(name, T0 + 1_000);
    await drain(await call('/slaorg/app/', primary));
    const perMinute = await call('/slaorg/app/', primary);
    await expectProblem(perMinute, 429);
    expect(perMinute.headers.get('retry-after')).toBe('59');
  });

  it('a limit of 0 blocks every request and nothing reaches the upstream', async () => {
    await putPlan('blocked', { rate: [{ limit: 0, windowSeconds: 60 }] });
    const { primary } = await newConsumer('rate-zero', 'blocked');
    const res = await call('/slaorg/app/', primary, { headers: { 'x-test-marker': 'rate-zero' } });
    await expectProblem(res, 429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(await upstreamHits('rate-zero')).toBe(0);
  });

  it('admits exactly the limit when many more requests than the limit arrive at once', async () => {
    await putPlan('ten-per-min', { rate: [{ limit: 10, windowSeconds: 60 }] });
    const { primary } = await newConsumer('rate-burst', 'ten-per-min');
    const results = await Promise.all(
      Array.from({ length: 60 }, () =>
        call('/slaorg/app/', primary, { headers: { 'x-test-marker': 'rate-burst' } }).then(async (r) => {
          await drain(r);
          return r.status;
        }),
      ),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(10);
    expect(results.filter((s) => s === 429)).toHaveLength(50);
    expect(await upstreamHits('rate-burst')).toBe(10);
  });

  it('a sharded key never admits more than its limit in total', async () => {
    await putPlan('sharded', { rate: [{ limit: 12, windowSeconds: 60 }], shards: 4 });
    const { primary } = await newConsumer('rate-sharded', 'sharded');
    const results = await Promise.all(
      Array.from({ length: 120 }, () =>
        call('/slaorg/app/', primary, { headers: { 'x-test-marker': 'rate-sharded' } }).then(async (r) => {
          await drain(r);
          return { status: r.status, policy: r.headers.get('ratelimit-policy') };
        }),
      ),
    );
    // admitted = reached the upstream (on a loaded machine the test upstream may answer some with 504)
    const admitted = await upstreamHits('rate-sharded');
    expect(admitted).toBeLessThanOrEqual(12);
    expect(results.filter((r) => r.status === 429)).toHaveLength(120 - admitted);
    // each of the 4 shards holds 3; with 120 random picks every shard is reached (p(miss) < 1e-13)
    expect(admitted).toBe(12);
    expect(results[0]?.policy).toBe('"rate-60s";q=12;w=60');
  }, 20_000);
});

describe('batched reservations', () => {
  it('grants up to the batch, and holds reserved admissions in the window for the hold as well', async () => {
    const name = 'batch-hold#0';
    await setLimiterClock(name, T0);
    const stub = env.SLA_LIMITER.getByName(name);
    const a = { rate: [{ limit: 8, windowSeconds: 1 }], slotTimeoutMs: 1_000, want: 4, holdMs: 100 };
    const grants: number[] = [];
    for (let d = await stub.admit(a); d.allowed; d = await stub.admit(a)) grants.push(d.granted ?? 0);
    // a quarter of what is left at most, never more than asked, and never more than the limit in all
    expect(grants).toEqual([2, 2, 1, 1, 1, 1]);
    // an admission reserved at T0 may be used until T0 + 100 ms: it counts until T0 + 1100 ms
    await setLimiterClock(name, T0 + 1_000);
    expect((await stub.admit(a)).allowed).toBe(false);
    await setLimiterClock(name, T0 + 1_100);
    expect(await stub.admit(a)).toMatchObject({ allowed: true, granted: 2 });
  });

  it('never admits more than the limit through the edge when the plan batches', async () => {
    await putPlan('batched', { rate: [{ limit: 10, windowSeconds: 60 }], batch: 8 });
    const { primary } = await newConsumer('rate-batched', 'batched');
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () =>
        call('/slaorg/app/', primary, { headers: { 'x-test-marker': 'rate-batched' } }).then(async (r) => {
          await drain(r);
          return r.status;
        }),
      ),
    );
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(await upstreamHits('rate-batched')).toBe(admitted);
    for (let i = 0; i < 5; i++) await expectProblem(await call('/slaorg/app/', primary), 429);
  }, 20_000);
});

describe('quotas', () => {
  it('answers 403 with Retry-After to the period end once the call quota is used, and resets next day', async () => {
    await putPlan('two-a-day', { quota: { period: 'day', calls: 2 } });
    const { primary } = await newConsumer('quota-day', 'two-a-day');
    const name = 'c:quota-day#0';
    await setLimiterClock(name, Date.UTC(2026, 10, 25, 23, 0, 0));
    const first = await call('/slaorg/app/', primary);
    expect(first.headers.get('ratelimit-policy')).toBe('"quota-day";q=2;w=86400');
    expect(first.headers.get('ratelimit')).toBe('"quota-day";r=1;t=3600');
    await drain(first);
    await drain(await call('/slaorg/app/', primary));
    const refused = await call('/slaorg/app/', primary);
    const problem = await expectProblem(refused, 403);
    expect(problem.type).toBe('urn:altinn-platform:problem:quota-exceeded');
    expect(refused.headers.get('retry-after')).toBe('3600');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');

    await setLimiterClock(name, Date.UTC(2026, 10, 26, 0, 0, 0));
    const next = await call('/slaorg/app/', primary);
    expect(next.status).toBe(200);
    expect(next.headers.get('ratelimit')).toBe('"quota-day";r=1;t=86400');
  });

  it('reports the quota a consumer has used this period, for its plan and for an app override, at /_edge/consumers/{id}/usage', async () => {
    await putPlan('five-a-day', {
      quota: { period: 'day', calls: 5, bytes: 1_000_000 },
      apps: { 'slaorg/other': { quota: { period: 'month', calls: 2 } } },
    });
    const { primary } = await newConsumer('quota-usage', 'five-a-day');
    await setLimiterClock('c:quota-usage#0', Date.UTC(2026, 10, 25, 10, 0, 0));
    for (let i = 0; i < 3; i++) await drain(await call('/slaorg/app/', primary));
    const usage = await admin('GET', '/consumers/quota-usage/usage');
    expect(usage.status).toBe(200);
    expect(await usage.json()).toMatchObject({
      consumer: 'quota-usage',
      plan: 'five-a-day',
      quota: { period: 'day', calls: { used: 3, limit: 5 }, bytes: { limit: 1_000_000 } },
    });

    await setLimiterClock('c:quota-usage@slaorg/other#0', Date.UTC(2026, 10, 25, 10, 0, 0));
    await drain(await call('/slaorg/other/', primary));
    const other = await (await admin('GET', '/consumers/quota-usage/usage?app=slaorg/other')).json();
    expect(other).toMatchObject({ app: 'slaorg/other', quota: { period: 'month', calls: { used: 1, limit: 2 } } });
    expect((other as { quota: Record<string, unknown> }).quota.bytes).toBeUndefined();

    await putPlan('rate-only', { rate: [{ limit: 100, windowSeconds: 1 }] });
    await newConsumer('no-quota', 'rate-only');
    expect(await (await admin('GET', '/consumers/no-quota/usage')).json()).toMatchObject({ quota: null });
    await expectProblem(await admin('GET', '/consumers/nobody/usage'), 404);
    await expectProblem(await admin('GET', '/consumers/quota-usage/usage?app=not-an-app'), 400);
    await expectProblem(await admin('GET', '/consumers/quota-usage/usage', undefined, null), 401);
  });

  it('a call quota of 0 blocks every request with 403 and nothing reaches the upstream', async () => {
    await putPlan('no-calls', { quota: { period: 'month', calls: 0 } });
    const { primary } = await newConsumer('quota-zero', 'no-calls');
    await setLimiterClock('c:quota-zero#0', Date.UTC(2026, 10, 30));
    const res = await call('/slaorg/app/', primary, { headers: { 'x-test-marker': 'quota-zero' } });
    expect((await expectProblem(res, 403)).type).toBe('urn:altinn-platform:problem:quota-exceeded');
    expect(res.headers.get('retry-after')).toBe('86400');
    expect(res.headers.get('ratelimit')).toBe('"quota-month";r=0;t=86400');
    expect(await upstreamHits('quota-zero')).toBe(0);
  });

  it("writes the quota counts to the object's storage within the save interval", async () => {
    await putPlan('stored-quota', { quota: { period: 'day', calls: 100 } });
    const { primary } = await newConsumer('quota-stored', 'stored-quota');
    for (let i = 0; i < 3; i++) await drain(await call('/slaorg/app/', primary));
    const stub = env.SLA_LIMITER.getByName('c:quota-stored#0');
    const stored = () =>
      runInDurableObject(stub, (_: SlaLimiter, state) => state.storage.kv.get<{ calls: number }>('quota')?.calls ?? 0);
    expect(await eventually(stored, 3)).toBe(3);
  });

  it('counts the bytes of a streamed response without Content-Length against a bandwidth quota', async () => {
    await putPlan('stream-bytes', { quota: { period: 'month', bytes: 1000 } });
    const { primary } = await newConsumer('quota-stream', 'stream-bytes');
    const name = 'c:quota-stream#0';
    const streamed = await call('/slaorg/app/?mode=stream&chunks=3&interval=5', primary);
    expect(streamed.headers.get('content-length')).toBeNull();
    expect(await streamed.text()).toBe('chunk 0\nchunk 1\nchunk 2\n');
    const used = () =>
      env.SLA_LIMITER.getByName(name)
        .quotaUsed('month')
        .then((u) => u.bytes);
    expect(await eventually(used, 24)).toBe(24);
  });

  it('counts response bytes against a bandwidth quota', async () => {
    await putPlan('tiny-bytes', { quota: { period: 'month', bytes: 20 } });
    const { primary } = await newConsumer('quota-bytes', 'tiny-bytes');
    const name = 'c:quota-bytes#0';
    await setLimiterClock(name, Date.UTC(2026, 10, 25));
    const first = await call('/slaorg/app/?mode=sized', primary);
    expect(await first.text()).toBe('hello world');
    expect(first.headers.get('ratelimit-policy')).toBe('"bytes-month";q=20;w=2592000;qu="content-bytes"');
    // the release (with the byte count) lands in waitUntil, after the response
    const used = () =>
      env.SLA_LIMITER.getByName(name)
        .quotaUsed('month')
        .then((u) => u.bytes);
    expect(await eventually(used, 11)).toBe(11);
    expect((await call('/slaorg/app/?mode=sized', primary)).status).toBe(200);
    expect(await eventually(used, 22)).toBe(22);
    const refused = await call('/slaorg/app/?mode=sized', primary);
    await expectProblem(refused, 403);
    expect(refused.headers.get('retry-after')).toBe(
      String(Date.UTC(2026, 11, 1) / 1000 - Date.UTC(2026, 10, 25) / 1000),
    );
  });
});

describe('a restarted limiter (evicted, redeployed)', () => {
  it('continues a spent hour-long window and the quota after the object restarts: no more than the limit', async () => {
    await putPlan('three-an-hour', { rate: [{ limit: 3, windowSeconds: 3600 }], quota: { period: 'day', calls: 5 } });
    const { primary } = await newConsumer('restart-window', 'three-an-hour');
    const name = 'c:restart-window#0';
    await setLimiterClock(name, T0);
    for (let i = 0; i < 3; i++) expect((await call('/slaorg/app/', primary)).status).toBe(200);
    await abortAllDurableObjects(); // every object restarts over its storage, as after a deploy
    await setLimiterClock(name, T0 + 60_000);
    const refused = await call('/slaorg/app/', primary, { headers: { 'x-test-marker': 'restart-window' } });
    await expectProblem(refused, 429);
    // stored per 1/64 of the window: an admission may be held up to 56.25 s longer, never shorter
    const retry = Number(refused.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(3540);
    expect(retry).toBeLessThanOrEqual(3540 + 57);
    expect(refused.headers.get('ratelimit')).toContain('"quota-day";r=2;');
    expect(await upstreamHits('restart-window')).toBe(0);
    await setLimiterClock(name, T0 + 3_600_000 + 56_250);
    expect((await call('/slaorg/app/', primary)).status).toBe(200);
  });

  it('a fresh instance over the same storage holds the same admissions (the class constructed twice)', async () => {
    const stub = env.SLA_LIMITER.getByName('restart-twice#0');
    const a = { rate: [{ limit: 2, windowSeconds: 1 }], slotTimeoutMs: 1_000 };
    await runInDurableObject(stub, (first: SlaLimiter, state) => {
      first.clock = () => T0;
      expect(first.admit(a).allowed).toBe(true);
      expect(first.admit(a).allowed).toBe(true);
      const second = new SlaLimiter(state, env);
      second.clock = () => T0 + 500;
      expect(second.admit(a)).toMatchObject({ allowed: false, reason: 'rate' });
      second.clock = () => T0 + 1_016; // the bucket's end (1000 ms / 64, rounded up) has left the window
      expect(second.admit(a).allowed).toBe(true);
    });
  });

  it('keeps concurrency slots across a restart, releases them by lease, and still lets them expire', async () => {
    const name = 'restart-slots#0';
    const a = { rate: [], concurrency: 2, slotTimeoutMs: 60_000 };
    await setLimiterClock(name, T0);
    const first = await env.SLA_LIMITER.getByName(name).admit(a);
    const second = await env.SLA_LIMITER.getByName(name).admit(a);
    expect(first.lease).toBeDefined();
    await abortAllDurableObjects();
    await setLimiterClock(name, T0 + 1_000);
    const stub = env.SLA_LIMITER.getByName(name);
    expect(await stub.inFlight()).toBe(2);
    expect(await stub.admit(a)).toMatchObject({ allowed: false, reason: 'concurrency' });
    await stub.releaseSlots([first.lease ?? '']);
    const third = await stub.admit(a);
    expect(third.allowed).toBe(true);
    expect(third.lease).not.toBe(first.lease);
    // the second request never ends: its slot expires after the slot timeout, as before the restart
    await setLimiterClock(name, T0 + 60_000);
    expect(await stub.inFlight()).toBe(1);
    expect(second.lease).toBeDefined();
  });

  it('sweeps expired windows, slots and past quotas from storage with its alarm', async () => {
    const name = 'restart-sweep#0';
    const stub = env.SLA_LIMITER.getByName(name);
    await setLimiterClock(name, T0);
    const a = {
      rate: [{ limit: 5, windowSeconds: 60 }],
      concurrency: 1,
      quota: { period: 'day' as const, calls: 9 },
      slotTimeoutMs: 30_000,
    };
    expect((await stub.admit(a)).allowed).toBe(true);
    const keys = () => runInDurableObject(stub, (_: SlaLimiter, state) => [...state.storage.kv.list()].map(([k]) => k));
    expect((await keys()).length).toBe(3);
    await setLimiterClock(name, T0 + 61_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keys()).toEqual(['quota']);
    await setLimiterClock(name, Date.UTC(2026, 10, 26, 0, 0, 1));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keys()).toEqual([]);
  });
});
