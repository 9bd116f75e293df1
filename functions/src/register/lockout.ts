import type { Principal } from '../../../platform/src/auth/index.js';
import type { Database, Queryable } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';

/** How many counted lookups a caller may make in a sliding window before further lookups are refused. */
export interface LockoutPolicy {
  /** Lookups allowed in one window; the next lookup is refused with 429. */
  limit: number;
  /** Length of the sliding window, in milliseconds. */
  windowMs: number;
}

/** Ten failures per caller per hour, then 429 until the oldest of them is an hour old. */
export const DEFAULT_PERSON_LOOKUP_LOCKOUT: LockoutPolicy = { limit: 10, windowMs: 60 * 60_000 };

/**
 * How a caller may map national identity numbers (fødselsnummer) to parties, names or profiles: a lockout on
 * lookups that find nothing (guessing numbers), and a quota on lookups that find someone (mapping a list of
 * numbers). app-lib looks one number up per instantiation, far below both.
 */
export interface IdentityLookupPolicy {
  /** Lookups that found nobody; shared by every identity lookup route (`persons`, `parties/lookup`, ...). */
  failures: LockoutPolicy;
  /** Lookups that found someone. */
  found: LockoutPolicy;
}

/** Five thousand found lookups per caller per hour: one per instantiation of a busy service owner's apps. */
export const DEFAULT_IDENTITY_LOOKUP_QUOTA: LockoutPolicy = { limit: 5000, windowMs: 60 * 60_000 };

/** The default identity lookup policy: DEFAULT_PERSON_LOOKUP_LOCKOUT and DEFAULT_IDENTITY_LOOKUP_QUOTA. */
export const DEFAULT_IDENTITY_LOOKUP_POLICY: IdentityLookupPolicy = {
  failures: DEFAULT_PERSON_LOOKUP_LOCKOUT,
  found: DEFAULT_IDENTITY_LOOKUP_QUOTA,
};

/** The policy of the configured budgets per hour (IDENTITY_LOOKUP_FAILURES_PER_HOUR, IDENTITY_LOOKUP_QUOTA_PER_HOUR). */
export function identityLookupPolicyOf(perHour: {
  failuresPerHour: number;
  foundPerHour: number;
}): IdentityLookupPolicy {
  const windowMs = 60 * 60_000;
  return { failures: { limit: perHour.failuresPerHour, windowMs }, found: { limit: perHour.foundPerHour, windowMs } };
}

/** The key failures are counted under: one per user, one per org. */
export function callerKeyOf(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.userId}` : `org:${principal.org}`;
}

/** The key found lookups are counted under, beside the caller's failures in the same table. */
const foundKeyOf = (caller: string) => `found:${caller}`;

/** A lookup the lockout guards: answers what it found, or undefined (a failure, counted). */
export type GuardedLookup<T> = (tx: Queryable) => Promise<T | undefined>;

/** A guarded lookup of several numbers at once: what to answer, and how many numbers it found and missed. */
export type GuardedLookups<T> = (tx: Queryable) => Promise<{ result: T; found: number; missed: number }>;

/**
 * Seconds until the counted lookup at `freeing` leaves a window of `windowMs` (none: asked more than the whole
 * budget, so a full window).
 */
function secondsUntilFreed(freeing: Date | string | undefined, windowMs: number, now: Date): number {
  const until = (freeing === undefined ? now.getTime() : new Date(freeing).getTime()) + windowMs;
  return Math.max(1, Math.ceil((until - now.getTime()) / 1000));
}

/**
 * Runs `lookup` of `asked` identity numbers for `caller` unless that would take the caller past either budget of
 * `policy` in its window, then counts what it found and missed. Counts are rows of `person_lookup_failures`
 * (found lookups under `found:<caller>`), so every functions instance counts the same ones; on PostgreSQL a
 * per-caller advisory lock makes concurrent lookups of one caller count one at a time. A lookup asking more numbers
 * than a budget has left is refused whole. Throws 429 with `Retry-After` (seconds until enough counted lookups leave
 * the window) when refused; refused lookups are not counted.
 */
export async function guardIdentityLookups<T>(
  db: Database,
  options: { caller: string; policy: { failures: LockoutPolicy; found?: LockoutPolicy }; now: Date; asked: number },
  lookup: GuardedLookups<T>,
): Promise<T> {
  const { caller, policy, now, asked } = options;
  const budgets = [
    { key: caller, budget: policy.failures, what: 'failed' },
    ...(policy.found ? [{ key: foundKeyOf(caller), budget: policy.found, what: 'found' }] : []),
  ];
  const outcome = await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [caller]);
    for (const { key, budget, what } of budgets) {
      const windowStart = new Date(now.getTime() - budget.windowMs);
      await tx.query('DELETE FROM person_lookup_failures WHERE caller = $1 AND failed_at <= $2', [key, windowStart]);
      // A count, not the rows: an org's quota holds thousands of them, and only the one that frees room is needed.
      const [counted] = await tx.query<{ n: number | string }>(
        'SELECT count(*) AS n FROM person_lookup_failures WHERE caller = $1',
        [key],
      );
      const over = Number(counted?.n ?? 0) + Math.max(asked, 1) - budget.limit;
      if (over > 0) {
        const [freeing] = await tx.query<{ failed_at: Date | string }>(
          'SELECT failed_at FROM person_lookup_failures WHERE caller = $1 ORDER BY failed_at OFFSET $2 LIMIT 1',
          [key, over - 1],
        );
        const locked = secondsUntilFreed(freeing?.failed_at, budget.windowMs, now);
        return { kind: 'locked', locked, what, budget } as const;
      }
    }
    const { result, found, missed } = await lookup(tx);
    const count = async (key: string, n: number) => {
      if (n > 0) {
        await tx.query(
          'INSERT INTO person_lookup_failures (caller, failed_at) SELECT $1, $2 FROM generate_series(1, $3)',
          [key, now, n],
        );
      }
    };
    await count(caller, missed);
    if (policy.found) await count(foundKeyOf(caller), found);
    return { kind: 'done', result } as const;
  });
  if (outcome.kind === 'locked') {
    const { locked, what, budget } = outcome;
    throw new Problem(429, {
      kind: 'too-many-requests',
      detail: `Too many ${what} person lookups: at most ${budget.limit} per ${budget.windowMs / 60_000} minutes. Try again in ${locked} seconds.`,
      headers: { 'Retry-After': String(locked) },
    });
  }
  return outcome.result;
}

/**
 * Runs `lookup` for `caller` unless the caller has used up its failures in the window, recording a failure when
 * the lookup finds nothing (and, with a `found` budget, counting what it found). See guardIdentityLookups.
 */
export async function lookupWithLockout<T>(
  db: Database,
  options: { caller: string; policy: LockoutPolicy | IdentityLookupPolicy; now: Date },
  lookup: GuardedLookup<T>,
): Promise<T | undefined> {
  const policy = 'failures' in options.policy ? options.policy : { failures: options.policy };
  return guardIdentityLookups(db, { caller: options.caller, policy, now: options.now, asked: 1 }, async (tx) => {
    const result = await lookup(tx);
    return { result, found: result === undefined ? 0 : 1, missed: result === undefined ? 1 : 0 };
  });
}
