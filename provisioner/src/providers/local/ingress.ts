import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBLEM_CONTENT_TYPE, type ProblemKind, problemBody } from '../../../../contracts/problems.js';
import type { Replica } from './replica.js';

/** Where the ingress finds an app's replicas. */
export interface IngressBackends {
  /** The replicas of `app` (all of them; the ingress picks serving ones), or undefined for an unknown app. */
  replicasOf(app: string): Replica[] | undefined;
}

/** Headers that belong to one connection and are never forwarded (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Methods a request may be sent twice with (RFC 9110 9.2.2), when a replica failed before answering. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Copies headers without hop-by-hop ones (also those the Connection header names). */
export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function sendProblem(
  res: http.ServerResponse,
  status: number,
  kind: ProblemKind,
  title: string,
  detail: string,
  instance: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problemBody(kind, { status, title, detail, instance }));
  res.writeHead(status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** A path segment decoded, or undefined when it is not valid percent-encoding. */
function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A running org ingress. */
export interface OrgIngress {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** One ingress: its org, backends, upstream connection pool and round-robin cursors. */
interface Ingress {
  org: string;
  backends: IngressBackends;
  agent: http.Agent;
  cursor: Map<string, number>;
}

/** One request being routed, with the replicas tried so far. */
interface Attempt extends Ingress {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: string;
  path: string;
  app: string;
  replicas: Replica[];
  hasBody: boolean;
  headers: http.OutgoingHttpHeaders;
  tried: Set<Replica>;
}

/** The ready replica to try next: least in-flight requests first, round robin among equals. */
function pick(cursor: Map<string, number>, app: string, replicas: Replica[], tried: Set<Replica>): Replica | undefined {
  const serving = replicas.filter((r) => r.serving && !tried.has(r));
  if (serving.length === 0) return undefined;
  const start = (cursor.get(app) ?? 0) % serving.length;
  cursor.set(app, start + 1);
  let best: Replica | undefined;
  for (let i = 0; i < serving.length; i++) {
    const candidate = serving[(start + i) % serving.length]!;
    if (!best || candidate.inflight < best.inflight) best = candidate;
  }
  return best;
}

/**
 * Sends the request to the next untried ready replica; a connection failure before any answer tries the next one
 * when that is safe (see startOrgIngress). Answers 503 when no replica is ready, 502 when none answered.
 */
function attempt(x: Attempt): void {
  const { req, res, url, path, org, app, replicas, hasBody, headers, tried } = x;
  const replica = pick(x.cursor, app, replicas, tried);
  if (!replica || replica.port === null) {
    if (tried.size === 0) {
      sendProblem(res, 503, 'unavailable', 'Service unavailable', `${org}/${app} has no ready replica`, path, {
        'retry-after': '1',
      });
    } else {
      sendProblem(res, 502, 'bad-gateway', 'Bad gateway', `No replica of ${org}/${app} answered`, path);
    }
    return;
  }
  tried.add(replica);
  replica.inflight++;
  let finished = false;
  const done = () => {
    if (finished) return;
    finished = true;
    replica.inflight--;
  };
  let bodySent = false;
  let answered = false;
  // A request with a body asks the replica for `100 Continue` and sends the body only then: a replica that
  // failed before (died, or its kept-alive connection was gone) never started the request (Node emits
  // 'request' after sending 100), so it is replayed on another one without running anything twice.
  const upstream = http.request(
    {
      host: '127.0.0.1',
      port: replica.port,
      method: req.method,
      path: url,
      headers: hasBody ? { ...headers, expect: '100-continue' } : headers,
      agent: x.agent,
    },
    (upstreamRes) => {
      answered = true;
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
      upstreamRes.pipe(res);
      upstreamRes.on('end', done);
      upstreamRes.on('error', () => {
        done();
        res.destroy();
      });
    },
  );
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    done();
    if (answered) {
      res.destroy();
      return;
    }
    const refused = error.code === 'ECONNREFUSED';
    if (refused) replica.connectFailed();
    // A body not sent yet: the replica never started the request. A bodyless one was refused (nothing reached
    // the replica) or may run twice (idempotent).
    const replayable = hasBody ? !bodySent : refused || IDEMPOTENT.has(req.method ?? 'GET');
    if (replayable) {
      attempt(x);
      return;
    }
    sendProblem(res, 502, 'bad-gateway', 'Bad gateway', `The replica of ${org}/${app} failed: ${error.code}`, path);
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
    done();
  });
  // A client that goes away mid-body ends the upstream request too.
  req.on('error', () => upstream.destroy());
  if (!hasBody) {
    upstream.end();
    return;
  }
  // The body goes once the replica asks for it; until then only the headers are on their way.
  upstream.once('continue', () => {
    bodySent = true;
    req.pipe(upstream);
  });
  upstream.flushHeaders();
}

/** Routes one request of the ingress to a ready replica of its app (404 for an unknown app). */
function route(ingress: Ingress, req: http.IncomingMessage, res: http.ServerResponse): void {
  const { org, backends } = ingress;
  const url = req.url ?? '/';
  const path = url.split('?')[0]!;
  const [, first, app] = path.split('/');
  const name = app ? safeDecode(app) : undefined;
  const replicas = first === org && name ? backends.replicasOf(name) : undefined;
  if (!replicas) {
    sendProblem(res, 404, 'not-found', 'Not found', `No app serves ${path} in ${org}'s cluster`, path);
    return;
  }
  const hasBody =
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
    req.headers['transfer-encoding'] !== undefined;
  const headers = endToEndHeaders(req.headers);
  const tried = new Set<Replica>();
  attempt({ ...ingress, req, res, url, path, app: app ?? '', replicas, hasBody, headers, tried });
}

/**
 * One org cluster's ingress: a reverse proxy on loopback that routes `/{org}/{app}/...` to the app's ready
 * replicas, least in-flight requests first and round robin among equals, streaming bodies both ways over
 * keep-alive connections. Unknown apps answer 404 and apps without a ready replica 503 with Retry-After, as
 * problem+json. A request whose connection fails before any answer is retried once per other ready replica
 * when that is safe: a request with a body whose replica had not yet asked for the body (`Expect: 100-continue`:
 * the replica had not started it), a bodyless one whose connection was refused (nothing was sent), or an
 * idempotent bodyless one (Envoy's `connect-failure` and `reset` retries).
 */
export async function startOrgIngress(options: {
  org: string;
  hostname: string;
  backends: IngressBackends;
  /** Port to listen on when free (else any free port); any free port when absent. */
  port?: number;
}): Promise<OrgIngress> {
  const { org, backends } = options;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 30_000 });
  const cursor = new Map<string, number>();

  const ingress: Ingress = { org, backends, agent, cursor };
  const server = http.createServer((req, res) => route(ingress, req, res));
  server.keepAliveTimeout = 65_000;

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.hostname, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  let port: number;
  try {
    port = await listen(options.port ?? 0);
  } catch (error) {
    // The port asked for (the one the org had before a restart) is taken: any free port will do.
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.port) throw error;
    port = await listen(0);
  }
  return {
    url: `http://${options.hostname}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
