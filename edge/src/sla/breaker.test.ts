import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, expectProblem, routeOrg, upstreamHits } from '../../test/helpers';
import { setBreakerClock } from './testing';

const EDGE = 'https://edge.test';
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

beforeAll(async () => {
  await routeOrg('brk');
  await routeOrg('brkc');
  await routeOrg('brksolo');
});

function get(path: string, marker?: string): Promise<Response> {
  return SELF.fetch(`${EDGE}${path}`, marker ? { headers: { 'x-test-marker': marker } } : {});
}

describe('circuit breaker', () => {
  const config = { consecutiveFailures: 5, baseOpenMs: 30_000, maxOpenMs: 300_000, probeTimeoutMs: 1_000 };

  it('opens after 5 consecutive 5xx, answers 503 + Retry-After without reaching the upstream, then half-opens and closes', async () => {
    await setBreakerClock('brk/flaky', T0);
    for (let i = 0; i < 5; i++) {
      const res = await get('/brk/flaky/?mode=status&code=500');
      expect(res.status).toBe(500);
      await res.arrayBuffer();
    }
    const open = await get('/brk/flaky/', 'brk-open');
    const problem = await expectProblem(open, 503);
    expect(problem.type).toBe('urn:altinn-platform:problem:circuit-open');
    expect(open.headers.get('retry-after')).toBe('30');
    // the app's health, not the caller's quota: no RateLimit fields
    expect(open.headers.get('ratelimit-policy')).toBeNull();
    expect(await upstreamHits('brk-open')).toBe(0);
    expect(await env.SLA_BREAKER.getByName('brk/flaky').status()).toMatchObject({ state: 'open', openings: 1 });

    // after the opening: one probe goes through; a second caller waits while it is in flight
    await setBreakerClock('brk/flaky', T0 + 30_000);
    expect(await env.SLA_BREAKER.getByName('brk/flaky').admit(config)).toMatchObject({
      state: 'half-open',
      allowed: true,
    });
    await expectProblem(await get('/brk/flaky/'), 503);

    // the probe fails: open again, for twice as long
    expect((await env.SLA_BREAKER.getByName('brk/flaky').record(false, config)).retryAfterSeconds).toBe(60);
    const reopened = await get('/brk/flaky/');
    await expectProblem(reopened, 503);
    expect(reopened.headers.get('retry-after')).toBe('60');

    // after that opening the probe is a real request, it succeeds, and the circuit closes
    await setBreakerClock('brk/flaky', T0 + 90_000);
    const probe = await get('/brk/flaky/', 'brk-probe');
    expect(probe.status).toBe(200);
    await probe.arrayBuffer();
    expect(await upstreamHits('brk-probe')).toBe(1);
    expect(await env.SLA_BREAKER.getByName('brk/flaky').status()).toMatchObject({
      state: 'closed',
      failures: 0,
      openings: 0,
    });
    for (let i = 0; i < 3; i++) expect((await get('/brk/flaky/')).status).toBe(200);
  });

  it('a success between failures resets the count: 4 failures, a success, 4 failures keep it closed', async () => {
    for (const code of [500, 502, 503, 504, 200, 500, 500, 500, 500]) {
      const res = await get(`/brk/mixed/?mode=status&code=${code}`);
      expect(res.status).toBe(code);
      await res.arrayBuffer();
    }
    expect(await env.SLA_BREAKER.getByName('brk/mixed').status()).toMatchObject({ state: 'closed', failures: 4 });
  });

  it('counts upstream timeouts and unreachable clusters as failures, but not 4xx or a disabled app', async () => {
    for (let i = 0; i < 5; i++) await expectProblem(await get('/brk/slow/?mode=slow&ms=2000'), 504);
    await expectProblem(await get('/brk/slow/'), 503);

    await routeOrg('brkdead', 'http://127.0.0.1:9');
    for (let i = 0; i < 5; i++) await expectProblem(await get('/brkdead/app/'), 502);
    const dead = await get('/brkdead/app/');
    expect((await expectProblem(dead, 503)).type).toBe('urn:altinn-platform:problem:circuit-open');

    for (let i = 0; i < 6; i++) expect((await get('/brk/fine/?mode=status&code=404')).status).toBe(404);
    await admin('PUT', '/routes/brk/off', { disabled: true });
    for (let i = 0; i < 6; i++)
      expect((await expectProblem(await get('/brk/off/'), 503)).type).toContain('app-disabled');
    expect(await env.SLA_BREAKER.getByName('brk/fine').status()).toMatchObject({ state: 'closed', failures: 0 });
    expect(await env.SLA_BREAKER.getByName('brk/off').status()).toMatchObject({ state: 'closed', failures: 0 });
  });
});

describe('circuit breaker of an org cluster', () => {
  const config = {
    consecutiveFailures: 5,
    baseOpenMs: 30_000,
    maxOpenMs: 300_000,
    probeTimeoutMs: 1_000,
    minSources: 2,
  };
  const cluster = () => env.SLA_BREAKER.getByName('cluster:brkc');

  it('opens after 5 consecutive gateway failures across its apps, refuses every app of the org, then half-opens and closes', async () => {
    await setBreakerClock('cluster:brkc', T0);
    // 3 + 2 failures: neither app's own circuit opens, the cluster's does
    for (const path of ['one', 'one', 'one', 'two', 'two']) {
      const res = await get(`/brkc/${path}/?mode=status&code=${path === 'one' ? 503 : 502}`);
      await res.arrayBuffer();
    }
    expect(await env.SLA_BREAKER.getByName('brkc/one').status()).toMatchObject({ state: 'closed', failures: 3 });
    expect(await cluster().status()).toMatchObject({ state: 'open', openings: 1 });
    const open = await get('/brkc/three/', 'brkc-open');
    const problem = await expectProblem(open, 503);
    expect(problem.type).toBe('urn:altinn-platform:problem:circuit-open');
    expect(problem.detail).toContain('the cluster of brkc');
    expect(open.headers.get('retry-after')).toBe('30');
    expect(await upstreamHits('brkc-open')).toBe(0);

    // half-open: one probe at a time; it fails, the cluster opens again for twice as long
    await setBreakerClock('cluster:brkc', T0 + 30_000);
    expect(await cluster().admit(config)).toMatchObject({ state: 'half-open', allowed: true });
    await expectProblem(await get('/brkc/three/'), 503);
    expect((await cluster().record(false, config, 'three')).retryAfterSeconds).toBe(60);
    expect((await get('/brkc/three/')).headers.get('retry-after')).toBe('60');

    // after that opening a real request is the probe; it succeeds and the cluster closes
    await setBreakerClock('cluster:brkc', T0 + 90_000);
    const probe = await get('/brkc/three/', 'brkc-probe');
    expect(probe.status).toBe(200);
    await probe.arrayBuffer();
    expect(await upstreamHits('brkc-probe')).toBe(1);
    expect(await cluster().status()).toMatchObject({ state: 'closed', failures: 0, openings: 0 });
    for (const path of ['one', 'two', 'three']) expect((await get(`/brkc/${path}/`)).status).toBe(200);
  });

  it("one failing app opens only its own circuit, not its org cluster's; an app's 500 is not a cluster failure", async () => {
    for (let i = 0; i < 6; i++) await (await get('/brksolo/broken/?mode=status&code=503')).arrayBuffer();
    expect(await env.SLA_BREAKER.getByName('brksolo/broken').status()).toMatchObject({ state: 'open' });
    expect(await env.SLA_BREAKER.getByName('cluster:brksolo').status()).toMatchObject({ state: 'closed' });
    for (let i = 0; i < 3; i++) await (await get('/brksolo/buggy/?mode=status&code=500')).arrayBuffer();
    expect(await env.SLA_BREAKER.getByName('cluster:brksolo').status()).toMatchObject({ state: 'closed' });
    expect((await get('/brksolo/fine/')).status).toBe(200);
  });
});
