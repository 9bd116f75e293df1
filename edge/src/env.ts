/** Bindings of the edge Worker; keep in step with wrangler.toml. */
export interface Env {
  /** Route table: `org/{org}` and `app/{org}/{app}` entries (see routing/). */
  ROUTES: KVNamespace;
  /** Bearer token of the `/_edge` admin API (a Worker secret). */
  EDGE_ADMIN_TOKEN?: string;
  /** Pseudonym used in `Via`. */
  EDGE_NAME?: string;
  /** Milliseconds the upstream may take to send response headers. */
  UPSTREAM_TIMEOUT_MS?: string;
  /** Milliseconds a route lookup stays in the isolate's memory. */
  ROUTE_CACHE_TTL_MS?: string;
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
