import { DurableObject } from 'cloudflare:workers';

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Why the edge refused a request. */
export type Rejection = 'rate' | 'quota' | 'concurrency' | 'auth' | 'circuit' | 'limiter';

/** Counters of one series: one org, app and consumer (`anonymous` for end users without a key). */
export interface Series {
  org: string;
  app: string;
  consumer: string;
  requests: number;
  /** Responses by status class: index 1 = 1xx ... 5 = 5xx. */
  statusClasses: number[];
  /** Per bucket of LATENCY_BUCKETS_MS, then +Inf (not cumulative). */
  latencyBuckets: number[];
  latencySumMs: number;
  bytesIn: number;
  bytesOut: number;
  rejections: Partial<Record<Rejection, number>>;
}

/** What one isolate sends the metrics object: counter deltas and its in-flight gauge per app. */
export interface MetricsBatch {
  isolate: string;
  series: Series[];
  inFlight: Record<string, number>;
}

function emptySeries(org: string, app: string, consumer: string): Series {
  return {
    org,
    app,
    consumer,
    requests: 0,
    statusClasses: [0, 0, 0, 0, 0, 0],
    latencyBuckets: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
    latencySumMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    rejections: {},
  };
}

function addInto(into: Series, from: Series): void {
  into.requests += from.requests;
  from.statusClasses.forEach((n, i) => {
    into.statusClasses[i] = (into.statusClasses[i] ?? 0) + n;
  });
  from.latencyBuckets.forEach((n, i) => {
    into.latencyBuckets[i] = (into.latencyBuckets[i] ?? 0) + n;
  });
  into.latencySumMs += from.latencySumMs;
  into.bytesIn += from.bytesIn;
  into.bytesOut += from.bytesOut;
  for (const [reason, n] of Object.entries(from.rejections) as [Rejection, number][]) {
    into.rejections[reason] = (into.rejections[reason] ?? 0) + n;
  }
}

/**
 * The isolate's side of the metrics: counts in memory (no I/O per request) and hands the deltas
 * to the metrics object at most once per flush interval. Only plain data is kept between requests.
 */
export class MetricsRecorder {
  /** This isolate's id, made on first use (random values are refused at global scope). */
  private isolate: string | undefined;
  private pending = new Map<string, Series>();
  private readonly inFlight = new Map<string, number>();
  private lastFlush = 0;

  private series(org: string, app: string, consumer: string): Series {
    const key = `${org}\n${app}\n${consumer}`;
    let s = this.pending.get(key);
    if (s === undefined) {
      s = emptySeries(org, app, consumer);
      this.pending.set(key, s);
    }
    return s;
  }

  /** A request went upstream. */
  started(org: string, app: string): void {
    const key = `${org}/${app}`;
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
  }

  /** A request that went upstream has ended (its body streamed, or the client left). */
  ended(org: string, app: string): void {
    const key = `${org}/${app}`;
    this.inFlight.set(key, Math.max((this.inFlight.get(key) ?? 0) - 1, 0));
  }

  /** Counts one answered request. */
  answered(
    org: string,
    app: string,
    consumer: string,
    status: number,
    latencyMs: number,
    bytesIn: number,
    bytesOut: number,
  ): void {
    const s = this.series(org, app, consumer);
    s.requests += 1;
    const cls = Math.floor(status / 100);
    if (cls >= 1 && cls <= 5) s.statusClasses[cls] = (s.statusClasses[cls] ?? 0) + 1;
    let bucket = LATENCY_BUCKETS_MS.findIndex((le) => latencyMs <= le);
    if (bucket === -1) bucket = LATENCY_BUCKETS_MS.length;
    s.latencyBuckets[bucket] = (s.latencyBuckets[bucket] ?? 0) + 1;
    s.latencySumMs += latencyMs;
    s.bytesIn += bytesIn;
    s.bytesOut += bytesOut;
  }

  /** Counts one refusal (also counted as an answered request by the caller). */
  rejected(org: string, app: string, consumer: string, reason: Rejection): void {
    const s = this.series(org, app, consumer);
    s.rejections[reason] = (s.rejections[reason] ?? 0) + 1;
  }

  /** Whether the flush interval has passed since the last flush. */
  due(intervalMs: number, now = Date.now()): boolean {
    return now - this.lastFlush >= intervalMs;
  }

  /** Takes the deltas gathered so far (and the in-flight gauge) as one batch. */
  take(now = Date.now()): MetricsBatch {
    this.lastFlush = now;
    this.isolate ??= crypto.randomUUID();
    const batch: MetricsBatch = {
      isolate: this.isolate,
      series: [...this.pending.values()],
      inFlight: Object.fromEntries(this.inFlight),
    };
    this.pending = new Map();
    return batch;
  }
}

/** The isolate's recorder. */
export const metricsRecorder = new MetricsRecorder();

/** Per app: requests seen per second over the last minute, and each isolate's in-flight gauge. */
interface AppUsage {
  perSecond: Map<number, number>;
  inFlight: Map<string, { value: number; at: number }>;
}

/** Metrics of one series as the API shows them. */
export interface SeriesReport extends Omit<Series, 'statusClasses' | 'latencyBuckets'> {
  status: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; buckets: { le: string; count: number }[] };
}

/** Per app usage: the autoscaling signal. */
export interface AppReport {
  org: string;
  app: string;
  inFlight: number;
  requestsPerSecond: number;
}

/** A quantile estimated from histogram buckets (linear within a bucket), as Prometheus does. */
export function quantile(buckets: number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const [i, n] of buckets.entries()) {
    if (seen + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] ?? 0);
      const upper = LATENCY_BUCKETS_MS[i] ?? lower;
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1] ?? null;
}

const RATE_WINDOW_S = 10;
const GAUGE_STALE_MS = 30_000;

/**
 * Sums the batches of every isolate: cumulative counters per org, app and consumer; per app the
 * in-flight gauge (the sum of each live isolate's last report) and requests per second over the
 * last 10 s. One object for the edge: it takes one small batch per isolate per second.
 */
export class SlaMetrics extends DurableObject {
  /** The clock; tests may replace it. */
  clock: () => number = Date.now;
  private readonly totals = new Map<string, Series>();
  private readonly apps = new Map<string, AppUsage>();

  /** Adds one isolate's batch. */
  ingest(batch: MetricsBatch): void {
    const now = this.clock();
    const second = Math.floor(now / 1000);
    for (const s of batch.series) {
      const key = `${s.org}\n${s.app}\n${s.consumer}`;
      let total = this.totals.get(key);
      if (total === undefined) {
        total = emptySeries(s.org, s.app, s.consumer);
        this.totals.set(key, total);
      }
      addInto(total, s);
      const usage = this.usage(`${s.org}/${s.app}`);
      usage.perSecond.set(second, (usage.perSecond.get(second) ?? 0) + s.requests);
    }
    for (const [app, value] of Object.entries(batch.inFlight)) {
      this.usage(app).inFlight.set(batch.isolate, { value, at: now });
    }
  }

  /** Every series and every app's usage, optionally of one org. */
  report(org?: string): { series: SeriesReport[]; apps: AppReport[] } {
    const now = this.clock();
    const nowSecond = Math.floor(now / 1000);
    const series = [...this.totals.values()].filter((s) => org === undefined || s.org === org).map(seriesReport);
    const apps: AppReport[] = [];
    for (const [key, usage] of this.apps) {
      const [o = '', a = ''] = key.split('/');
      if (org !== undefined && o !== org) continue;
      let recent = 0;
      for (const [sec, n] of usage.perSecond) {
        if (sec < nowSecond - 60) usage.perSecond.delete(sec);
        else if (sec > nowSecond - RATE_WINDOW_S) recent += n;
      }
      let inFlight = 0;
      for (const g of usage.inFlight.values()) if (now - g.at < GAUGE_STALE_MS) inFlight += g.value;
      apps.push({ org: o, app: a, inFlight, requestsPerSecond: recent / RATE_WINDOW_S });
    }
    return { series, apps };
  }

  private usage(app: string): AppUsage {
    let u = this.apps.get(app);
    if (u === undefined) {
      u = { perSecond: new Map(), inFlight: new Map() };
      this.apps.set(app, u);
    }
    return u;
  }
}

function seriesReport(s: Series): SeriesReport {
  const { statusClasses, latencyBuckets, ...rest } = s;
  return {
    ...rest,
    status: {
      '1xx': statusClasses[1] ?? 0,
      '2xx': statusClasses[2] ?? 0,
      '3xx': statusClasses[3] ?? 0,
      '4xx': statusClasses[4] ?? 0,
      '5xx': statusClasses[5] ?? 0,
    },
    latencyMs: {
      p50: quantile(latencyBuckets, 0.5),
      p95: quantile(latencyBuckets, 0.95),
      p99: quantile(latencyBuckets, 0.99),
      buckets: latencyBuckets.map((count, i) => ({ le: String(LATENCY_BUCKETS_MS[i] ?? '+Inf'), count })),
    },
  };
}

const label = (v: string): string => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

/** The report in Prometheus' text exposition format (version 0.0.4). */
export function prometheusText(report: { series: SeriesReport[]; apps: AppReport[] }): string {
  const lines: string[] = [];
  const block = (name: string, type: string, help: string, rows: string[]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
  };
  const ids = (s: { org: string; app: string; consumer?: string }) =>
    `org="${label(s.org)}",app="${label(s.app)}"${s.consumer === undefined ? '' : `,consumer="${label(s.consumer)}"`}`;
  const { series, apps } = report;
  block(
    'edge_requests_total',
    'counter',
    'Requests answered, by status class.',
    series.flatMap((s) =>
      Object.entries(s.status).map(([cls, n]) => `edge_requests_total{${ids(s)},code="${cls}"} ${n}`),
    ),
  );
  block(
    'edge_rejections_total',
    'counter',
    'Requests refused by the edge, by reason.',
    series.flatMap((s) =>
      Object.entries(s.rejections).map(([reason, n]) => `edge_rejections_total{${ids(s)},reason="${reason}"} ${n}`),
    ),
  );
  block(
    'edge_request_duration_ms',
    'histogram',
    'Time to the upstream response headers.',
    series.flatMap((s) => {
      let cumulative = 0;
      const rows = s.latencyMs.buckets.map((b) => {
        cumulative += b.count;
        return `edge_request_duration_ms_bucket{${ids(s)},le="${b.le}"} ${cumulative}`;
      });
      return [
        ...rows,
        `edge_request_duration_ms_sum{${ids(s)}} ${s.latencySumMs}`,
        `edge_request_duration_ms_count{${ids(s)}} ${cumulative}`,
      ];
    }),
  );
  block(
    'edge_bytes_total',
    'counter',
    'Body bytes, by direction.',
    series.flatMap((s) => [
      `edge_bytes_total{${ids(s)},direction="in"} ${s.bytesIn}`,
      `edge_bytes_total{${ids(s)},direction="out"} ${s.bytesOut}`,
    ]),
  );
  block(
    'edge_in_flight',
    'gauge',
    'Requests in flight to the app.',
    apps.map((a) => `edge_in_flight{${ids(a)}} ${a.inFlight}`),
  );
  block(
    'edge_requests_per_second',
    'gauge',
    'Requests per second to the app over the last 10 s.',
    apps.map((a) => `edge_requests_per_second{${ids(a)}} ${a.requestsPerSecond}`),
  );
  return `${lines.join('\n')}\n`;
}
