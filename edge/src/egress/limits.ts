import { type Env, intSetting } from '../env';
import { edgeLog } from '../log';
import { setRateLimitHeaders } from '../sla/headers';
import type { Admission, Decision } from '../sla/limiter';
import { DEFAULT_SLOT_TIMEOUT_S } from '../sla/policy';
import { endedSlots, limiterStub, releaseSoon, withTimeout } from '../sla/reservations';
import { EgressRefusal } from './refusal';
import type { TargetRule } from './rules';

/**
 * Per-target limits (a target's `rate` windows and `concurrency` cap), enforced by the SLA
 * machinery: one `SlaLimiter` Durable Object per `egress:{org}/{target}`, asked once per call for
 * every window and a slot together; the slot is released when the response body has been sent
 * (riding along with the next admission of the same target, as the SLA's slots do).
 */

/** The SLA limiter namespace. */
export type LimiterNamespace = NonNullable<Env['SLA_LIMITER']>;

/** What the call path needs to enforce limits: the limiter, background work, and how long to wait. */
export interface LimitContext {
  limiter: LimiterNamespace | undefined;
  waitUntil(promise: Promise<unknown>): void;
  timeoutMs: number;
}

/** A slot held by a call, released once its response has ended. */
export interface HeldSlot {
  name: string;
  lease: string;
}

const DEFAULT_LIMITER_TIMEOUT_MS = 1_000;

/** The limit context of a request: `SLA_LIMITER` and `SLA_LIMITER_TIMEOUT_MS`. */
export function limitContext(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): LimitContext {
  return {
    limiter: env.SLA_LIMITER,
    waitUntil: (promise) => ctx.waitUntil(promise),
    timeoutMs: intSetting(env.SLA_LIMITER_TIMEOUT_MS, DEFAULT_LIMITER_TIMEOUT_MS),
  };
}

/** The limiter's name for a target of an org. */
export function limiterName(org: string, target: string): string {
  return `egress:${org}/${target}`;
}

/** Whether a target sets any limit. */
export function limited(rule: TargetRule): boolean {
  return (rule.rate?.length ?? 0) > 0 || rule.concurrency !== undefined;
}

function refusal(decision: Decision, org: string, target: string): EgressRefusal {
  const headers = new Headers({ 'retry-after': String(decision.retryAfterSeconds ?? 1) });
  setRateLimitHeaders(headers, decision.policies);
  const fields = Object.fromEntries(headers);
  if (decision.reason === 'concurrency') {
    return new EgressRefusal(
      429,
      'concurrency-limited',
      'Too many concurrent calls',
      `Target ${target} of ${org} has as many calls in flight as it allows.`,
      fields,
    );
  }
  return new EgressRefusal(
    429,
    'rate-limited',
    'Too many calls',
    `Target ${target} of ${org} allows no more calls now; retry after the given seconds.`,
    fields,
  );
}

/**
 * Admits one call to `rule` of `org`, or throws a 429 refusal (`rate-limited`, `concurrency-limited`)
 * with Retry-After and the RateLimit fields. Answers the slot to release when the call ends, if a
 * concurrency cap applies. A limiter that cannot be reached admits the call (fail open, logged), as
 * the SLA's default plans do: the target's own limits still apply.
 */
export async function admitCall(
  limits: LimitContext,
  org: string,
  rule: TargetRule,
  requestId: string,
): Promise<HeldSlot | null> {
  if (!limited(rule) || limits.limiter === undefined) return null;
  const name = limiterName(org, rule.name);
  const admission: Admission = {
    rate: rule.rate ?? [],
    slotTimeoutMs: DEFAULT_SLOT_TIMEOUT_S * 1000,
    ...(rule.concurrency === undefined ? {} : { concurrency: rule.concurrency }),
  };
  const ended = endedSlots.get(name);
  if (ended !== undefined) {
    endedSlots.delete(name);
    admission.release = ended;
  }
  let decision: Decision;
  try {
    decision = await withTimeout(limiterStub(limits.limiter, name).admit(admission), limits.timeoutMs);
  } catch (err) {
    // The slots that rode along were not released: keep them for the next call (release is idempotent).
    if (ended !== undefined) endedSlots.set(name, [...(endedSlots.get(name) ?? []), ...ended]);
    edgeLog.warn('egress limiter unreachable, call admitted', {
      requestId,
      org,
      target: rule.name,
      error: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
  if (!decision.allowed) throw refusal(decision, org, rule.name);
  return decision.lease === undefined ? null : { name, lease: decision.lease };
}

/** Releases the slots a call held (once its response has ended, or it failed). */
export function releaseSlots(limits: LimitContext, slots: readonly HeldSlot[]): void {
  const limiter = limits.limiter;
  if (limiter === undefined) return;
  for (const slot of slots) limits.waitUntil(releaseSoon(limiter, slot.name, slot.lease));
}
