import type { Env } from '../env';
import { edgeLog } from '../log';
import type { Decision, PolicyState } from './limiter';

// What an isolate keeps between requests about its limiters: plain data only (ids, counts,
// lease ids), never a stub or a promise, which workerd ties to the request that made them.

/**
 * Ids of limiter objects by name, kept in the isolate (an id is a value, not I/O: the stub made
 * from it is new for every request). Saves hashing the name on every request.
 */
const limiterIds = new Map<string, DurableObjectId>();

/** A stub of the limiter `name`, new for this request. */
export function limiterStub(ns: NonNullable<Env['SLA_LIMITER']>, name: string) {
  let id = limiterIds.get(name);
  if (id === undefined) {
    if (limiterIds.size >= 10_000) limiterIds.clear();
    id = ns.idFromName(name);
    limiterIds.set(name, id);
  }
  return ns.get(id);
}

/** How long reserved admissions may be used (and how much longer the limiter's windows hold them). */
export const RESERVATION_HOLD_MS = 100;

/** Admissions this isolate has reserved from a limiter and not used yet (plain data), or its last refusal. */
const reserved = new Map<string, { left: number; until: number; policies: PolicyState[]; denied?: Decision }>();

/** Policies as the caller sees them with `left` reserved admissions still unused. */
function withUnused(policies: PolicyState[], left: number): PolicyState[] {
  if (left === 0) return policies;
  return policies.map((p) => (p.unit === undefined ? { ...p, remaining: p.remaining + left } : p));
}

/** Takes one reserved admission (or repeats a recent refusal) without asking the limiter. */
export function takeReserved(name: string, now: number): Decision | undefined {
  const r = reserved.get(name);
  if (r === undefined) return undefined;
  if (now >= r.until || (r.denied === undefined && r.left === 0)) {
    reserved.delete(name);
    return undefined;
  }
  if (r.denied !== undefined) return r.denied;
  r.left -= 1;
  return { allowed: true, policies: withUnused(r.policies, r.left) };
}

/**
 * Keeps what a reservation granted beyond this request (usable until `sent` + the hold). A
 * refusal first looks for admissions another request of this isolate reserved meanwhile (so a
 * burst uses every one), and is otherwise remembered for the hold, so refused callers do not
 * each ask the limiter again.
 */
export function keepReserved(name: string, decision: Decision, sent: number): Decision {
  const now = Date.now();
  const r = reserved.get(name);
  const usable = r !== undefined && r.denied === undefined && r.left > 0 && now < r.until ? r : undefined;
  if (!decision.allowed) {
    if (usable !== undefined) {
      usable.left -= 1;
      return { allowed: true, policies: withUnused(usable.policies, usable.left) };
    }
    const ms = Math.min((decision.retryAfterSeconds ?? 1) * 1000, RESERVATION_HOLD_MS);
    reserved.set(name, { left: 0, until: sent + ms, policies: decision.policies, denied: decision });
    return decision;
  }
  let left = (decision.granted ?? 1) - 1;
  if (left > 0 || usable !== undefined) {
    if (reserved.size >= 10_000) reserved.clear();
    left += usable?.left ?? 0;
    const until = Math.min(sent + RESERVATION_HOLD_MS, usable?.until ?? Number.POSITIVE_INFINITY);
    reserved.set(name, { left, until, policies: decision.policies });
  }
  return { ...decision, policies: withUnused(decision.policies, left) };
}

/** How long an ended request's slot may wait to ride along with the next admission of its limiter. */
const RELEASE_DELAY_MS = 20;

/** Slots of requests that have ended, per limiter, not yet released (plain data). */
export const endedSlots = new Map<string, string[]>();

/**
 * Releases a slot: the next admission of the same limiter from this isolate carries it (no RPC of
 * its own), or, if none comes within RELEASE_DELAY_MS, one RPC releases every ended slot. The slot
 * is freed at most that much later than the response ended: never early, so the cap still holds.
 */
export async function releaseSoon(
  limiter: NonNullable<Env['SLA_LIMITER']>,
  name: string,
  lease: string,
): Promise<void> {
  const list = endedSlots.get(name);
  if (list === undefined) endedSlots.set(name, [lease]);
  else list.push(lease);
  await new Promise((resolve) => setTimeout(resolve, RELEASE_DELAY_MS));
  const still = endedSlots.get(name);
  if (still === undefined || !still.includes(lease)) return;
  endedSlots.delete(name);
  try {
    await limiterStub(limiter, name).releaseSlots(still);
  } catch (err) {
    edgeLog.warn('slot release failed', { slots: still.length, error: String(err) });
  }
}

/** `work`, or a rejection after `ms`: a hung limiter object must not hang the request. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`limiter did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
