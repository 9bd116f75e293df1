import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { appToken, call, devEnv, egressAdmin, problemOf, putTarget, targetPort } from '../../test/egress';
import worker from '../index';
import { limiterName } from './limits';

/** Per-target limits: rate windows and a concurrency cap, enforced by the SLA limiter per `egress:{org}/{target}`. */

const ORG = 'limited';
const APP = 'forms';

async function egressCall(path: string, app = APP) {
  const headers = { PlatformAccessToken: await appToken(ORG, app) };
  return call(`/_egress/http/127.0.0.1:${targetPort()}${path}`, { headers }, devEnv());
}

/** Starts a call and answers as soon as the head has arrived, the body unread. */
async function startCall(path: string) {
  const ctx = createExecutionContext();
  const request = new Request(`https://edge.test/_egress/http/127.0.0.1:${targetPort()}${path}`, {
    headers: { PlatformAccessToken: await appToken(ORG, APP) },
  }) as Request<unknown, IncomingRequestCfProperties>;
  const res = await worker.fetch(request, devEnv() as never, ctx);
  return { res, ctx };
}

function inFlight(target: string): Promise<number> {
  const ns = env.SLA_LIMITER;
  if (ns === undefined) throw new Error('no SLA_LIMITER binding');
  return ns.get(ns.idFromName(limiterName(ORG, target))).inFlight();
}

beforeAll(async () => {
  const loopback = { scheme: 'http', host: '127.0.0.1', ports: [targetPort()] };
  await putTarget(ORG, 'rated', { ...loopback, pathPrefixes: ['/api/rated'], rate: [{ limit: 3, windowSeconds: 60 }] });
  await putTarget(ORG, 'single', { ...loopback, pathPrefixes: ['/api/drip'], concurrency: 1 });
  await putTarget(ORG, 'single-slow', { ...loopback, pathPrefixes: ['/api/slow'], concurrency: 1, timeoutMs: 200 });
});

describe('egress: per-target limits', () => {
  it('admits exactly the rate limit of a burst and refuses the rest with 429 rate-limited, audited as denied', async () => {
    const since = Date.now();
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => egressCall(`/api/rated?n=${i}`)));
    const statuses = burst.map((r) => r.res.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    for (const { res, text } of burst.filter((r) => r.res.status === 429)) {
      const problem = problemOf(res, text, 429);
      expect(problem.reason).toBe('rate-limited');
      expect(problem.type).toBe('urn:altinn-platform:problem:egress-rate-limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('ratelimit-policy')).toBe('"rate-60s";q=3;w=60');
    }

    const { text } = await egressAdmin('GET', `/${ORG}/audit?target=rated&since=${since}`);
    const calls = (JSON.parse(text) as { calls: { decision: string; status: number; reason: string | null }[] }).calls;
    expect(calls.filter((c) => c.decision === 'allowed' && c.status === 200)).toHaveLength(3);
    const refused = calls.filter((c) => c.decision === 'denied');
    expect(refused).toHaveLength(5);
    for (const row of refused) {
      expect(row.status).toBe(429);
      expect(row.reason).toMatch(/^rate-limited: /);
    }
  });

  it('holds the concurrency slot until the response body has been sent, then releases it', async () => {
    const first = await startCall('/api/drip?ms=300');
    expect(first.res.status).toBe(200);
    expect(await inFlight('single')).toBe(1);

    const second = await egressCall('/api/drip?ms=10');
    expect(problemOf(second.res, second.text, 429).reason).toBe('concurrency-limited');
    expect(second.res.headers.get('retry-after')).toBe('1');

    expect(await first.res.text()).toBe('first;last');
    await waitOnExecutionContext(first.ctx);
    expect(await inFlight('single')).toBe(0);

    for (let i = 0; i < 2; i++) {
      const next = await egressCall('/api/drip?ms=10');
      expect(next.res.status, next.text).toBe(200);
      expect(next.text).toBe('first;last');
    }
    expect(await inFlight('single')).toBe(0);
  });

  it('releases the slot of a call that fails (target timeout)', async () => {
    for (let i = 0; i < 2; i++) {
      const { res, text } = await egressCall('/api/slow?ms=5000');
      expect(problemOf(res, text, 504).reason).toBe('target-timeout');
    }
    expect(await inFlight('single-slow')).toBe(0);
  });

  it("holds a call that a redirect leads to another target to that target's limits too", async () => {
    const loopback = { scheme: 'http', host: '127.0.0.1', ports: [targetPort()] };
    await putTarget(ORG, 'bouncer', { ...loopback, pathPrefixes: ['/redirect'] });
    await putTarget(ORG, 'capped', {
      ...loopback,
      pathPrefixes: ['/api/capped'],
      rate: [{ limit: 1, windowSeconds: 60 }],
    });
    const via = `/redirect?to=${encodeURIComponent('/api/capped/echo')}`;
    const first = await egressCall(via);
    expect(first.res.status, first.text).toBe(200);
    const second = await egressCall(via);
    expect(problemOf(second.res, second.text, 429).reason).toBe('rate-limited');
    expect(second.text).toContain('Target capped of limited');
  });

  it('leaves targets without limits unlimited', async () => {
    await putTarget(ORG, 'free', {
      scheme: 'http',
      host: '127.0.0.1',
      ports: [targetPort()],
      pathPrefixes: ['/api/free'],
    });
    const burst = await Promise.all(Array.from({ length: 6 }, () => egressCall('/api/free')));
    expect(burst.map((r) => r.res.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });
});
