import { type Env, intSetting } from '../env';
import { edgeLog } from '../log';
import { Problem } from '../problem';
import { routeResolver } from '../routing';
import { isDnsLabel } from '../routing/schema';
import { dropFields, REQUEST_DROPPED, RESPONSE_DROPPED, setForwarding, viaNames, viaWith } from './headers';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CACHE_TTL_MS = 5_000;
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/** The org and app an app path names. */
export interface AppTarget {
  org: string;
  app: string;
}

/**
 * The org and app of a path shaped `/{org}/{app}` or `/{org}/{app}/...`, or null for any other
 * shape. Paths whose first segment starts with `_` belong to the edge itself (`/_edge`, `/_egress`).
 */
export function appTargetOf(pathname: string): AppTarget | null {
  const orgEnd = pathname.indexOf('/', 1);
  if (orgEnd <= 1 || pathname.charCodeAt(1) === 95 /* _ */) return null;
  const appEnd = pathname.indexOf('/', orgEnd + 1);
  const app = appEnd === -1 ? pathname.slice(orgEnd + 1) : pathname.slice(orgEnd + 1, appEnd);
  if (app === '') return null;
  return { org: pathname.slice(1, orgEnd), app };
}

/**
 * Reverse proxy of `/{org}/{app}/...` to `{clusterBase}/{org}/{app}/...`: resolves the route,
 * rewrites the headers by RFC 9110's rules, streams both bodies, and maps upstream failures to
 * 504 (no response headers in time) or 502 (no connection). Refusals are thrown as problems.
 */
export async function proxyToApp(
  request: Request,
  url: URL,
  target: AppTarget,
  env: Env,
  requestId: string,
): Promise<Response> {
  const { org, app } = target;
  if (!isDnsLabel(org) || !isDnsLabel(app)) {
    throw new Problem({ status: 404, kind: 'route-not-found', title: 'Not found', detail: 'No app at this path.' });
  }
  const pseudonym = env.EDGE_NAME ?? 'altinn-edge';
  if (viaNames(request.headers.get('via'), pseudonym)) {
    throw new Problem({
      status: 508,
      kind: 'proxy-loop',
      title: 'Loop detected',
      detail: `The request has already passed through ${pseudonym}.`,
    });
  }

  const ttl = intSetting(env.ROUTE_CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS);
  const route = await routeResolver.resolve(env.ROUTES, org, app, ttl);
  if (route.kind === 'unknown') {
    throw new Problem({
      status: 404,
      kind: 'route-not-found',
      title: 'Not found',
      detail: route.reason === 'org' ? `No cluster serves org ${org}.` : `No app ${app} in org ${org}.`,
    });
  }
  if (route.kind === 'disabled') {
    throw new Problem({
      status: 503,
      kind: 'app-disabled',
      title: 'App unavailable',
      detail: `${org}/${app} is disabled; try again later.`,
      headers: { 'retry-after': String(route.retryAfterSeconds) },
    });
  }

  const headers = new Headers(request.headers);
  dropFields(headers, REQUEST_DROPPED);
  setForwarding(headers, {
    ip: request.headers.get('cf-connecting-ip') ?? undefined,
    proto: url.protocol.slice(0, -1),
    host: url.host,
  });
  headers.set('x-request-id', requestId);
  headers.set('via', viaWith(request.headers.get('via'), pseudonym));

  const timeoutMs = intSetting(env.UPSTREAM_TIMEOUT_MS, DEFAULT_TIMEOUT_MS);
  const outgoing = timedBody(request, timeoutMs);
  let upstream: Response;
  try {
    upstream = await fetch(`${route.clusterBase}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: outgoing.body,
      redirect: 'manual',
      signal: outgoing.signal,
    });
  } catch (err) {
    throw upstreamFailure(err, outgoing.signal.aborted, timeoutMs, `${org}/${app}`, requestId);
  } finally {
    outgoing.headersArrived();
  }

  const response = new Response(NULL_BODY_STATUS.has(upstream.status) ? null : upstream.body, upstream);
  dropFields(response.headers, RESPONSE_DROPPED);
  response.headers.set('via', viaWith(upstream.headers.get('via'), pseudonym));
  response.headers.set('x-request-id', requestId);
  return response;
}

/** A request body on its way upstream, and the signal that ends the wait for response headers. */
interface TimedBody {
  body: ReadableStream | null;
  signal: AbortSignal;
  /** Stops a timer that has not started yet from starting. */
  headersArrived(): void;
}

/**
 * The upstream timeout runs from the moment the whole request has been sent until the response
 * headers arrive (as Envoy's route timeout does), so a slow client upload is not cut off as if
 * the cluster were slow. Without a body that moment is now (a timer cleared when the headers arrive).
 * A body is piped through a stream (of fixed length when `Content-Length` is known, so that the
 * upstream still gets it) whose end starts the clock. workerd applies a fetch's signal until the
 * response headers arrive; the response body may stream for longer (tested).
 */
function timedBody(request: Request, timeoutMs: number): TimedBody {
  const method = request.method;
  if (request.body === null || method === 'GET' || method === 'HEAD') {
    // A signal that fires after the headers arrived errors the body as soon as JS reads it (the SLA
    // layer pipes it to see its end), so the timer is cleared once the headers are in.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('upstream timeout', 'TimeoutError')), timeoutMs);
    return { body: null, signal: controller.signal, headersArrived: () => clearTimeout(timer) };
  }
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let answered = false;
  const length = Number(request.headers.get('content-length') ?? Number.NaN);
  const pipe = Number.isSafeInteger(length) && length >= 0 ? new FixedLengthStream(length) : new TransformStream();
  request.body.pipeTo(pipe.writable).then(
    () => {
      if (!answered) timer = setTimeout(() => controller.abort(), timeoutMs);
    },
    () => {
      // The client went away or the upstream stopped reading: the fetch fails on its own.
    },
  );
  return {
    body: pipe.readable,
    signal: controller.signal,
    headersArrived: () => {
      answered = true;
      clearTimeout(timer);
    },
  };
}

/** The problem to answer when the upstream fetch failed: 504 if it timed out, else 502 (logged either way). */
function upstreamFailure(err: unknown, timedOut: boolean, timeoutMs: number, app: string, requestId: string): Problem {
  const reason = err instanceof Error ? err.message : String(err);
  edgeLog.warn('upstream failed', { requestId, app, timedOut, reason });
  if (timedOut) {
    return new Problem({
      status: 504,
      kind: 'upstream-timeout',
      title: 'Upstream timeout',
      detail: `The cluster of ${app} did not answer within ${timeoutMs} ms.`,
    });
  }
  return new Problem({
    status: 502,
    kind: 'upstream-unreachable',
    title: 'Bad gateway',
    detail: `The cluster of ${app} could not be reached.`,
  });
}
