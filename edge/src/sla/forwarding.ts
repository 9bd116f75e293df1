import { type Env, intSetting } from '../env';
import { edgeLog } from '../log';
import { errorResponse, Problem, type ProblemKind } from '../problem';
import { routeResolver } from '../routing';
import type { Grant } from './admission';
import type { Outcome } from './breaker';
import { breakerClient, clusterCircuit, countRequest, reportCircuit } from './circuit';
import { flushWhenDue } from './flush';
import { scalePolicies, setRateLimitHeaders } from './headers';
import { metricsRecorder } from './metrics';
import { limiterStub, releaseSoon } from './reservations';

/** Sends the request upstream (the proxy), with the URL it should use. */
export type Forward = (request: Request, url: URL) => Promise<Response>;

const UPSTREAM_FAILURES = new Set<ProblemKind>(['upstream-timeout', 'upstream-unreachable']);
/**
 * Answers that say the cluster (its ingress), not the app, failed: Envoy's gateway failures, but for
 * 503, which an ingress answers for an app that has no ready replica yet (starting, or waking from
 * zero): that is not a failure and must not hold the app back once it is ready.
 */
const GATEWAY_FAILURES = new Set([502, 504]);

/** How the breaker counts an upstream outcome: a gateway failure, the app's own 5xx, or neither. */
function outcomeKind(status: number): Outcome['kind'] | null {
  if (GATEWAY_FAILURES.has(status)) return 'gateway';
  if (status === 503) return null; // not ready: neither a failure nor proof of health
  return status >= 500 ? 'app' : 'ok';
}

/** An admitted request on its way upstream, with what is needed to account for it. */
export interface Forwarding {
  /** The request to forward (without the subscription key) and its URL. */
  request: Request;
  url: URL;
  env: Env;
  ctx: ExecutionContext;
  requestId: string;
  org: string;
  app: string;
  /** The caller's name in metrics. */
  label: string;
  grant: Grant;
  /** When the edge got the request (ms since the epoch). */
  started: number;
  forward: Forward;
}

/**
 * Reports an outcome to the app's circuit (its own 5xx only when its route opts in) and to its org
 * cluster's (gateway failures only; anything else the cluster answered is a success there).
 */
async function reportOutcome(env: Env, org: string, app: string, outcome: Outcome): Promise<void> {
  let appErrors: Parameters<typeof reportCircuit>[3];
  if (outcome.kind === 'app') {
    const route = await routeResolver.resolve(env.ROUTES, org, app, intSetting(env.ROUTE_CACHE_TTL_MS, 5_000));
    if (route.kind === 'upstream') appErrors = route.appErrors;
  }
  await Promise.all([
    reportCircuit(env, `${org}/${app}`, outcome, appErrors),
    reportCircuit(env, clusterCircuit(org), {
      kind: outcome.kind === 'gateway' ? 'gateway' : 'ok',
      client: outcome.client,
      source: app,
    }),
  ]);
}

/** Forwards the request and reports the outcome to the circuits; a failure to forward becomes a problem response. */
async function callUpstream(f: Forwarding): Promise<Response> {
  let response: Response;
  let kind: Outcome['kind'] | null;
  try {
    response = await f.forward(f.request, f.url);
    kind = outcomeKind(response.status);
  } catch (err) {
    response = errorResponse(err, f.url.pathname, f.requestId);
    response.headers.set('x-request-id', f.requestId);
    kind = err instanceof Problem && UPSTREAM_FAILURES.has(err.init.kind) ? 'gateway' : null;
  }
  if (kind !== null) await reportOutcome(f.env, f.org, f.app, { kind, client: breakerClient(f.request.headers) });
  return response;
}

/**
 * What ends the request once its body is sent: the request leaves the in-flight metric, its slot
 * goes back to the limiter and its bytes count against the quota (when the grant holds either).
 */
function releaser(f: Forwarding, bytesIn: number): (bytesOut: number) => void {
  const { org, app, ctx, requestId } = f;
  const { limiterName: name, quotaPeriod } = f.grant;
  const lease = f.grant.decision?.lease;
  const limiter = f.env.SLA_LIMITER;
  return (bytesOut: number) => {
    metricsRecorder.ended(org, app);
    if (name === undefined || limiter === undefined || (lease === undefined && quotaPeriod === undefined)) return;
    if (lease !== undefined && quotaPeriod === undefined) {
      ctx.waitUntil(releaseSoon(limiter, name, lease));
      return;
    }
    ctx.waitUntil(
      limiterStub(limiter, name)
        .release(lease ?? null, bytesIn + bytesOut, quotaPeriod)
        .catch((err: unknown) => {
          edgeLog.warn('slot release failed', { requestId, org, app, error: String(err) });
        }),
    );
  };
}

/**
 * Forwards an admitted request and accounts for it: circuits, rate-limit headers, metrics, and the
 * slot's release (and the bytes' count) once the response body has been sent or the client has gone.
 */
export async function forwardAndAccount(f: Forwarding): Promise<Response> {
  const { org, app, grant } = f;
  metricsRecorder.started(org, app);
  countRequest(`${org}/${app}`);
  const response = await callUpstream(f);
  if (grant.decision !== undefined) {
    setRateLimitHeaders(response.headers, scalePolicies(grant.decision.policies, grant.shards, grant.whole));
  }
  const bytesIn = Number(f.request.headers.get('content-length')) || 0;
  // No Content-Length (chunked, streamed): the body is counted as it passes, never taken as 0.
  const lengthHeader = response.headers.get('content-length');
  const known = lengthHeader === null ? Number.NaN : Number(lengthHeader);
  const bytesOut = Number.isFinite(known) ? known : 0;
  metricsRecorder.answered(org, app, f.label, response.status, Date.now() - f.started, bytesIn, bytesOut);
  const release = releaser(f, bytesIn);
  flushWhenDue(f.env, f.ctx);
  const countBytes = grant.quotaPeriod !== undefined;
  if (grant.decision?.lease === undefined && !countBytes) {
    // Nothing waits for the body's end: let it pass untouched (measured: watching costs ~10%).
    release(0);
    return response;
  }
  return watchBody(response, f.ctx, Number.isFinite(known) && known >= 0 ? known : undefined, countBytes, release);
}

/**
 * Calls `done` once the response body has been sent to the client, or the client has gone away
 * (the stream is cancelled, the pipe fails), with the body's size: known, or counted as it passes.
 */
function watchBody(
  response: Response,
  ctx: ExecutionContext,
  known: number | undefined,
  count: boolean,
  done: (bytes: number) => void,
): Response {
  const body = response.body;
  if (body === null) {
    done(0);
    return response;
  }
  let bytes = 0;
  const pipe =
    known !== undefined || !count
      ? new IdentityTransformStream()
      : new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            bytes += chunk.byteLength;
            controller.enqueue(chunk);
          },
        });
  ctx.waitUntil(
    body.pipeTo(pipe.writable as WritableStream<Uint8Array>).then(
      () => done(known ?? bytes),
      () => done(known ?? bytes),
    ),
  );
  return new Response(pipe.readable, response);
}
