// Helpers of the SLA tests (not part of the Worker: nothing in src imports this file).
import { env, runInDurableObject, SELF } from 'cloudflare:test';
import type { CircuitBreaker } from '../src/sla/breaker';
import type { SlaLimiter } from '../src/sla/limiter';
import { admin } from './helpers';

/** Creates (or replaces) a plan and fails loudly when the edge refuses it. */
export async function putPlan(id: string, body: unknown): Promise<void> {
  const res = await admin('PUT', `/plans/${id}`, body);
  if (res.status !== 201 && res.status !== 200) throw new Error(`plan ${id}: ${res.status} ${await res.text()}`);
}

/** Creates a consumer on `plan` and answers its primary key (shown this once). */
export async function newConsumer(id: string, plan?: string): Promise<{ primary: string; secondary: string }> {
  const res = await admin('PUT', `/consumers/${id}`, plan === undefined ? {} : { plan });
  if (res.status !== 201) throw new Error(`consumer ${id}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { keys: { primary: string; secondary: string } }).keys;
}

/** Calls an app path through the edge with a subscription key (header). */
export function call(path: string, key?: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key !== undefined) headers.set('ocp-apim-subscription-key', key);
  return SELF.fetch(`https://edge.test${path}`, { ...init, headers });
}

/** Sets the clock of the limiter object `name` (e.g. `c:{consumer}#0`) to a fixed time. */
export async function setLimiterClock(name: string, now: number): Promise<void> {
  await runInDurableObject(env.SLA_LIMITER.getByName(name), (instance: SlaLimiter) => {
    instance.clock = () => now;
  });
}

/** Sets the clock of the circuit breaker of `org/app`. */
export async function setBreakerClock(upstream: string, now: number): Promise<void> {
  await runInDurableObject(env.SLA_BREAKER.getByName(upstream), (instance: CircuitBreaker) => {
    instance.clock = () => now;
  });
}

/** Slots held by the limiter `name` now. */
export function inFlight(name: string): Promise<number> {
  return env.SLA_LIMITER.getByName(name).inFlight();
}

/** Polls `probe` until it answers `want` (slots are released in waitUntil, after the response). */
export async function eventually<T>(probe: () => Promise<T>, want: T, attempts = 100): Promise<T> {
  let last = await probe();
  for (let i = 0; i < attempts && last !== want; i++) {
    await new Promise((r) => setTimeout(r, 20));
    last = await probe();
  }
  return last;
}

/** Drains a response body. */
export async function drain(res: Response): Promise<void> {
  await res.arrayBuffer();
}

/**
 * The default plan every SLA test file puts (files may share KV): it limits only the test orgs
 * named here, so other tests are not affected, and it is never deleted (another file may use it).
 */
export const TEST_DEFAULT_PLAN = {
  apps: {
    anonorg: { rate: [{ limit: 2, windowSeconds: 60 }] },
    'anonorg/keyed': { requireSubscription: true },
    tokorg: { rate: [{ limit: 1, windowSeconds: 60 }] },
    'tokorg/members': { requireSubscription: true },
  },
};
