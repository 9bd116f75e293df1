// The bindings tests see through `env` from cloudflare:test are the Worker's own (edge/src/env.ts).
declare namespace Cloudflare {
  interface Env {
    ROUTES: KVNamespace;
    EDGE_ADMIN_TOKEN?: string;
    EDGE_NAME?: string;
    UPSTREAM_TIMEOUT_MS?: string;
    ROUTE_CACHE_TTL_MS?: string;
    EGRESS_AUDIT: DurableObjectNamespace<import('../src/egress/audit').EgressAudit>;
    EGRESS_DNS?: string;
  }
}
