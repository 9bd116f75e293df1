import { RouteStore } from './store';

/** Where a request for `/{org}/{app}` goes, as resolved from the route table. */
export type Resolution =
  | { kind: 'upstream'; clusterBase: string }
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
 * Admin writes through this isolate clear the cache at once; other isolates see them after the
 * TTL plus KV's own propagation delay.
 */
export class RouteResolver {
  private readonly cache = new Map<string, Cached>();
  private static readonly MAX_ENTRIES = 10_000;

  constructor(private readonly now: () => number = Date.now) {}

  /** Resolves the route of `org/app`, from memory when fresh. */
  async resolve(kv: KVNamespace, org: string, app: string, ttlMs: number): Promise<Resolution> {
    const key = `${org}/${app}`;
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.expires > now) return hit.value;
    const value = await lookup(new RouteStore(kv), org, app);
    if (this.cache.size >= RouteResolver.MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { value, expires: now + ttlMs });
    return value;
  }

  /** Forgets every cached answer (after an admin write). */
  clear(): void {
    this.cache.clear();
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
  return { kind: 'upstream', clusterBase };
}

/** The isolate's resolver, shared by the proxy and the admin API (which clears it). */
export const routeResolver = new RouteResolver();
