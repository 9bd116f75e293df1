import type { Admission } from './limiter';
import type { Limits, Plan } from './schema';

/** Default for how long a concurrency slot is held at most (a crashed request frees it after this). */
export const DEFAULT_SLOT_TIMEOUT_S = 300;

/** The limits a plan sets for one app: its `org/app` override, else its `org` override, over the plan's own. */
export function effectiveLimits(plan: Plan, org: string, app: string): { limits: Limits; overridden: boolean } {
  const override = plan.apps?.[`${org}/${app}`] ?? plan.apps?.[org];
  const base: Limits = {
    rate: plan.rate,
    quota: plan.quota,
    concurrency: plan.concurrency,
    requireSubscription: plan.requireSubscription,
  };
  if (override === undefined) return { limits: base, overridden: false };
  return {
    limits: {
      rate: override.rate ?? base.rate,
      quota: override.quota ?? base.quota,
      concurrency: override.concurrency ?? base.concurrency,
      requireSubscription: override.requireSubscription ?? base.requireSubscription,
    },
    overridden: true,
  };
}

/** Whether the limits need a limiter at all. */
export function limitsAnything(limits: Limits): boolean {
  return (limits.rate?.length ?? 0) > 0 || limits.quota !== undefined || limits.concurrency !== undefined;
}

/** Shard `i`'s share of `total` out of `n`: the remainder goes to the first shards, so the shares sum to `total`. */
export function share(total: number, n: number, i: number): number {
  return Math.floor(total / n) + (i < total % n ? 1 : 0);
}

/** What shard `shard` of `shards` enforces: its share of every limit. */
export function shardAdmission(limits: Limits, shards: number, shard: number, slotTimeoutMs: number): Admission {
  const a: Admission = {
    rate: (limits.rate ?? []).map((r) => ({ limit: share(r.limit, shards, shard), windowSeconds: r.windowSeconds })),
    slotTimeoutMs,
  };
  if (limits.quota !== undefined) {
    const { period, calls, bytes } = limits.quota;
    a.quota = {
      period,
      ...(calls === undefined ? {} : { calls: share(calls, shards, shard) }),
      ...(bytes === undefined ? {} : { bytes: share(bytes, shards, shard) }),
    };
  }
  if (limits.concurrency !== undefined) a.concurrency = share(limits.concurrency, shards, shard);
  return a;
}

/** The whole key's limit of each policy name, for the headers of a sharded key. */
export function wholeLimits(limits: Limits): Map<string, number> {
  const whole = new Map<string, number>();
  for (const r of limits.rate ?? []) whole.set(`rate-${r.windowSeconds}s`, r.limit);
  if (limits.quota?.calls !== undefined) whole.set(`quota-${limits.quota.period}`, limits.quota.calls);
  if (limits.quota?.bytes !== undefined) whole.set(`bytes-${limits.quota.period}`, limits.quota.bytes);
  if (limits.concurrency !== undefined) whole.set('concurrency', limits.concurrency);
  return whole;
}
