import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EdgeReport } from '../../src/edge/metrics.js';

/** The edge's latency bucket bounds (edge/src/sla/metrics.ts LATENCY_BUCKETS_MS), then +Inf. */
const BOUNDS = ['1', '2', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '+Inf'];

/** One series as the edge reports it; `latencies` are sample times in ms put into the edge's buckets. */
export function edgeSeries(s: {
  org: string;
  app: string;
  consumer?: string;
  latencies: number[];
  status5xx?: number;
  rejections?: Record<string, number>;
}): EdgeReport['series'][number] {
  const counts = BOUNDS.map(() => 0);
  for (const ms of s.latencies) {
    const i = BOUNDS.findIndex((le) => le === '+Inf' || ms <= Number(le));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  const requests = s.latencies.length;
  return {
    org: s.org,
    app: s.app,
    consumer: s.consumer ?? 'anonymous',
    requests,
    status: { '1xx': 0, '2xx': requests - (s.status5xx ?? 0), '3xx': 0, '4xx': 0, '5xx': s.status5xx ?? 0 },
    latencyMs: { buckets: BOUNDS.map((le, i) => ({ le, count: counts[i] ?? 0 })) },
    bytesIn: 10 * requests,
    bytesOut: 100 * requests,
    rejections: s.rejections ?? {},
  };
}

/** A loopback HTTP server standing in for the edge's `GET /_edge/metrics`. */
export interface FakeEdge {
  url: string;
  token: string;
  /** Every request: its path with query and its Authorization header. */
  readonly requests: { path: string; authorization: string | undefined }[];
  /** The report answered; called per request, so figures may change between calls. */
  report: (org: string | undefined) => EdgeReport;
  /** A consumer's quota use for an app (`GET /_edge/consumers/{id}/usage?app=`); null answers 404 (not a consumer). */
  usage: (consumer: string, app: string | null) => Record<string, unknown> | null;
  /** When true, requests are accepted and never answered. */
  hang: boolean;
  close(): Promise<void>;
}

/** Starts a fake edge on 127.0.0.1 answering 401 to any token but `token`. */
export async function startFakeEdge(token = 'fake-edge-admin-token-0123456789'): Promise<FakeEdge> {
  const edge: FakeEdge = {
    url: '',
    token,
    requests: [],
    report: () => ({ series: [], apps: [] }),
    usage: () => null,
    hang: false,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    edge.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (edge.hang) return;
    const url = new URL(req.url ?? '/', 'http://edge.test');
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/problem+json' }).end('{"status":401}');
      return;
    }
    const usage = /^\/_edge\/consumers\/([^/]+)\/usage$/.exec(url.pathname);
    if (usage) {
      const body = edge.usage(decodeURIComponent(usage[1] ?? ''), url.searchParams.get('app'));
      if (body === null) res.writeHead(404, { 'content-type': 'application/problem+json' }).end('{"status":404}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (url.pathname !== '/_edge/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(edge.report(url.searchParams.get('org') ?? undefined)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  edge.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  edge.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return edge;
}

/** A URL on loopback where nothing listens (a port just freed). */
export async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
