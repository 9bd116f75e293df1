import { DurableObject } from 'cloudflare:workers';
import { SlidingLog } from './window';

/** The limits one limiter object enforces on a call (its shard's share of the plan's). */
export interface Admission {
  rate: { limit: number; windowSeconds: number }[];
  quota?: { period: 'day' | 'month'; calls?: number; bytes?: number };
  concurrency?: number;
  /** How long a concurrency slot is held at most before it expires. */
  slotTimeoutMs: number;
  /**
   * Admissions to reserve at once (default 1). The caller uses them within `holdMs` or drops
   * them; every window then keeps each admission `holdMs` longer, so that uses spread over the
   * hold still never put more than the limit in any interval of the window's length.
   */
  want?: number;
  holdMs?: number;
  /** Slots whose requests have ended, released before deciding. */
  release?: string[];
}

/** One limit's state after a decision, for the RateLimit headers. */
export interface PolicyState {
  name: string;
  limit: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
  unit?: 'content-bytes';
}

/** Why a request was refused. */
export type RejectReason = 'rate' | 'quota' | 'concurrency';

/** A limiter's answer: admitted (with a slot lease when a concurrency cap applies) or refused. */
export interface Decision {
  allowed: boolean;
  reason?: RejectReason;
  retryAfterSeconds?: number;
  policies: PolicyState[];
  /** Concurrency slot to release with `release()`. */
  lease?: string;
  /** Admissions granted (1 unless more were asked for with `want`). */
  granted?: number;
}

interface QuotaState {
  period: string;
  calls: number;
  bytes: number;
}

/** The calendar period (UTC) `now` falls in, and the epoch ms at which the next one starts. */
export function periodOf(kind: 'day' | 'month', now: number): { name: string; startsAt: number; endsAt: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (kind === 'month') {
    return {
      name: `${y}-${String(m + 1).padStart(2, '0')}`,
      startsAt: Date.UTC(y, m, 1),
      endsAt: Date.UTC(y, m + 1, 1),
    };
  }
  const day = d.getUTCDate();
  return { name: d.toISOString().slice(0, 10), startsAt: Date.UTC(y, m, day), endsAt: Date.UTC(y, m, day + 1) };
}

/** How often changed quota counts are stored. */
const QUOTA_SAVE_MS = 100;

const seconds = (ms: number): number => Math.max(Math.ceil(ms / 1000), 0);

/**
 * One limiter per key (consumer, or client IP per app; or one shard of a hot key). Rate windows,
 * the quota and the concurrency slots are checked together in one call and admitted all or
 * nothing, so a request costs one RPC; a Durable Object runs one call at a time, so no burst of
 * concurrent requests can be admitted past a limit. Rate windows and slots live in memory (an
 * object that is evicted has been idle, its windows long empty); quota counts are stored.
 */
export class SlaLimiter extends DurableObject {
  /** The clock; tests replace it (`runInDurableObject`) to move time without waiting. */
  clock: () => number = Date.now;
  private readonly logs = new Map<number, SlidingLog>();
  private readonly slots = new Map<string, number>();
  private nextLease = 0;
  private quotaState: QuotaState | undefined;
  private saveScheduled = false;

  /** Decides on one request, and when admitted counts it in every window and the quota. */
  admit(a: Admission): Decision {
    const now = this.clock();
    if (a.release !== undefined) for (const lease of a.release) this.slots.delete(lease);
    let reason: RejectReason | undefined;
    let retryMs = 0;

    const period = a.quota === undefined ? undefined : periodOf(a.quota.period, now);
    const quota = period === undefined ? undefined : this.quota(period.name);
    if (a.quota !== undefined && quota !== undefined && period !== undefined) {
      const callsOut = a.quota.calls !== undefined && quota.calls >= a.quota.calls;
      const bytesOut = a.quota.bytes !== undefined && quota.bytes >= a.quota.bytes;
      if (callsOut || bytesOut) {
        reason = 'quota';
        retryMs = period.endsAt - now;
      }
    }

    const hold = a.holdMs ?? 0;
    const logs = a.rate.map((r) => this.log(r.limit, r.windowSeconds * 1000 + hold));
    if (reason === undefined) {
      for (const log of logs) {
        if (!log.fits(now)) {
          reason = 'rate';
          retryMs = Math.max(retryMs, log.msUntilFree(now));
        }
      }
    }

    if (reason === undefined && a.concurrency !== undefined && !this.slotFree(a.concurrency, now)) {
      reason = 'concurrency';
      retryMs = 1000;
    }

    let lease: string | undefined;
    let granted = 0;
    if (reason === undefined) {
      granted = a.concurrency === undefined ? Math.max(a.want ?? 1, 1) : 1;
      // near a limit, reservations shrink (a quarter of what is left), so fewer expire unused
      for (const log of logs) granted = Math.min(granted, Math.max(Math.ceil(log.remaining(now) / 4), 1));
      if (a.quota?.calls !== undefined && quota !== undefined) granted = Math.min(granted, a.quota.calls - quota.calls);
      for (const log of logs) for (let i = 0; i < granted; i++) log.add(now);
      if (quota !== undefined) {
        quota.calls += granted;
        this.saveQuotaSoon();
      }
      if (a.concurrency !== undefined) {
        lease = String(++this.nextLease);
        this.slots.set(lease, now + a.slotTimeoutMs);
      }
    }

    const policies: PolicyState[] = logs.map((log, i) => ({
      name: `rate-${a.rate[i]?.windowSeconds}s`,
      limit: log.limit,
      windowSeconds: a.rate[i]?.windowSeconds ?? 0,
      remaining: log.remaining(now),
      resetSeconds: seconds(log.remaining(now) > 0 ? log.msUntilEmpty(now) : log.msUntilFree(now)),
    }));
    if (a.quota !== undefined && quota !== undefined && period !== undefined) {
      const windowSeconds = seconds(period.endsAt - period.startsAt);
      const resetSeconds = seconds(period.endsAt - now);
      if (a.quota.calls !== undefined) {
        const remaining = Math.max(a.quota.calls - quota.calls, 0);
        policies.push({
          name: `quota-${a.quota.period}`,
          limit: a.quota.calls,
          windowSeconds,
          remaining,
          resetSeconds,
        });
      }
      if (a.quota.bytes !== undefined) {
        const remaining = Math.max(a.quota.bytes - quota.bytes, 0);
        const name = `bytes-${a.quota.period}`;
        policies.push({ name, limit: a.quota.bytes, windowSeconds, remaining, resetSeconds, unit: 'content-bytes' });
      }
    }

    if (reason !== undefined) {
      return { allowed: false, reason, retryAfterSeconds: Math.max(seconds(retryMs), 1), policies };
    }
    return lease === undefined ? { allowed: true, policies, granted } : { allowed: true, policies, granted, lease };
  }

  /** Frees a concurrency slot (the response has ended or the client left) and counts the bytes. */
  release(lease: string | null, bytes: number, quotaPeriod?: 'day' | 'month'): void {
    if (lease !== null) this.slots.delete(lease);
    if (bytes > 0 && quotaPeriod !== undefined) {
      const quota = this.quota(periodOf(quotaPeriod, this.clock()).name);
      quota.bytes += bytes;
      this.saveQuotaSoon();
    }
  }

  /** Frees the slots of requests that have ended. */
  releaseSlots(leases: string[]): void {
    for (const lease of leases) this.slots.delete(lease);
  }

  /** Calls and bytes counted in the quota period `now` falls in. */
  quotaUsed(period: 'day' | 'month'): { calls: number; bytes: number } {
    const { calls, bytes } = this.quota(periodOf(period, this.clock()).name);
    return { calls, bytes };
  }

  /** Slots held now (tests and metrics). */
  inFlight(): number {
    this.expireSlots(this.clock());
    return this.slots.size;
  }

  private slotFree(cap: number, now: number): boolean {
    if (this.slots.size < cap) return true;
    this.expireSlots(now);
    return this.slots.size < cap;
  }

  private expireSlots(now: number): void {
    for (const [lease, expires] of this.slots) if (expires <= now) this.slots.delete(lease);
  }

  private log(limit: number, windowMs: number): SlidingLog {
    let log = this.logs.get(windowMs);
    if (log === undefined || log.limit !== limit) {
      const fresh = new SlidingLog(limit, windowMs);
      if (log !== undefined) fresh.adopt(log, this.clock());
      this.logs.set(windowMs, fresh);
      log = fresh;
    }
    return log;
  }

  /**
   * Stores the quota counts at most every QUOTA_SAVE_MS, not on every call: a write per call
   * holds each answer until it is durable (measured: the single largest cost of a quota). Only a
   * crash of the object can lose the counts of that last interval.
   */
  private saveQuotaSoon(): void {
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    setTimeout(() => {
      this.saveScheduled = false;
      if (this.quotaState !== undefined) this.ctx.storage.kv.put('quota', this.quotaState);
    }, QUOTA_SAVE_MS);
  }

  private quota(period: string): QuotaState {
    this.quotaState ??= this.ctx.storage.kv.get<QuotaState>('quota') ?? { period, calls: 0, bytes: 0 };
    if (this.quotaState.period !== period) this.quotaState = { period, calls: 0, bytes: 0 };
    return this.quotaState;
  }
}
