import type { AppErrorRule, BreakerSettings } from './schema';
import { RouteStore } from './store';

/** Where a request for `/{org}/{app}` goes, as resolved from the route table. */
export type Resolution =
  | { kind: 'upstream'; clusterBase: string; appErrors?: AppErrorRule }
  | { kind: 'disabled'; retryAfterSeconds: number }
  | { kind: 'unknown'; reason: 'org' | 'app' };

const DEFAULT_RETRY_AFTER = 300;

interface Cached {
  value: Resolution;
  expires: number;
}

/**
 * Resolves `/{org}/{app}` to a cluster, caching each answer (also "unknown") in the isolate's
 * memory for `ttlMs`, so that the hot path reads KV once per TTL and app, not per request.
 * Concurrent misses are not folded into one lookup: a Worker may not await I/O that another
 * request started (workerd refuses it, or cancels the waiter as hung, once that request ends:
 * seen under load in bench/). When full, the oldest entry makes room, so a flood of unknown names
 * cannot flush the whole cache at once. Admin writes through this isolate clear the cache at once
 * (a lookup in flight then is not cached); other isolates see them after the TTL plus KV's own
 * propagation delay.
 */
export class RouteResolver {
  private readonly cache = new Map<string, Cached>();
  private generation = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  /** Resolves the route of `org/app`, from memory when fresh. */
  async resolve(kv: KVNamespace, org: string, app: string, ttlMs: number): Promise<Resolution> {
    const key = `${org}/${app}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const generation = this.generation;
    const value = await lookup(new RouteStore(kv), org, app);
    if (generation === this.generation) this.remember(key, value, ttlMs);
    return value;
  }

  /** Forgets every cached answer (after an admin write). */
  clear(): void {
    this.generation += 1;
    this.cache.clear();
  }

  /** How many answers are cached. */
  get size(): number {
    return this.cache.size;
  }

  private remember(key: string, value: Resolution, ttlMs: number): void {
    this.cache.delete(key);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, { value, expires: this.now() + ttlMs });
  }
}

async function lookup(store: RouteStore, org: string, app: string): Promise<Resolution> {
  const [orgRoute, appRoute] = await Promise.all([store.getOrg(org), store.getApp(org, app)]);
  if (appRoute?.disabled) {
    return { kind: 'disabled', retryAfterSeconds: appRoute.retryAfterSeconds ?? DEFAULT_RETRY_AFTER };
  }
  if (appRoute === null && orgRoute?.listedAppsOnly) return { kind: 'unknown', reason: 'app' };
  const clusterBase = appRoute?.clusterBase ?? orgRoute?.clusterBase;
  if (clusterBase === undefined) return { kind: 'unknown', reason: 'org' };
  const appErrors = appErrorRule(appRoute?.breaker);
  return appErrors === undefined ? { kind: 'upstream', clusterBase } : { kind: 'upstream', clusterBase, appErrors };
}

/** The app-error rule an app route opts in to, with the defaults filled in; undefined when it does not. */
export function appErrorRule(settings: BreakerSettings | undefined): AppErrorRule | undefined {
  if (settings?.countAppErrors !== true) return undefined;
  return {
    ratio: settings.errorRatio ?? 0.5,
    minRequests: settings.minRequests ?? 20,
    minClients: settings.minClients ?? 3,
    intervalMs: (settings.intervalSeconds ?? 10) * 1000,
  };
}

/** The isolate's resolver, shared by the proxy and the admin API (which clears it). */
export const routeResolver = new RouteResolver();
