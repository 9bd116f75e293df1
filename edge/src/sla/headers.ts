import type { PolicyState } from './limiter';

/**
 * Sets the rate-limit fields on a response: the IETF draft's (-11) `RateLimit-Policy` (each
 * policy: quota `q`, window `w`, unit `qu` when not requests) and `RateLimit` (remaining `r`,
 * seconds to reset `t`), plus the older `RateLimit-Limit` / `-Remaining` / `-Reset` (Kong, and
 * draft -03) of the most restrictive policy counting requests: the one with the fewest left. A
 * concurrency cap is a policy of the draft's unit `concurrent-requests`, without `w` or `t` (it
 * has no window, and a slot frees when a request ends, not at a known time).
 */
export function setRateLimitHeaders(headers: Headers, policies: PolicyState[]): void {
  if (policies.length === 0) return;
  const policy: string[] = [];
  const current: string[] = [];
  let tightest: PolicyState | undefined;
  for (const p of policies) {
    const window = p.windowSeconds > 0 ? `;w=${p.windowSeconds}` : '';
    policy.push(`"${p.name}";q=${p.limit}${window}${p.unit ? `;qu="${p.unit}"` : ''}`);
    current.push(`"${p.name}";r=${p.remaining}${p.windowSeconds > 0 ? `;t=${p.resetSeconds}` : ''}`);
    if (p.unit === undefined && (tightest === undefined || p.remaining < tightest.remaining)) tightest = p;
  }
  headers.set('ratelimit-policy', policy.join(', '));
  headers.set('ratelimit', current.join(', '));
  if (tightest !== undefined) {
    headers.set('ratelimit-limit', String(tightest.limit));
    headers.set('ratelimit-remaining', String(tightest.remaining));
    headers.set('ratelimit-reset', String(tightest.resetSeconds));
  }
}

/** Scales one shard's policy states up to the whole key's (each shard holds 1/n of every limit). */
export function scalePolicies(policies: PolicyState[], shards: number, whole: Map<string, number>): PolicyState[] {
  if (shards === 1) return policies;
  return policies.map((p) => {
    const limit = whole.get(p.name) ?? p.limit * shards;
    return { ...p, limit, remaining: Math.min(p.remaining * shards, limit) };
  });
}
