/** What the decision cache needs. */
export interface DecisionCacheOptions {
  /** Reads the generation every change of a policy, role or delegation bumps (in the same transaction). */
  readGeneration: () => Promise<string>;
  /** How long the cache trusts its generation before reading it again; 1000 ms by default. */
  checkIntervalMs?: number;
  /** Largest number of entries; the oldest go first. 50,000 by default. */
  maxEntries?: number;
  /** Clock of entry expiry (ms since epoch), the grants' clock; the interval always runs on the system clock. */
  now?: () => number;
  /** Called whenever the entries are dropped, so that what is cached beside them (policies) goes too. */
  onClear?: () => void;
}

interface Entry<T> {
  value: T;
  /** The entry is stale from this instant (a grant it rests on ends or starts); Infinity when none does. */
  expiresAt: number;
}

/**
 * A per-process cache of decisions. Every process notices another's change within `checkIntervalMs` through the
 * generation in the database; a change made in this process calls `invalidate()` after its commit and is seen at
 * once. An entry also expires when a time-limited grant it rests on ends.
 */
export class DecisionCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private generation: string | undefined;
  private clears = 0;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking: Promise<void> | undefined;
  private readonly intervalMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: DecisionCacheOptions) {
    this.intervalMs = options.checkIntervalMs ?? 1000;
    this.maxEntries = options.maxEntries ?? 50_000;
    this.now = options.now ?? Date.now;
  }

  /** Reads the database generation when the last read is older than the interval, dropping every entry on change. */
  async refresh(): Promise<void> {
    if (Date.now() - this.checkedAt < this.intervalMs) return;
    this.checking ??= (async () => {
      try {
        const generation = await this.options.readGeneration();
        if (generation !== this.generation) this.clear();
        this.generation = generation;
        this.checkedAt = Date.now();
      } finally {
        this.checking = undefined;
      }
    })();
    await this.checking;
  }

  /** The cached value of `key`, unless it has expired. */
  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Changes whenever the entries are dropped: a value computed across a change is not cached (see `set`). */
  get epoch(): number {
    return this.clears;
  }

  /** Caches `value` under `key` until `expiresAt` (ms since epoch), unless a clear happened since `epoch`. */
  set(key: string, value: T, expiresAt: number, epoch: number): void {
    if (epoch !== this.clears) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt });
  }

  /** Drops every entry and forces the next refresh to read the generation: call after committing a change. */
  invalidate(): void {
    this.clear();
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }

  private clear(): void {
    this.clears += 1;
    this.entries.clear();
    this.options.onClear?.();
  }

  /** Number of cached entries. */
  get size(): number {
    return this.entries.size;
  }
}
