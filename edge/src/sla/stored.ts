import { SlidingLog } from './window';

// What a limiter object keeps in its own storage so that a new instance (after eviction, a
// deploy, a crash) continues where the old one stopped: every admission of a rate window and
// every concurrency slot is written in the same event that decides on it. The Durable Object's
// output gate holds the answer until those writes are durable, so no admission is ever answered
// that a restarted object would not know about; the writes of one event are coalesced into one
// atomic commit.

/** Sub-buckets a window is stored in: a restarted object holds an admission at most window/64 longer. */
const BUCKETS = 64;

/** Width of one stored sub-bucket of a window. */
export function bucketMs(windowMs: number): number {
  return Math.max(Math.ceil(windowMs / BUCKETS), 1);
}

/**
 * One rate window: the exact sliding log in memory (it decides), and in storage the number of
 * admissions per sub-bucket, each stamped with the bucket's end (`rate/{windowMs}/{end}`). A
 * restarted object rebuilds the log from the buckets with every admission at its bucket's end,
 * never earlier than it happened: it may refuse a little longer (at most window/64), never admit
 * more. Storage is at most 65 small entries per window, one `put` per admitting call.
 */
export class StoredWindow {
  readonly log: SlidingLog;
  private readonly prefix: string;
  /** Stored counts by bucket end, oldest first. */
  private readonly counts = new Map<number, number>();

  constructor(
    private readonly kv: SyncKvStorage,
    limit: number,
    readonly windowMs: number,
    now: number,
    previous?: StoredWindow,
  ) {
    this.log = new SlidingLog(limit, windowMs);
    this.prefix = `rate/${windowMs}/`;
    if (previous !== undefined) {
      // the limit changed: same stored buckets, a log of the new size
      for (const [end, count] of previous.counts) this.counts.set(end, count);
      this.log.adopt(previous.log, now);
      return;
    }
    const stored: [number, number][] = [];
    const gone: string[] = [];
    for (const [key, count] of kv.list<number>({ prefix: this.prefix })) {
      const end = Number(key.slice(this.prefix.length));
      if (end + windowMs <= now) gone.push(key);
      else stored.push([end, count]);
    }
    for (const key of gone) kv.delete(key);
    stored.sort((a, b) => a[0] - b[0]);
    for (const [end, count] of stored) this.counts.set(end, count);
    this.log.restore(stored, now);
  }

  /** Counts `n` admissions at `now` in the log and in storage. */
  add(now: number, n: number): void {
    for (let i = 0; i < n; i++) this.log.add(now);
    const width = bucketMs(this.windowMs);
    const end = Math.ceil(now / width) * width;
    const count = (this.counts.get(end) ?? 0) + n;
    this.counts.set(end, count);
    this.kv.put(`${this.prefix}${end}`, count);
    this.prune(now);
  }

  /** Deletes stored buckets that have left the window; answers whether any are left. */
  prune(now: number): boolean {
    for (const [end] of this.counts) {
      if (end + this.windowMs > now) break;
      this.counts.delete(end);
      this.kv.delete(`${this.prefix}${end}`);
    }
    return this.counts.size > 0;
  }

  /** When the last stored bucket leaves the window. */
  emptyAt(): number {
    let last = 0;
    for (const [end] of this.counts) last = Math.max(last, end + this.windowMs);
    return last;
  }
}

/**
 * Concurrency slots: lease id -> expiry, in memory and stored (`slot/{lease}`), so a restarted
 * object still counts the requests in flight and still lets their slots expire. Lease ids carry
 * a tag random per instance, so a late release of an old lease never frees a new one.
 */
export class StoredSlots {
  private readonly slots = new Map<string, number>();
  private readonly tag = crypto.randomUUID().slice(0, 8);
  private next = 0;

  constructor(private readonly kv: SyncKvStorage) {
    for (const [key, expires] of kv.list<number>({ prefix: 'slot/' })) this.slots.set(key.slice(5), expires);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Takes a slot until `expires`; answers its lease. */
  take(expires: number): string {
    const lease = `${this.tag}.${++this.next}`;
    this.slots.set(lease, expires);
    this.kv.put(`slot/${lease}`, expires);
    return lease;
  }

  /** Frees a slot (unknown or already freed leases are ignored). */
  release(lease: string): void {
    if (this.slots.delete(lease)) this.kv.delete(`slot/${lease}`);
  }

  /** Frees the slots whose time is up. */
  expire(now: number): void {
    for (const [lease, expires] of this.slots) if (expires <= now) this.release(lease);
  }

  /** When the last slot expires (0 when none is held). */
  emptyAt(): number {
    let last = 0;
    for (const expires of this.slots.values()) last = Math.max(last, expires);
    return last;
  }
}
