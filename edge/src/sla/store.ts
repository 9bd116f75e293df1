import type { Consumer, Plan } from './schema';

/** KV key of a plan. */
export const planKey = (id: string): string => `plan/${id}`;
/** KV key of a consumer. */
export const consumerKey = (id: string): string => `consumer/${id}`;
/** KV key that maps a subscription key's hash to its consumer id. */
export const keyHashKey = (hash: string): string => `consumer-key/${hash}`;

const encoder = new TextEncoder();

/** Hex SHA-256 of a subscription key: what KV stores instead of the key. */
export async function hashKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(key)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** A new subscription key: 32 random bytes, base64url (APIM's keys are 32 hex characters). */
export function newSubscriptionKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Reads and writes plans and consumers in Workers KV (the ROUTES namespace, under its own prefixes). */
export class SlaStore {
  constructor(private readonly kv: KVNamespace) {}

  /** The plan, or null. */
  getPlan(id: string): Promise<Plan | null> {
    return this.kv.get<Plan>(planKey(id), 'json');
  }

  /** Stores a plan. */
  async putPlan(plan: Plan): Promise<void> {
    await this.kv.put(planKey(plan.id), JSON.stringify(plan));
  }

  /** Deletes a plan. */
  async deletePlan(id: string): Promise<void> {
    await this.kv.delete(planKey(id));
  }

  /** The consumer, or null. */
  getConsumer(id: string): Promise<Consumer | null> {
    return this.kv.get<Consumer>(consumerKey(id), 'json');
  }

  /** The id of the consumer holding the key with this hash, or null. */
  consumerOfKey(hash: string): Promise<string | null> {
    return this.kv.get(keyHashKey(hash));
  }

  /** Stores a consumer and the index entries of its keys; drops index entries of `replacedHashes`. */
  async putConsumer(consumer: Consumer, replacedHashes: string[] = []): Promise<void> {
    await Promise.all([
      this.kv.put(consumerKey(consumer.id), JSON.stringify(consumer)),
      this.kv.put(keyHashKey(consumer.keyHashes.primary), consumer.id),
      this.kv.put(keyHashKey(consumer.keyHashes.secondary), consumer.id),
      ...replacedHashes.map((hash) => this.kv.delete(keyHashKey(hash))),
    ]);
  }

  /** Deletes a consumer and its keys. */
  async deleteConsumer(consumer: Consumer): Promise<void> {
    await Promise.all([
      this.kv.delete(consumerKey(consumer.id)),
      this.kv.delete(keyHashKey(consumer.keyHashes.primary)),
      this.kv.delete(keyHashKey(consumer.keyHashes.secondary)),
    ]);
  }

  /** All ids under a prefix (`plan/` or `consumer/`), in name order. */
  async list(prefix: 'plan/' | 'consumer/'): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list({ prefix, ...(cursor ? { cursor } : {}) });
      ids.push(...page.keys.map((k) => k.name.slice(prefix.length)));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return ids;
  }
}

interface Cached<T> {
  value: T;
  expires: number;
}

/**
 * Plans, consumers and key lookups cached in the isolate's memory for a short TTL, as the route
 * resolver does: the hot path reads KV once per TTL and name. Only plain data is cached, never a
 * promise (workerd refuses I/O started by another request). Admin writes clear it.
 */
export class PolicyCache {
  private readonly cache = new Map<string, Cached<unknown>>();
  private generation = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 20_000,
  ) {}

  /** The plan `id`, or null. */
  plan(kv: KVNamespace, id: string, ttlMs: number): Promise<Plan | null> {
    return this.get(`p:${id}`, ttlMs, () => new SlaStore(kv).getPlan(id));
  }

  /** The consumer holding the key with this hash, or null (unknown key or disabled consumer). */
  consumerByKeyHash(kv: KVNamespace, hash: string, ttlMs: number): Promise<Consumer | null> {
    return this.get(`k:${hash}`, ttlMs, async () => {
      const store = new SlaStore(kv);
      const id = await store.consumerOfKey(hash);
      if (id === null) return null;
      const consumer = await store.getConsumer(id);
      if (consumer === null || consumer.disabled) return null;
      const { primary, secondary } = consumer.keyHashes;
      return primary === hash || secondary === hash ? consumer : null;
    });
  }

  /** The consumer `id` when it exists and is not disabled, or null. */
  consumer(kv: KVNamespace, id: string, ttlMs: number): Promise<Consumer | null> {
    return this.get(`c:${id}`, ttlMs, async () => {
      const consumer = await new SlaStore(kv).getConsumer(id);
      return consumer === null || consumer.disabled ? null : consumer;
    });
  }

  /** Forgets everything (after an admin write). */
  clear(): void {
    this.generation += 1;
    this.cache.clear();
  }

  private async get<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.value as T;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) {
      this.cache.delete(key);
      if (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      this.cache.set(key, { value, expires: this.now() + ttlMs });
    }
    return value;
  }
}

/** The isolate's policy cache, shared by enforcement and the admin API (which clears it). */
export const policyCache = new PolicyCache();
