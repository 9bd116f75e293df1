import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, expectProblem, routeOrg, upstreamHits } from '../../test/helpers';
import { setBreakerClock } from '../../test/sla';

const EDGE = 'https://edge.test';
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
/** Three clients, as Cloudflare names them: a circuit needs failures from 3 distinct clients by default. */
const CLIENTS = ['198.51.100.1', '198.51.100.2', '2001:db8:1:2::9'];

beforeAll(async () => {
  await routeOrg('brk');
  await routeOrg('brkc');
  await routeOrg('brksolo');
  await routeOrg('brkone');
  await routeOrg('brkmix');
  await routeOrg('brkslow');
});

function get(path: string, client = CLIENTS[0], marker?: string): Promise<Response> {
  const headers: Record<string, string> = { 'cf-connecting-ip': client ?? 'unknown' };
  if (marker !== undefined) headers['x-test-marker'] = marker;
  return SELF.fetch(`${EDGE}${path}`, { headers });
}

/** Sends `path` once per entry of `clients`, draining each answer. */
async function from(clients: readonly string[], path: string): Promise<number[]> {
  const statuses: number[] = [];
  for (const client of clients) {
    const res = await get(path, client);
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  return statuses;
}

/** `n` requests, taking the clients in turn. */
const spread = (n: number, clients = CLIENTS) => Array.from({ length: n }, (_, i) => clients[i % clients.length]!);

const status = (upstream: string) => env.SLA_BREAKER.getByName(upstream).status();

describe('circuit breaker: gateway failures', () => {
  const config = {
    consecutiveFailures: 5,
    baseOpenMs: 30_000,
    maxOpenMs: 300_000,
    probeTimeoutMs: 1_000,
    minClients: 3,
  };

  it('opens after 5 consecutive gateway failures from 3 clients, answers 503 + Retry-After without reaching the upstream, then half-opens and closes', async () => {
    await setBreakerClock('brk/flaky', T0);
    expect(await from(spread(5), '/brk/flaky/?mode=status&code=502')).toEqual([502, 502, 502, 502, 502]);
    const open = await get('/brk/flaky/', CLIENTS[0], 'brk-open');
    const problem = await expectProblem(open, 503);
    expect(problem.type).toBe('urn:altinn-platform:problem:circuit-open');
    expect(open.headers.get('retry-after')).toBe('30');
    // the app's health, not the caller's quota: no RateLimit fields
    expect(open.headers.get('ratelimit-policy')).toBeNull();
    expect(await upstreamHits('brk-open')).toBe(0);
    expect(await status('brk/flaky')).toMatchObject({ state: 'open', openings: 1 });

    // after the opening: one probe goes through; a second caller waits while it is in flight
    await setBreakerClock('brk/flaky', T0 + 30_000);
    const circuit = env.SLA_BREAKER.getByName('brk/flaky');
    expect(await circuit.admit(config)).toMatchObject({ state: 'half-open', allowed: true });
    await expectProblem(await get('/brk/flaky/'), 503);

    // the probe fails at the gateway: open again, for twice as long
    expect((await circuit.record({ kind: 'gateway', client: 'x' }, config)).retryAfterSeconds).toBe(60);
    const reopened = await get('/brk/flaky/');
    await expectProblem(reopened, 503);
    expect(reopened.headers.get('retry-after')).toBe('60');

    // after that opening the probe is a real request, it succeeds, and the circuit closes
    await setBreakerClock('brk/flaky', T0 + 90_000);
    const probe = await get('/brk/flaky/', CLIENTS[1], 'brk-probe');
    expect(probe.status).toBe(200);
    await probe.arrayBuffer();
    expect(await upstreamHits('brk-probe')).toBe(1);
    expect(await status('brk/flaky')).toMatchObject({ state: 'closed', failures: 0, openings: 0 });
    for (let i = 0; i < 3; i++) expect((await get('/brk/flaky/')).status).toBe(200);
  });

  it('a success between failures resets the count: 4 failures, a success, 4 failures keep it closed', async () => {
    for (const [i, code] of [502, 504, 502, 504, 200, 502, 502, 502, 502].entries()) {
      const res = await get(`/brkmix/mixed/?mode=status&code=${code}`, CLIENTS[i % 3]);
      expect(res.status).toBe(code);
      await res.arrayBuffer();
    }
    expect(await status('brkmix/mixed')).toMatchObject({ state: 'closed', failures: 4 });
  });

  it('counts upstream timeouts and unreachable clusters from several clients, but not 4xx or a disabled app', async () => {
    for (const client of spread(5)) await expectProblem(await get('/brkslow/slow/?mode=slow&ms=2000', client), 504);
    await expectProblem(await get('/brkslow/slow/'), 503);

    await routeOrg('brkdead', 'http://127.0.0.1:9');
    for (const client of spread(5)) await expectProblem(await get('/brkdead/app/', client), 502);
    const dead = await get('/brkdead/app/');
    expect((await expectProblem(dead, 503)).type).toBe('urn:altinn-platform:problem:circuit-open');

    expect(await from(spread(6), '/brk/fine/?mode=status&code=404')).toEqual([404, 404, 404, 404, 404, 404]);
    await admin('PUT', '/routes/brk/off', { disabled: true });
    for (const client of spread(6))
      expect((await expectProblem(await get('/brk/off/', client), 503)).type).toContain('app-disabled');
    expect(await status('brk/fine')).toMatchObject({ state: 'closed', failures: 0 });
    expect(await status('brk/off')).toMatchObject({ state: 'closed', failures: 0 });
  });
});

describe('circuit breaker: one client cannot open a circuit for others', () => {
  it('one client provoking gateway failures, timeouts and 5xx on any path opens neither the app nor its cluster', async () => {
    const attacker = ['203.0.113.66'];
    for (const code of [500, 502, 504, 500, 501, 502, 504, 505, 599]) {
      await from(spread(3, attacker), `/brkone/victim/?mode=status&code=${code}`);
      await from(spread(3, attacker), `/brkone/other/?mode=status&code=${code}`);
    }
    for (let i = 0; i < 6; i++) await expectProblem(await get('/brkone/victim/?mode=slow&ms=2000', attacker[0]), 504);
    expect(await status('brkone/victim')).toMatchObject({ state: 'closed' });
    expect(await status('cluster:brkone')).toMatchObject({ state: 'closed' });
    // everyone else, and the attacker on a healthy path, is served
    expect(await from(CLIENTS, '/brkone/victim/')).toEqual([200, 200, 200]);
    expect((await get('/brkone/victim/', attacker[0])).status).toBe(200);
    // About 60 requests, six of them held to the 400 ms upstream timeout: more than the default 5 s on a busy machine.
  }, 30_000);

  it('one IPv6 client rotating addresses within its /64 counts as one client', async () => {
    const rotating = Array.from({ length: 9 }, (_, i) => `2001:db8:66:1::${i + 1}`);
    expect(await from(rotating, '/brkone/ipv6/?mode=status&code=502')).toEqual(Array(9).fill(502));
    expect(await status('brkone/ipv6')).toMatchObject({ state: 'closed', failures: 9 });
    expect((await get('/brkone/ipv6/')).status).toBe(200);
  });

  it("an app's own 5xx never open its circuit unless the app opts in, however many clients see them", async () => {
    for (const code of [500, 501, 500, 599])
      expect(await from(spread(9), `/brksolo/buggy/?mode=status&code=${code}`)).toEqual(Array(9).fill(code));
    expect(await status('brksolo/buggy')).toMatchObject({ state: 'closed' });
    expect(await status('cluster:brksolo')).toMatchObject({ state: 'closed' });
    expect((await get('/brksolo/buggy/')).status).toBe(200);
  });

  it('an opted-in app opens on its 5xx ratio over the minimum volume from several clients, never from one client', async () => {
    const res = await admin('PUT', '/routes/brk/optin', {
      breaker: { countAppErrors: true, errorRatio: 0.5, minRequests: 10, minClients: 3 },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { breaker: unknown }).breaker).toMatchObject({ countAppErrors: true });
    // one client: 30 failures in a row, well over ratio and volume, do not open it
    await from(spread(30, ['203.0.113.70']), '/brk/optin/?mode=status&code=500');
    expect(await status('brk/optin')).toMatchObject({ state: 'closed' });
    // two clients: still not enough distinct clients
    await from(spread(12, ['203.0.113.70', '203.0.113.71']), '/brk/optin/?mode=status&code=500');
    expect(await status('brk/optin')).toMatchObject({ state: 'closed' });
    // a third client's failure, with the ratio over half and the volume reached: the circuit opens
    await from(['203.0.113.72'], '/brk/optin/?mode=status&code=500');
    expect(await status('brk/optin')).toMatchObject({ state: 'open', openings: 1 });
    expect((await expectProblem(await get('/brk/optin/'), 503)).type).toBe('urn:altinn-platform:problem:circuit-open');
  });

  it('an opted-in app whose 5xx are a small share of its volume stays closed: the successes between count, without an RPC each', async () => {
    // minRequests 5: were the successes not counted, 9 failures of 9 requests would open it
    const res = await admin('PUT', '/routes/brk/mostly-fine', {
      breaker: { countAppErrors: true, errorRatio: 0.5, minRequests: 5, minClients: 3 },
    });
    expect(res.status).toBe(201);
    for (let round = 0; round < 3; round++) {
      await from(spread(10), '/brk/mostly-fine/');
      await from(CLIENTS, '/brk/mostly-fine/?mode=status&code=500');
    }
    // 39 requests, 9 of them failures from 3 clients: over the volume, under the ratio
    expect(await status('brk/mostly-fine')).toMatchObject({ state: 'closed' });
  });

  it('refuses breaker settings that would let one client open a circuit', async () => {
    const res = await admin('PUT', '/routes/brk/weak', { breaker: { countAppErrors: true, minClients: 1 } });
    const problem = await expectProblem(res, 400);
    expect(problem.errors?.[0]?.field).toBe('breaker.minClients');
  });
});

describe('circuit breaker: starting apps and clusters', () => {
  it('an app without a ready replica (503, starting or waking from zero) or not there yet (404) opens nothing', async () => {
    await routeOrg('brkstart');
    for (const app of ['waking', 'starting'])
      expect(await from(spread(12), `/brkstart/${app}/?mode=status&code=503`)).toEqual(Array(12).fill(503));
    expect(await from(spread(12), '/brkstart/not-yet/?mode=status&code=404')).toEqual(Array(12).fill(404));
    expect(await status('brkstart/waking')).toMatchObject({ state: 'closed', failures: 0 });
    expect(await status('cluster:brkstart')).toMatchObject({ state: 'closed', failures: 0 });
    // once awake it answers at once
    expect(await from(CLIENTS, '/brkstart/waking/')).toEqual([200, 200, 200]);
  });
});

describe('circuit breaker of an org cluster', () => {
  const config = {
    consecutiveFailures: 5,
    baseOpenMs: 30_000,
    maxOpenMs: 300_000,
    probeTimeoutMs: 1_000,
    minSources: 2,
    minClients: 3,
  };
  const cluster = () => env.SLA_BREAKER.getByName('cluster:brkc');

  it('opens after 5 consecutive gateway failures across its apps and clients, refuses every app of the org, then half-opens and closes', async () => {
    await setBreakerClock('cluster:brkc', T0);
    // 3 + 2 failures: neither app's own circuit opens, the cluster's does
    for (const [i, path] of ['one', 'one', 'one', 'two', 'two'].entries()) {
      const res = await get(`/brkc/${path}/?mode=status&code=${path === 'one' ? 504 : 502}`, CLIENTS[i % 3]);
      await res.arrayBuffer();
    }
    expect(await status('brkc/one')).toMatchObject({ state: 'closed', failures: 3 });
    expect(await cluster().status()).toMatchObject({ state: 'open', openings: 1 });
    const open = await get('/brkc/three/', CLIENTS[0], 'brkc-open');
    const problem = await expectProblem(open, 503);
    expect(problem.type).toBe('urn:altinn-platform:problem:circuit-open');
    expect(problem.detail).toContain('the cluster of brkc');
    expect(open.headers.get('retry-after')).toBe('30');
    expect(await upstreamHits('brkc-open')).toBe(0);

    // half-open: one probe at a time; it fails, the cluster opens again for twice as long
    await setBreakerClock('cluster:brkc', T0 + 30_000);
    expect(await cluster().admit(config)).toMatchObject({ state: 'half-open', allowed: true });
    await expectProblem(await get('/brkc/three/'), 503);
    expect((await cluster().record({ kind: 'gateway', client: 'x', source: 'three' }, config)).retryAfterSeconds).toBe(
      60,
    );
    expect((await get('/brkc/three/')).headers.get('retry-after')).toBe('60');

    // after that opening a real request is the probe; it succeeds and the cluster closes
    await setBreakerClock('cluster:brkc', T0 + 90_000);
    const probe = await get('/brkc/three/', CLIENTS[0], 'brkc-probe');
    expect(probe.status).toBe(200);
    await probe.arrayBuffer();
    expect(await upstreamHits('brkc-probe')).toBe(1);
    expect(await cluster().status()).toMatchObject({ state: 'closed', failures: 0, openings: 0 });
    for (const path of ['one', 'two', 'three']) expect((await get(`/brkc/${path}/`)).status).toBe(200);
  });

  it("one failing app opens only its own circuit, not its org cluster's; an app's 500 is not a cluster failure", async () => {
    await from(spread(6), '/brksolo/broken/?mode=status&code=502');
    expect(await status('brksolo/broken')).toMatchObject({ state: 'open' });
    expect(await status('cluster:brksolo')).toMatchObject({ state: 'closed' });
    await from(spread(3), '/brksolo/buggy2/?mode=status&code=500');
    expect(await status('cluster:brksolo')).toMatchObject({ state: 'closed' });
    expect((await get('/brksolo/fine/')).status).toBe(200);
  });
});
