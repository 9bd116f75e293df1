import type { Principal } from '../../../platform/src/auth/index.js';
import type { Database, Queryable } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';

/** How many failed lookups a caller may make in a sliding window before further lookups are refused. */
export interface LockoutPolicy {
  /** Failures allowed in one window; the next lookup is refused with 429. */
  limit: number;
  /** Length of the sliding window, in milliseconds. */
  windowMs: number;
}

/** Ten failures per caller per hour, then 429 until the oldest of them is an hour old. */
export const DEFAULT_PERSON_LOOKUP_LOCKOUT: LockoutPolicy = { limit: 10, windowMs: 60 * 60_000 };

/** The key failures are counted under: one per user, one per org. */
export function callerKeyOf(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.userId}` : `org:${principal.org}`;
}

/** A lookup the lockout guards: answers what it found, or undefined (a failure, counted). */
export type GuardedLookup<T> = (tx: Queryable) => Promise<T | undefined>;

/**
 * Runs `lookup` for `caller` unless the caller has used up its failures in the window, recording a failure when
 * the lookup finds nothing. Failures are rows of `person_lookup_failures`, so every functions instance counts the
 * same ones; on PostgreSQL a per-caller advisory lock makes concurrent lookups of one caller count one at a time.
 * Throws 429 with `Retry-After` (seconds until the oldest counted failure leaves the window) when locked out.
 */
export async function lookupWithLockout<T>(
  db: Database,
  options: { caller: string; policy: LockoutPolicy; now: Date },
  lookup: GuardedLookup<T>,
): Promise<T | undefined> {
  const { caller, policy, now } = options;
  const windowStart = new Date(now.getTime() - policy.windowMs);
  const outcome = await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [caller]);
    await tx.query('DELETE FROM person_lookup_failures WHERE caller = $1 AND failed_at <= $2', [caller, windowStart]);
    const failures = await tx.query<{ failed_at: Date | string }>(
      'SELECT failed_at FROM person_lookup_failures WHERE caller = $1 ORDER BY failed_at',
      [caller],
    );
    if (failures.length >= policy.limit) {
      // Unlocked when enough of the oldest failures have left the window to bring the count below the limit.
      const freeing = failures[failures.length - policy.limit];
      const until = new Date(freeing?.failed_at ?? now).getTime() + policy.windowMs;
      return { locked: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) } as const;
    }
    const found = await lookup(tx);
    if (found === undefined) {
      await tx.query('INSERT INTO person_lookup_failures (caller, failed_at) VALUES ($1, $2)', [caller, now]);
    }
    return { found } as const;
  });
  if ('locked' in outcome) {
    throw new Problem(429, {
      kind: 'too-many-requests',
      detail: `Too many failed person lookups: at most ${policy.limit} per ${policy.windowMs / 60_000} minutes. Try again in ${outcome.locked} seconds.`,
      headers: { 'Retry-After': String(outcome.locked) },
    });
  }
  return outcome.found;
}
