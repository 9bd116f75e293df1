import { type Env, intSetting } from '../env';
import { edgeLog } from '../log';
import { Problem, type ProblemKind } from '../problem';
import { type Caller, KEY_CHALLENGE } from './caller';
import { checkCircuit, clusterCircuit } from './circuit';
import { scalePolicies, setRateLimitHeaders } from './headers';
import type { Admission, Decision } from './limiter';
import { metricsRecorder, type Rejection } from './metrics';
import { DEFAULT_SLOT_TIMEOUT_S, effectiveLimits, limitsAnything, shardAdmission, wholeLimits } from './policy';
import { endedSlots, keepReserved, limiterStub, RESERVATION_HOLD_MS, takeReserved, withTimeout } from './reservations';
import type { Limits, Plan } from './schema';
import { policyCache } from './store';

/** How long a limiter may take to decide before it counts as unreachable (then the plan's fail mode applies). */
const DEFAULT_LIMITER_TIMEOUT_MS = 1_000;

/** What the limiter granted a request: kept for the response's rate-limit headers and the slot's release. */
export interface Grant {
  /** The limiter's decision; undefined when none was asked or it could not be reached. */
  decision: Decision | undefined;
  /** Shards of the caller's key, and the whole key's limit of each policy (for the headers). */
  shards: number;
  whole: Map<string, number>;
  /** The limiter (with shard) to release the slot and count bytes to; undefined when there is none. */
  limiterName: string | undefined;
  /** The quota period bytes are counted in; undefined when the quota counts no bytes. */
  quotaPeriod: 'day' | 'month' | undefined;
}

/** The request admitted (with what the limiter granted), or the problem that refuses it (counted in metrics). */
export type Admitted = { ok: true; grant: Grant } | { ok: false; problem: Problem };

/** The grant of a request no limiter was asked about. */
function noGrant(): Grant {
  return { decision: undefined, shards: 1, whole: new Map(), limiterName: undefined, quotaPeriod: undefined };
}

function refuse(
  status: number,
  kind: ProblemKind,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Problem {
  return new Problem({ status, kind, title, detail, headers });
}

/** The app's circuit, then its org cluster's: each opens on its own failures. Null when both let the request pass. */
export async function circuitProblem(env: Env, org: string, app: string, label: string): Promise<Problem | null> {
  const upstreams: [upstream: string, what: string][] = [
    [`${org}/${app}`, `${org}/${app} is failing`],
    [clusterCircuit(org), `the cluster of ${org} is failing`],
  ];
  for (const [upstream, what] of upstreams) {
    const circuit = await checkCircuit(env, upstream);
    if (circuit !== null && !circuit.allowed) {
      metricsRecorder.rejected(org, app, label, 'circuit');
      return refuse(503, 'circuit-open', 'Service unavailable', `${what}; the edge is holding requests back.`, {
        'retry-after': String(circuit.retryAfterSeconds ?? 1),
      });
    }
  }
  return null;
}

/** The caller's plan, else the default plan; null when neither exists. */
async function planOf(env: Env, caller: Caller, ttl: number): Promise<Plan | null> {
  const wanted = caller.consumer?.plan;
  const plan = wanted === undefined ? null : await policyCache.plan(env.ROUTES, wanted, ttl);
  return plan ?? policyCache.plan(env.ROUTES, env.SLA_DEFAULT_PLAN ?? 'default', ttl);
}

/** What one limiter call needs: which limiter, what it enforces, and how many admissions to reserve. */
interface LimiterCall {
  limiter: NonNullable<Env['SLA_LIMITER']>;
  name: string;
  admission: Admission;
  batch: number;
  timeoutMs: number;
}

/** A decision of the limiter, or the error that kept it from deciding. */
type Asked = { ok: true; decision: Decision } | { ok: false; error: unknown };

/**
 * Asks the limiter: a reserved admission of this isolate when batching, else one call that also
 * releases the slots ended since the last (kept for the next call when this one fails).
 */
async function askLimiter(call: LimiterCall): Promise<Asked> {
  const { name, admission, batch } = call;
  if (batch > 1) {
    const reserved = takeReserved(name, Date.now());
    if (reserved !== undefined) return { ok: true, decision: reserved };
    admission.want = batch;
    admission.holdMs = RESERVATION_HOLD_MS;
  }
  const ended = endedSlots.get(name);
  if (ended !== undefined) {
    endedSlots.delete(name);
    admission.release = ended;
  }
  const sent = Date.now();
  let decision: Decision;
  try {
    decision = await withTimeout(limiterStub(call.limiter, name).admit(admission), call.timeoutMs);
  } catch (error) {
    // The slots that rode along were not released: keep them for the next call (release is idempotent).
    if (ended !== undefined) endedSlots.set(name, [...(endedSlots.get(name) ?? []), ...ended]);
    return { ok: false, error };
  }
  return { ok: true, decision: batch > 1 ? keepReserved(name, decision, sent) : decision };
}

/** The problem of a limiter's refusal, with its rate-limit headers scaled to the whole key. */
function rejection(decision: Decision, shards: number, whole: Map<string, number>): Problem {
  const reason = decision.reason ?? 'rate';
  const headers: Record<string, string> = { 'retry-after': String(decision.retryAfterSeconds ?? 1) };
  const h = new Headers();
  setRateLimitHeaders(h, scalePolicies(decision.policies, shards, whole));
  for (const [k, v] of h) headers[k] = v;
  if (reason === 'quota') {
    return refuse(
      403,
      'quota-exceeded',
      'Quota exceeded',
      'The call or bandwidth quota of this period is used up.',
      headers,
    );
  }
  if (reason === 'concurrency') {
    return refuse(
      429,
      'concurrency-limited',
      'Too many concurrent requests',
      'Too many requests of this caller are in flight.',
      headers,
    );
  }
  return refuse(
    429,
    'rate-limited',
    'Too many requests',
    'The rate limit is exceeded; retry after the given seconds.',
    headers,
  );
}

/** Where the request is and who makes it, for admission. */
export interface AdmissionRequest {
  request: Request;
  env: Env;
  org: string;
  app: string;
  caller: Caller;
  requestId: string;
  ttl: number;
}

/** The limiter name of the caller's key on shard `shard`: per consumer or token (per app when overridden), else per client IP. */
function limiterNameOf(r: AdmissionRequest, overridden: boolean, shard: number): string {
  const { org, app, caller } = r;
  const key =
    caller.limiterKey === undefined
      ? `ip:${org}/${app}:${r.request.headers.get('cf-connecting-ip') ?? 'unknown'}`
      : `${caller.limiterKey}${overridden ? `@${org}/${app}` : ''}`;
  return `${key}#${shard}`;
}

/** Asks the caller's limiter (one random shard of its key) about `limits`; applies the plan's fail mode when it cannot. */
async function admitByLimiter(
  r: AdmissionRequest,
  limiter: NonNullable<Env['SLA_LIMITER']>,
  plan: Plan,
  limits: Limits,
  overridden: boolean,
): Promise<Admitted> {
  const { org, app, caller } = r;
  const shards = plan.shards ?? 1;
  const shard = shards === 1 ? 0 : Math.floor(Math.random() * shards);
  const name = limiterNameOf(r, overridden, shard);
  const quotaPeriod = limits.quota?.bytes === undefined ? undefined : limits.quota.period;
  const whole = wholeLimits(limits);
  const slotTimeoutMs = (plan.slotTimeoutSeconds ?? DEFAULT_SLOT_TIMEOUT_S) * 1000;
  const asked = await askLimiter({
    limiter,
    name,
    admission: shardAdmission(limits, shards, shard, slotTimeoutMs),
    batch: limits.concurrency === undefined ? (plan.batch ?? 1) : 1,
    timeoutMs: intSetting(r.env.SLA_LIMITER_TIMEOUT_MS, DEFAULT_LIMITER_TIMEOUT_MS),
  });
  if (!asked.ok) {
    const failMode = plan.failMode ?? 'open';
    const error = asked.error instanceof Error ? asked.error.message : String(asked.error);
    edgeLog.warn('limiter unreachable', { requestId: r.requestId, org, app, plan: plan.id, failMode, error });
    if (failMode === 'closed') {
      metricsRecorder.rejected(org, app, caller.label, 'limiter');
      const detail = 'The rate limiter cannot be reached; try again shortly.';
      const problem = refuse(503, 'limiter-unavailable', 'Service unavailable', detail, { 'retry-after': '1' });
      return { ok: false, problem };
    }
    return { ok: true, grant: { decision: undefined, shards, whole, limiterName: undefined, quotaPeriod } };
  }
  const decision = asked.decision;
  if (!decision.allowed) {
    metricsRecorder.rejected(org, app, caller.label, (decision.reason ?? 'rate') as Rejection);
    return { ok: false, problem: rejection(decision, shards, whole) };
  }
  return { ok: true, grant: { decision, shards, whole, limiterName: name, quotaPeriod } };
}

/**
 * Admits a request to its caller's plan (else the default plan): refuses an anonymous caller
 * where the plan requires a subscription, then asks the caller's limiter once for rate, quota and
 * a concurrency slot together. Refusals come back as problems, never thrown.
 */
export async function admit(r: AdmissionRequest): Promise<Admitted> {
  const limiter = r.env.SLA_LIMITER;
  const plan = await planOf(r.env, r.caller, r.ttl);
  if (plan === null || limiter === undefined) return { ok: true, grant: noGrant() };
  const { limits, overridden } = effectiveLimits(plan, r.org, r.app);
  if (r.caller.consumer === null && limits.requireSubscription) {
    metricsRecorder.rejected(r.org, r.app, r.caller.label, 'auth');
    const detail = `${r.org}/${r.app} needs a subscription key: send it in Ocp-Apim-Subscription-Key.`;
    return { ok: false, problem: refuse(401, 'subscription-required', 'Access denied', detail, { ...KEY_CHALLENGE }) };
  }
  if (!limitsAnything(limits)) return { ok: true, grant: noGrant() };
  return admitByLimiter(r, limiter, plan, limits, overridden);
}
