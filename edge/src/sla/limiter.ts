import { DurableObject } from 'cloudflare:workers';
import { StoredSlots, StoredWindow } from './stored';

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

/**
 * One limit's state after a decision, for the RateLimit headers. A concurrency cap has no window
 * and no reset (`windowSeconds` and `resetSeconds` 0: left out of the fields); its unit is the
 * draft's `concurrent-requests`.
 */
export interface PolicyState {
  name: string;
  limit: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
  unit?: 'content-bytes' | 'concurrent-requests';
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

/** When the period named `name` (`YYYY-MM-DD` or `YYYY-MM`, from periodOf) ends. */
function periodEnd(name: string): number {
  const [y = 0, m = 1, d] = name.split('-').map(Number);
  return d === undefined ? Date.UTC(y, m, 1) : Date.UTC(y, m - 1, d + 1);
}

/** How often changed quota counts are stored. */
const QUOTA_SAVE_MS = 100;

const seconds = (ms: number): number => Math.max(Math.ceil(ms / 1000), 0);

/**
 * One limiter per key (consumer, or client IP per app; or one shard of a hot key). Rate windows,
 * the quota and the concurrency slots are checked together in one call and admitted all or
 * nothing, so a request costs one RPC; a Durable Object runs one call at a time, so no burst of
 * concurrent requests can be admitted past a limit. Windows can be an hour long and an object is
 * evicted after a minute or two idle (and restarted by every deploy), so everything it admits is
 * stored in the same event (stored.ts): a new instance continues the windows and slots exactly.
 * Stored state is swept by an alarm once it has expired.
 */
export class SlaLimiter extends DurableObject {
  /** The clock; tests replace it (`runInDurableObject`) to move time without waiting. */
  clock: () => number = Date.now;
  private readonly windows = new Map<number, StoredWindow>();
  private slotStore: StoredSlots | undefined;
  private quotaState: QuotaState | undefined;
  private saveScheduled = false;
  /** Real time (Date.now) of the sweep alarm this instance has set. */
  private sweepAt = 0;

  private get slots(): StoredSlots {
    this.slotStore ??= new StoredSlots(this.ctx.storage.kv);
    return this.slotStore;
  }

  /** Decides on one request, and when admitted counts it in every window and the quota. */
  admit(a: Admission): Decision {
    const now = this.clock();
    if (a.release !== undefined) for (const lease of a.release) this.slots.release(lease);
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
    const windows = a.rate.map((r) => this.window(r.limit, r.windowSeconds * 1000 + hold, now));
    const logs = windows.map((w) => w.log);
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
      // stored in this event: the answer leaves only once these writes are durable (output gate)
      for (const w of windows) w.add(now, granted);
      if (a.concurrency !== undefined) lease = this.slots.take(now + a.slotTimeoutMs);
      if (quota !== undefined) {
        quota.calls += granted;
        // an event that writes anyway stores the quota with it (one commit); a quota alone is written behind
        if (windows.length > 0 || lease !== undefined) this.ctx.storage.kv.put('quota', quota);
        else this.saveQuotaSoon();
      }
      let keep = a.concurrency === undefined ? 0 : a.slotTimeoutMs;
      for (const w of windows) keep = Math.max(keep, w.windowMs);
      if (period !== undefined) keep = Math.max(keep, period.endsAt - now);
      if (keep > 0) this.sweepWithin(keep);
    }

    const policies = this.policies(a, logs, now, quota, period);

    if (reason !== undefined) {
      return { allowed: false, reason, retryAfterSeconds: Math.max(seconds(retryMs), 1), policies };
    }
    return lease === undefined ? { allowed: true, policies, granted } : { allowed: true, policies, granted, lease };
  }

  /** The state of every policy of `a` after the decision: rate windows, quota calls and bytes, concurrency. */
  private policies(
    a: Admission,
    logs: StoredWindow['log'][],
    now: number,
    quota: QuotaState | undefined,
    period: ReturnType<typeof periodOf> | undefined,
  ): PolicyState[] {
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

    if (a.concurrency !== undefined) {
      const remaining = Math.max(a.concurrency - this.slots.size, 0);
      policies.push({
        name: 'concurrency',
        limit: a.concurrency,
        windowSeconds: 0,
        remaining,
        resetSeconds: 0,
        unit: 'concurrent-requests',
      });
    }
    return policies;
  }

  /** Frees a concurrency slot (the response has ended or the client left) and counts the bytes. */
  release(lease: string | null, bytes: number, quotaPeriod?: 'day' | 'month'): void {
    if (lease !== null) this.slots.release(lease);
    if (bytes > 0 && quotaPeriod !== undefined) {
      const quota = this.quota(periodOf(quotaPeriod, this.clock()).name);
      quota.bytes += bytes;
      this.saveQuotaSoon();
    }
  }

  /** Frees the slots of requests that have ended. */
  releaseSlots(leases: string[]): void {
    for (const lease of leases) this.slots.release(lease);
  }

  /** Calls and bytes counted in the quota period `now` falls in. */
  quotaUsed(period: 'day' | 'month'): { calls: number; bytes: number } {
    const { calls, bytes } = this.quota(periodOf(period, this.clock()).name);
    return { calls, bytes };
  }

  /** Slots held now (tests and metrics). */
  inFlight(): number {
    this.slots.expire(this.clock());
    return this.slots.size;
  }

  /**
   * Deletes what has expired from storage: rate buckets that have left their window, slots whose
   * time is up, the quota of a past period; sets the alarm again while something is left.
   */
  override async alarm(): Promise<void> {
    const now = this.clock();
    const kv = this.ctx.storage.kv;
    this.slots.expire(now);
    let until = this.slots.emptyAt();
    const gone: string[] = [];
    for (const [key] of kv.list({ prefix: 'rate/' })) {
      const [, windowMs, end] = key.split('/');
      const leaves = Number(end) + Number(windowMs);
      if (leaves <= now) gone.push(key);
      else until = Math.max(until, leaves);
    }
    for (const key of gone) kv.delete(key);
    for (const w of this.windows.values()) w.prune(now);
    const quota = this.quotaState ?? kv.get<QuotaState>('quota');
    if (quota !== undefined) {
      const ends = periodEnd(quota.period);
      if (ends > now) until = Math.max(until, ends);
      else if (!this.saveScheduled) {
        kv.delete('quota');
        this.quotaState = undefined;
      }
    }
    this.sweepAt = 0;
    if (until > now) this.sweepWithin(until - now);
  }

  private slotFree(cap: number, now: number): boolean {
    if (this.slots.size < cap) return true;
    this.slots.expire(now);
    return this.slots.size < cap;
  }

  /** Makes sure the sweep alarm goes after `ms` from now; sets it at most about once per `ms`. */
  private sweepWithin(ms: number): void {
    const due = Date.now() + ms;
    if (this.sweepAt >= due) return;
    this.sweepAt = due + Math.min(ms, 3_600_000);
    void this.ctx.storage.setAlarm(this.sweepAt);
  }

  private window(limit: number, windowMs: number, now: number): StoredWindow {
    let w = this.windows.get(windowMs);
    if (w === undefined || w.log.limit !== limit) {
      w = new StoredWindow(this.ctx.storage.kv, limit, windowMs, now, w);
      this.windows.set(windowMs, w);
    }
    return w;
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
