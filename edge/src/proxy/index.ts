import type { Context } from 'hono';
import { type EdgeEnv, intSetting } from '../env';
import { Problem } from '../problem';
import { routeResolver } from '../routing';
import { isDnsLabel } from '../routing/schema';
import { appendVia, setForwarding, stripHopByHop, viaNames } from './headers';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CACHE_TTL_MS = 5_000;
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * Reverse proxy of `/{org}/{app}/...` to `{clusterBase}/{org}/{app}/...`: resolves the route,
 * rewrites the headers by RFC 9110's rules, streams both bodies, and maps upstream failures to
 * 504 (no response headers in time) or 502 (no connection).
 */
export async function proxyToApp(c: Context<EdgeEnv>): Promise<Response> {
  const org = c.req.param('org') ?? '';
  const app = c.req.param('app') ?? '';
  if (!isDnsLabel(org) || !isDnsLabel(app)) {
    throw new Problem({ status: 404, kind: 'route-not-found', title: 'Not found', detail: 'No app at this path.' });
  }
  const pseudonym = c.env.EDGE_NAME ?? 'altinn-edge';
  if (viaNames(c.req.header('via') ?? null, pseudonym)) {
    throw new Problem({
      status: 508,
      kind: 'proxy-loop',
      title: 'Loop detected',
      detail: `The request has already passed through ${pseudonym}.`,
    });
  }

  const ttl = intSetting(c.env.ROUTE_CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS);
  const route = await routeResolver.resolve(c.env.ROUTES, org, app, ttl);
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

  const incoming = new URL(c.req.url);
  const target = `${route.clusterBase}${incoming.pathname}${incoming.search}`;
  const headers = new Headers(c.req.raw.headers);
  stripHopByHop(headers);
  setForwarding(headers, {
    ip: c.req.header('cf-connecting-ip'),
    proto: incoming.protocol.slice(0, -1),
    host: incoming.host,
  });
  headers.delete('cf-connecting-ip');
  headers.delete('host');
  headers.set('x-request-id', c.get('requestId'));
  appendVia(headers, pseudonym);

  const timeoutMs = intSetting(c.env.UPSTREAM_TIMEOUT_MS, DEFAULT_TIMEOUT_MS);
  const upstream = await fetchWithTimeout(
    target,
    {
      method: c.req.method,
      headers,
      body: c.req.method === 'GET' || c.req.method === 'HEAD' ? null : c.req.raw.body,
      redirect: 'manual',
    },
    timeoutMs,
    `${org}/${app}`,
  );

  const responseHeaders = new Headers(upstream.headers);
  stripHopByHop(responseHeaders);
  appendVia(responseHeaders, pseudonym);
  return new Response(NULL_BODY_STATUS.has(upstream.status) ? null : upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}

async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number, app: string): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    console.warn(JSON.stringify({ level: 'warn', msg: 'upstream failed', app, timedOut, reason }));
    if (timedOut) {
      throw new Problem({
        status: 504,
        kind: 'upstream-timeout',
        title: 'Upstream timeout',
        detail: `The cluster of ${app} did not answer within ${timeoutMs} ms.`,
      });
    }
    throw new Problem({
      status: 502,
      kind: 'upstream-unreachable',
      title: 'Bad gateway',
      detail: `The cluster of ${app} could not be reached.`,
    });
  } finally {
    clearTimeout(timer);
  }
}
