import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { admin, expectProblem, routeOrg, upstreamHits } from '../../test/helpers';
import {
  call,
  drain,
  eventually,
  inFlight,
  newConsumer,
  putPlan,
  setLimiterClock,
  TEST_DEFAULT_PLAN,
} from '../../test/sla';
import type { Received } from '../../test/upstream';
import worker from '../index';

beforeAll(async () => {
  await routeOrg('conc');
  await routeOrg('anonorg');
  await routeOrg('keyorg');
  // The default plan limits only these orgs' apps, so other test files are not affected.
  await putPlan('default', TEST_DEFAULT_PLAN);
});

describe('concurrency caps', () => {
  it('admits exactly the cap when many more requests arrive at once, and 429s the rest', async () => {
    await putPlan('five-at-once', { concurrency: 5 });
    const { primary } = await newConsumer('conc-burst', 'five-at-once');
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () =>
        call('/conc/app/?mode=slow&ms=300', primary).then(async (r) => {
          if (r.status === 429) {
            expect(r.headers.get('retry-after')).toBe('1');
            expect(((await r.json()) as { type: string }).type).toBe('urn:altinn-platform:problem:concurrency-limited');
          } else await drain(r);
          return r.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    expect(await eventually(() => inFlight('c:conc-burst#0'), 0)).toBe(0);
  });

  it('holds the slot until the response body has finished streaming, then releases it', async () => {
    await putPlan('one-at-once', { concurrency: 1 });
    const { primary } = await newConsumer('conc-stream', 'one-at-once');
    const streaming = await call('/conc/app/?mode=stream&chunks=4&interval=100', primary);
    expect(streaming.status).toBe(200);
    // headers are in, the body is still streaming: the slot is held
    expect(await inFlight('c:conc-stream#0')).toBe(1);
    await expectProblem(await call('/conc/app/', primary), 429);
    expect(await streaming.text()).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\n');
    expect(await eventually(() => inFlight('c:conc-stream#0'), 0)).toBe(0);
    const next = await call('/conc/app/', primary);
    expect(next.status).toBe(200);
    await drain(next);
  });

  it('a caller capped at 1 may send requests back to back: the ended slot is freed with the next admission', async () => {
    await putPlan('one-at-once', { concurrency: 1 });
    const { primary } = await newConsumer('conc-serial', 'one-at-once');
    for (let i = 0; i < 10; i++) {
      const res = await call('/conc/app/?mode=sized', primary);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello world');
    }
    expect(await eventually(() => inFlight('c:conc-serial#0'), 0)).toBe(0);
  });

  it('releases the slot when the client goes away in the middle of the body', async () => {
    await putPlan('one-at-once', { concurrency: 1 });
    const { primary } = await newConsumer('conc-abort', 'one-at-once');
    const controller = new AbortController();
    const res = await call('/conc/app/?mode=stream&chunks=200&interval=50', primary, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    expect(await inFlight('c:conc-abort#0')).toBe(1);
    controller.abort();
    await reader.cancel().catch(() => {});
    // 200 chunks x 50 ms would hold the slot for 10 s; it is back long before that
    expect(await eventually(() => inFlight('c:conc-abort#0'), 0)).toBe(0);
    const next = await call('/conc/app/', primary);
    expect(next.status).toBe(200);
    await drain(next);
  });

  it('shows the cap as a concurrent-requests policy (IETF draft unit, no window) on admitted and refused answers', async () => {
    await putPlan('two-at-once', { concurrency: 2 });
    const { primary } = await newConsumer('conc-headers', 'two-at-once');
    const first = await call('/conc/app/?mode=stream&chunks=4&interval=100', primary);
    expect(first.headers.get('ratelimit-policy')).toBe('"concurrency";q=2;qu="concurrent-requests"');
    expect(first.headers.get('ratelimit')).toBe('"concurrency";r=1');
    const second = await call('/conc/app/?mode=stream&chunks=4&interval=100', primary);
    expect(second.headers.get('ratelimit')).toBe('"concurrency";r=0');
    const refused = await call('/conc/app/', primary);
    await expectProblem(refused, 429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('ratelimit-policy')).toBe('"concurrency";q=2;qu="concurrent-requests"');
    expect(refused.headers.get('ratelimit')).toBe('"concurrency";r=0');
    // the older fields count requests in a window: a cap alone sets none of them
    expect(refused.headers.get('ratelimit-limit')).toBeNull();
    await Promise.all([drain(first), drain(second)]);
  });

  it('a concurrency cap of 0 blocks every request and nothing reaches the upstream', async () => {
    await putPlan('none-at-once', { concurrency: 0 });
    const { primary } = await newConsumer('conc-zero', 'none-at-once');
    const res = await call('/conc/app/', primary, { headers: { 'x-test-marker': 'conc-zero' } });
    expect((await expectProblem(res, 429)).type).toBe('urn:altinn-platform:problem:concurrency-limited');
    expect(res.headers.get('ratelimit')).toBe('"concurrency";r=0');
    expect(await upstreamHits('conc-zero')).toBe(0);
  });

  it('expires a slot that is never released, so a crashed request cannot leak it', async () => {
    const stub = env.SLA_LIMITER.getByName('leak-test#0');
    const t0 = Date.UTC(2026, 10, 25);
    await setLimiterClock('leak-test#0', t0);
    const admission = { rate: [], concurrency: 1, slotTimeoutMs: 5_000 };
    expect((await stub.admit(admission)).allowed).toBe(true);
    expect((await stub.admit(admission)).reason).toBe('concurrency');
    await setLimiterClock('leak-test#0', t0 + 5_000);
    expect((await stub.admit(admission)).allowed).toBe(true);
  });
});

describe('callers and keys', () => {
  it('answers 401 to an unknown key, a key in the query included', async () => {
    await routeOrg('keyorg');
    for (const res of [
      await call('/keyorg/app/', 'not-a-key'),
      await SELF.fetch('https://edge.test/keyorg/app/?subscription-key=nope'),
    ]) {
      const problem = await expectProblem(res, 401);
      expect(problem.type).toBe('urn:altinn-platform:problem:subscription-key-invalid');
      expect(res.headers.get('www-authenticate')).toContain('Ocp-Apim-Subscription-Key');
      // no caller, no policy: a 401 carries WWW-Authenticate only (retrying the same key does not help)
      expect(res.headers.get('retry-after')).toBeNull();
      expect(res.headers.get('ratelimit-policy')).toBeNull();
    }
  });

  it('takes the key from the header or the query, and forwards neither upstream', async () => {
    await putPlan('roomy', { rate: [{ limit: 100, windowSeconds: 60 }] });
    const { primary } = await newConsumer('key-transport', 'roomy');
    const byHeader = (await (await call('/keyorg/app/x?a=1', primary)).json()) as Received;
    expect(byHeader.headers.map(([k]) => k)).not.toContain('ocp-apim-subscription-key');
    const res = await SELF.fetch(`https://edge.test/keyorg/app/x?a=1&subscription-key=${encodeURIComponent(primary)}`);
    expect(res.headers.get('ratelimit-policy')).toBe('"rate-60s";q=100;w=60');
    const byQuery = (await res.json()) as Received;
    expect(byQuery.url).toBe('/keyorg/app/x?a=1');
  });

  it('answers 401 without a key where the plan requires one, and admits a consumer with a key', async () => {
    const res = await SELF.fetch('https://edge.test/anonorg/keyed/');
    const problem = await expectProblem(res, 401);
    expect(problem.type).toBe('urn:altinn-platform:problem:subscription-required');
    const { primary } = await newConsumer('keyed-caller');
    const ok = await call('/anonorg/keyed/', primary);
    expect(ok.status).toBe(200);
    await drain(ok);
  });

  it('limits anonymous end users by client IP per app, under the default plan', async () => {
    const from = (ip: string, app = 'open') =>
      SELF.fetch(`https://edge.test/anonorg/${app}/`, { headers: { 'cf-connecting-ip': ip } });
    for (let i = 0; i < 2; i++) await drain(await from('192.0.2.1'));
    await expectProblem(await from('192.0.2.1'), 429);
    expect((await from('192.0.2.2')).status).toBe(200);
    expect((await from('192.0.2.1', 'other')).status).toBe(200);
  });

  it('a consumer whose plan does not exist falls under the default plan', async () => {
    const { primary } = await newConsumer('orphan', 'no-such-plan');
    for (let i = 0; i < 2; i++) await drain(await call('/anonorg/orphaned/', primary));
    await expectProblem(await call('/anonorg/orphaned/', primary), 429);
  });

  it('a rotated key stops working at once while the other key keeps working', async () => {
    await putPlan('roomy', { rate: [{ limit: 100, windowSeconds: 60 }] });
    const { primary, secondary } = await newConsumer('rotating', 'roomy');
    const rotated = await admin('POST', '/consumers/rotating/keys/primary/regenerate');
    expect(rotated.status).toBe(200);
    const { key } = (await rotated.json()) as { key: string };
    await expectProblem(await call('/keyorg/app/', primary), 401);
    for (const k of [key, secondary]) {
      const res = await call('/keyorg/app/', k);
      expect(res.status).toBe(200);
      await drain(res);
    }
  });

  it('never writes a key to the logs', async () => {
    const logged: string[] = [];
    const spies = (['log', 'warn', 'error', 'info'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map(String).join(' '));
      }),
    );
    try {
      const res = await admin('PUT', '/consumers/quiet', { plan: 'roomy' });
      const { keys } = (await res.json()) as { keys: { primary: string } };
      await drain(await call('/keyorg/app/', keys.primary));
      await drain(await call('/keyorg/app/', `${keys.primary}x`));
      await admin('POST', '/consumers/quiet/keys/secondary/regenerate');
      expect(logged.length).toBeGreaterThan(0);
      expect(logged.join('\n')).not.toContain(keys.primary);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('when the limiter cannot be reached', () => {
  const fail = () => {
    throw new Error('limiter unreachable');
  };
  const unreachable = { getByName: fail, idFromName: fail, get: fail } as unknown as typeof env.SLA_LIMITER;

  async function viaBrokenLimiter(path: string, key: string): Promise<Response> {
    const ctx = createExecutionContext();
    const req = new Request<unknown, IncomingRequestCfProperties>(`https://edge.test${path}`, {
      headers: { 'ocp-apim-subscription-key': key },
    });
    const res = await worker.fetch(req, { ...env, SLA_LIMITER: unreachable }, ctx);
    const body = await res.arrayBuffer(); // the body's end is awaited in waitUntil
    await waitOnExecutionContext(ctx);
    return new Response(body, res);
  }

  it('fails open by default: the request goes through and the failure is logged', async () => {
    await putPlan('fail-open', { rate: [{ limit: 1, windowSeconds: 60 }] });
    const { primary } = await newConsumer('fails-open', 'fail-open');
    const warn = vi.spyOn(console, 'warn');
    try {
      const res = await viaBrokenLimiter('/keyorg/app/', primary);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
      expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toContain('limiter unreachable');
    } finally {
      warn.mockRestore();
    }
  });

  it('fails closed with 503 and Retry-After when the plan says so', async () => {
    await putPlan('fail-closed', { rate: [{ limit: 100, windowSeconds: 60 }], failMode: 'closed' });
    const { primary } = await newConsumer('fails-closed', 'fail-closed');
    const res = await viaBrokenLimiter('/keyorg/app/', primary);
    const problem = await expectProblem(res, 503);
    expect(problem.type).toBe('urn:altinn-platform:problem:limiter-unavailable');
    expect(res.headers.get('retry-after')).toBe('1');
  });

  /** A limiter namespace whose objects never answer (a hung object, an overloaded location). */
  const hung = {
    idFromName: (name: string) => env.SLA_LIMITER.idFromName(name),
    get: () => ({ admit: () => new Promise(() => {}) }),
  } as unknown as typeof env.SLA_LIMITER;

  async function viaHungLimiter(path: string, key: string): Promise<Response> {
    const ctx = createExecutionContext();
    const req = new Request<unknown, IncomingRequestCfProperties>(`https://edge.test${path}`, {
      headers: { 'ocp-apim-subscription-key': key },
    });
    const res = await worker.fetch(req, { ...env, SLA_LIMITER: hung, SLA_LIMITER_TIMEOUT_MS: '50' }, ctx);
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return new Response(body, res);
  }

  it('a limiter that hangs past SLA_LIMITER_TIMEOUT_MS falls to fail-open: the request goes through, logged', async () => {
    await putPlan('hang-open', { rate: [{ limit: 1, windowSeconds: 60 }] });
    const { primary } = await newConsumer('hangs-open', 'hang-open');
    const warn = vi.spyOn(console, 'warn');
    try {
      const res = await viaHungLimiter('/keyorg/app/', primary);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
      expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toContain('did not answer within 50 ms');
    } finally {
      warn.mockRestore();
    }
  });

  it('a limiter that hangs past SLA_LIMITER_TIMEOUT_MS falls to fail-closed: 503 + Retry-After', async () => {
    await putPlan('hang-closed', { rate: [{ limit: 100, windowSeconds: 60 }], failMode: 'closed' });
    const { primary } = await newConsumer('hangs-closed', 'hang-closed');
    const res = await viaHungLimiter('/keyorg/app/', primary);
    expect((await expectProblem(res, 503)).type).toBe('urn:altinn-platform:problem:limiter-unavailable');
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
