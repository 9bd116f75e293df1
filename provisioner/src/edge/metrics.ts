/**
 * The edge's usage metrics (`GET /_edge/metrics`, edge/src/sla/metrics.ts), read server-side with the
 * edge admin token and folded into per-app SLA figures. The token never leaves the provisioner.
 */

import { readEdge } from './read.js';

/** One series of the edge's report: one org, app and consumer (the fields the dashboard reads). */
interface EdgeSeries {
  org: string;
  app: string;
  consumer: string;
  requests: number;
  status: Record<string, number>;
  latencyMs: { buckets: { le: string; count: number }[] };
  bytesIn: number;
  bytesOut: number;
  rejections: Record<string, number>;
}

/** The edge's JSON report. */
export interface EdgeReport {
  series: EdgeSeries[];
  apps: { org: string; app: string; inFlight: number; requestsPerSecond: number }[];
}

/** SLA figures of one app, summed over its consumers. */
export interface AppSla {
  org: string;
  app: string;
  /** Requests answered since the edge's metrics object started (refusals included). */
  requests: number;
  /** Requests per second over the edge's last 10 s. */
  requestsPerSecond: number;
  inFlight: number;
  /** Responses by status class. */
  status: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>;
  /** Percentiles of the time to the upstream's headers, from the merged histogram; null without requests. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** Refusals by reason (rate, quota, concurrency, auth, circuit, limiter). */
  rejections: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  consumers: number;
  /** Quota used this period by the app's consumers that have a quota (`GET /_edge/consumers/{id}/usage`), most used first. */
  quotaUsed: QuotaUse[];
}

/** How much of its quota one consumer has used this period for an app, as the edge's limiters count it. */
export interface QuotaUse {
  consumer: string;
  period: 'day' | 'month';
  resetsAt: string;
  calls?: { used: number; limit: number };
  bytes?: { used: number; limit: number };
}

/** The most-used share of a quota use (0..1, or more when over); 1 for a limit of 0. */
export function quotaShare(use: QuotaUse): number {
  const share = (c: { used: number; limit: number } | undefined) =>
    c === undefined ? 0 : c.limit === 0 ? 1 : c.used / c.limit;
  return Math.max(share(use.calls), share(use.bytes));
}

/** Consumers whose quota is looked up per app and poll, at most: the busiest ones. */
const QUOTA_CONSUMERS_PER_APP = 10;

/** What reading the edge gave: figures, or why there are none. */
export type EdgeMetricsResult =
  | { status: 'ok'; apps: AppSla[] }
  | { status: 'unconfigured' | 'unreachable' | 'error'; detail: string; apps: [] };

/** Reads the edge's metrics; never throws. */
export interface EdgeMetrics {
  read(org?: string): Promise<EdgeMetricsResult>;
}

/** Used when no edge is configured (EDGE_ADMIN_URL, EDGE_ADMIN_TOKEN unset). */
export const noEdgeMetrics: EdgeMetrics = {
  read: async () => ({
    status: 'unconfigured',
    detail: 'No edge is configured (EDGE_ADMIN_URL, EDGE_ADMIN_TOKEN), so there are no SLA figures.',
    apps: [],
  }),
};

/** A histogram quantile, linear within a bucket as Prometheus and the edge estimate it. */
export function bucketQuantile(buckets: readonly { le: string; count: number }[], q: number): number | null {
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (const b of buckets) {
    const upper = b.le === '+Inf' ? lower : Number(b.le);
    if (b.count > 0 && seen + b.count >= rank) return lower + (upper - lower) * ((rank - seen) / b.count);
    seen += b.count;
    lower = upper;
  }
  return lower;
}

/** Folds the edge's per-consumer series into one SLA entry per app. */
export function appSlaOf(report: EdgeReport): AppSla[] {
  const byApp = new Map<string, { sla: AppSla; buckets: Map<string, number> }>();
  const entry = (org: string, app: string) => {
    const key = `${org}/${app}`;
    let e = byApp.get(key);
    if (!e) {
      e = {
        sla: {
          org,
          app,
          requests: 0,
          requestsPerSecond: 0,
          inFlight: 0,
          status: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
          latencyMs: { p50: null, p95: null, p99: null },
          rejections: {},
          bytesIn: 0,
          bytesOut: 0,
          consumers: 0,
          quotaUsed: [],
        },
        buckets: new Map(),
      };
      byApp.set(key, e);
    }
    return e;
  };
  for (const s of report.series ?? []) {
    const { sla, buckets } = entry(s.org, s.app);
    sla.requests += s.requests;
    sla.consumers += 1;
    sla.bytesIn += s.bytesIn;
    sla.bytesOut += s.bytesOut;
    for (const [cls, n] of Object.entries(s.status ?? {})) {
      if (cls in sla.status) sla.status[cls as keyof AppSla['status']] += n;
    }
    for (const [reason, n] of Object.entries(s.rejections ?? {}))
      sla.rejections[reason] = (sla.rejections[reason] ?? 0) + n;
    for (const b of s.latencyMs?.buckets ?? []) buckets.set(b.le, (buckets.get(b.le) ?? 0) + b.count);
  }
  for (const a of report.apps ?? []) {
    const { sla } = entry(a.org, a.app);
    sla.requestsPerSecond = a.requestsPerSecond;
    sla.inFlight = a.inFlight;
  }
  return [...byApp.values()].map(({ sla, buckets }) => {
    const merged = [...buckets].map(([le, count]) => ({ le, count }));
    merged.sort((x, y) => (x.le === '+Inf' ? 1 : y.le === '+Inf' ? -1 : Number(x.le) - Number(y.le)));
    const p = (q: number) => bucketQuantile(merged, q);
    return { ...sla, latencyMs: { p50: p(0.5), p95: p(0.95), p99: p(0.99) } };
  });
}

/** The consumers of an app that may have a quota (named consumers, not anonymous callers), busiest first. */
function busiestConsumers(report: EdgeReport, org: string, app: string): string[] {
  return (report.series ?? [])
    .filter((s) => s.org === org && s.app === app && /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(s.consumer))
    .filter((s) => s.consumer !== 'anonymous')
    .sort((a, b) => b.requests - a.requests)
    .slice(0, QUOTA_CONSUMERS_PER_APP)
    .map((s) => s.consumer);
}

/** Options of edgeMetricsClient. */
export interface EdgeMetricsOptions {
  /** The edge's base URL (EDGE_ADMIN_URL). */
  baseUrl: string;
  /** The edge admin token (EDGE_ADMIN_TOKEN). */
  token: string;
  /** How long to wait for the edge (1500 ms by default: the dashboard polls every 2 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Reads `GET /_edge/metrics[?org=]` with the edge admin token; failures are answered, not thrown. */
export function edgeMetricsClient(options: EdgeMetricsOptions): EdgeMetrics {
  const timeoutMs = options.timeoutMs ?? 1_500;
  const admin = { ...options, timeoutMs };
  /** A consumer's quota use for an app; null when it is not a consumer, has no quota, or the edge fails. */
  async function quotaOf(consumer: string, app: string): Promise<QuotaUse | null> {
    const read = await readEdge<{ quota: Omit<QuotaUse, 'consumer'> | null }>(
      admin,
      `/_edge/consumers/${encodeURIComponent(consumer)}/usage`,
      { app },
    );
    return read.ok && read.body.quota !== null ? { consumer, ...read.body.quota } : null;
  }
  return {
    async read(org) {
      const read = await readEdge<EdgeReport>(admin, '/_edge/metrics', org === undefined ? {} : { org });
      if (!read.ok) {
        if (read.failure === 'timeout' || read.failure === 'unreachable') {
          const detail =
            read.failure === 'timeout'
              ? `The edge did not answer within ${timeoutMs} ms.`
              : 'The edge could not be reached.';
          return { status: 'unreachable', detail, apps: [] };
        }
        const detail =
          read.failure === 'status'
            ? `The edge answered ${read.status} to GET /_edge/metrics.`
            : 'The edge answered metrics that are not JSON.';
        return { status: 'error', detail, apps: [] };
      }
      const report = read.body;
      const apps = appSlaOf(report);
      await Promise.all(
        apps.map(async (sla) => {
          const uses = await Promise.all(
            busiestConsumers(report, sla.org, sla.app).map((consumer) => quotaOf(consumer, `${sla.org}/${sla.app}`)),
          );
          sla.quotaUsed = uses.filter((u): u is QuotaUse => u !== null).sort((a, b) => quotaShare(b) - quotaShare(a));
        }),
      );
      return { status: 'ok', apps };
    },
  };
}
