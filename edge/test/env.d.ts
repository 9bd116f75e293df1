// The bindings tests see through `env` from cloudflare:test are the Worker's own (edge/src/env.ts).
declare namespace Cloudflare {
  interface Env {
    ROUTES: KVNamespace;
    PLATFORM_MODE?: string;
    EDGE_ADMIN_TOKEN?: string;
    EDGE_NAME?: string;
    UPSTREAM_TIMEOUT_MS?: string;
    ROUTE_CACHE_TTL_MS?: string;
    EGRESS_AUDIT: DurableObjectNamespace<import('../src/egress/audit').EgressAudit>;
    EGRESS_DNS?: string;
    SLA_LIMITER: DurableObjectNamespace<import('../src/sla/limiter').SlaLimiter>;
    SLA_BREAKER: DurableObjectNamespace<import('../src/sla/breaker').CircuitBreaker>;
    SLA_METRICS: DurableObjectNamespace<import('../src/sla/metrics').SlaMetrics>;
    BREAKER_CACHE_MS?: string;
  }
}
