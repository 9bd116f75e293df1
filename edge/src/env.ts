/** Bindings of the edge Worker; keep in step with wrangler.toml. */
export interface Env {
  /** Route table: `org/{org}` and `app/{org}/{app}` entries (see routing/). */
  ROUTES: KVNamespace;
  /** `local` for development; anything else (unset included) is production, which refuses local-only settings (mode/). */
  PLATFORM_MODE?: string;
  /** Bearer token of the `/_edge` admin API (a Worker secret). */
  EDGE_ADMIN_TOKEN?: string;
  /** Pseudonym used in `Via`. */
  EDGE_NAME?: string;
  /** Milliseconds the upstream may take to send response headers. */
  UPSTREAM_TIMEOUT_MS?: string;
  /** Milliseconds a route lookup stays in the isolate's memory. */
  ROUTE_CACHE_TTL_MS?: string;
  /** Egress audit log, one Durable Object per org (egress/audit.ts). */
  EGRESS_AUDIT?: DurableObjectNamespace<import('./egress/audit').EgressAudit>;
  /** JWKS URL of the platform's token keys; PlatformAccessTokens are verified against it. */
  EGRESS_JWKS_URL?: string;
  /** Expected `iss` of PlatformAccessTokens (unchecked when unset). */
  EGRESS_TOKEN_ISSUER?: string;
  /** Secret: AES-256 key (32 bytes, base64) sealing egress credentials; `_PREVIOUS` still opens old ones. */
  EGRESS_CREDENTIALS_KEY?: string;
  EGRESS_CREDENTIALS_KEY_PREVIOUS?: string;
  /** `doh` (default) or, for development and tests only, a JSON map of host name -> addresses. */
  EGRESS_DNS?: string;
  /** DNS-over-HTTPS endpoint (JSON API). */
  EGRESS_DOH_URL?: string;
  /** Development only, off by default: loopback ports egress may reach at the literal host 127.0.0.1. */
  EGRESS_DEV_LOOPBACK_PORTS?: string;
  /** Hours the egress audit log keeps a call (default 720). */
  EGRESS_AUDIT_RETENTION_HOURS?: string;
  /** Milliseconds an org's egress policy stays in the isolate's memory (default 5000). */
  EGRESS_POLICY_CACHE_TTL_MS?: string;
  /** Largest request body an app may send through egress (default 10 MiB). */
  EGRESS_MAX_REQUEST_BYTES?: string;
  /** SLA limiters, one per consumer key or shard (sla/limiter.ts); without it nothing is enforced. */
  SLA_LIMITER?: DurableObjectNamespace<import('./sla/limiter').SlaLimiter>;
  /** Circuit breakers, one per upstream app (sla/breaker.ts). */
  SLA_BREAKER?: DurableObjectNamespace<import('./sla/breaker').CircuitBreaker>;
  /** The edge's usage metrics (sla/metrics.ts). */
  SLA_METRICS?: DurableObjectNamespace<import('./sla/metrics').SlaMetrics>;
  /** Plan of callers without a plan (anonymous end users, consumers whose plan is gone); default `default`. */
  SLA_DEFAULT_PLAN?: string;
  /** The platform's token keys, as JWKS JSON or the URL of its JWKS endpoint: verified tokens identify org and user callers for the SLA. */
  PLATFORM_JWKS?: string;
  /** Milliseconds a plan or key lookup stays in the isolate's memory. */
  SLA_CACHE_TTL_MS?: string;
  /** Milliseconds a limiter may take to decide before the plan's fail mode applies (default 1000). */
  SLA_LIMITER_TIMEOUT_MS?: string;
  /** Consecutive gateway failures (timeouts, unreachable, 502/504) that open an upstream's circuit (default 5), and its first opening in ms (30000). */
  BREAKER_FAILURES?: string;
  BREAKER_OPEN_MS?: string;
  /** Distinct clients (IPs, IPv6 by /64) whose failures a circuit needs before it opens (default 3). */
  BREAKER_MIN_CLIENTS?: string;
  /** Milliseconds an isolate trusts a cached open circuit before asking its object again (default 1000). */
  BREAKER_CACHE_MS?: string;
}

/** Per-request values set by middleware. */
export interface Variables {
  requestId: string;
}

/** The Hono environment of every edge app. */
export type EdgeEnv = { Bindings: Env; Variables: Variables };

/** Reads a positive integer setting, falling back when it is absent or malformed. */
export function intSetting(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
