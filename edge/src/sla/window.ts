/**
 * An exact sliding window ("sliding log"): the times of the last `limit` admissions in a ring.
 * A request is admitted when fewer than `limit` admissions fall in the last `windowMs`, so no
 * interval of that length ever holds more than `limit` admissions (a fixed window allows twice
 * that across a boundary, a token bucket its burst plus the refill). Each check is O(1) amortised;
 * memory is 8 bytes per unit of limit, which is why windows are capped (schema.ts).
 */
export class SlidingLog {
  private readonly times: Float64Array;
  private head = 0;
  private size = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {
    this.times = new Float64Array(Math.max(limit, 1));
  }

  /** Drops admissions older than the window. */
  private expire(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.size > 0 && (this.times[this.head] ?? 0) <= cutoff) {
      this.head = (this.head + 1) % this.times.length;
      this.size -= 1;
    }
  }

  /** Whether one more admission fits now. */
  fits(now: number): boolean {
    this.expire(now);
    return this.size < this.limit;
  }

  /** Records an admission at `now` (call only after `fits`). */
  add(now: number): void {
    this.times[(this.head + this.size) % this.times.length] = now;
    this.size += 1;
  }

  /** Admissions left in the window now. */
  remaining(now: number): number {
    this.expire(now);
    return Math.max(this.limit - this.size, 0);
  }

  /** Milliseconds until the oldest admission leaves the window (one more fits), 0 when one fits now. */
  msUntilFree(now: number): number {
    this.expire(now);
    if (this.size < this.limit) return 0;
    if (this.limit === 0) return this.windowMs;
    return (this.times[this.head] ?? now) + this.windowMs - now;
  }

  /** Milliseconds until the whole window has emptied. */
  msUntilEmpty(now: number): number {
    this.expire(now);
    if (this.size === 0) return 0;
    const newest = this.times[(this.head + this.size - 1) % this.times.length] ?? now;
    return newest + this.windowMs - now;
  }

  /** Fills an empty log with stored admissions (`count` at each time, times ascending), the most recent that fit. */
  restore(entries: [time: number, count: number][], now: number): void {
    let total = 0;
    for (const [, count] of entries) total += count;
    let skip = Math.max(total - this.limit, 0);
    for (const [time, count] of entries) {
      const n = Math.min(count, Math.max(count - skip, 0));
      skip = Math.max(skip - count, 0);
      for (let i = 0; i < n; i++) this.add(time);
    }
    this.expire(now);
  }

  /** Copies the most recent admissions of `other` (after a limit change), as many as fit. */
  adopt(other: SlidingLog, now: number): void {
    other.expire(now);
    const keep = Math.min(other.size, this.times.length, this.limit);
    for (let i = other.size - keep; i < other.size; i++) {
      this.add(other.times[(other.head + i) % other.times.length] ?? now);
    }
  }
}
