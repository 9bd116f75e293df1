import { type Env, intSetting } from '../env';
import { errorResponse, Problem, type ProblemKind } from '../problem';
import type { AppTarget } from '../proxy';
import { routeResolver } from '../routing';
import type { Outcome } from './breaker';
import { breakerClient, checkCircuit, clusterCircuit, countRequest, reportCircuit } from './circuit';
import { scalePolicies, setRateLimitHeaders } from './headers';
import type { Decision } from './limiter';
import { metricsRecorder, type Rejection } from './metrics';
import { DEFAULT_SLOT_TIMEOUT_S, effectiveLimits, limitsAnything, shardAdmission, wholeLimits } from './policy';
import {
  endedSlots,
  keepReserved,
  limiterStub,
  RESERVATION_HOLD_MS,
  releaseSoon,
  takeReserved,
  withTimeout,
} from './reservations';
import type { Consumer, Plan } from './schema';
import { hashKey, policyCache } from './store';
import { tokenCaller } from './token';

/** Header and query parameter that carry a subscription key, as in Azure API Management. */
export const KEY_HEADER = 'ocp-apim-subscription-key';
export const KEY_QUERY = 'subscription-key';

const DEFAULT_CACHE_TTL_MS = 5_000;
/** How long a limiter may take to decide before it counts as unreachable (then the plan's fail mode applies). */
const DEFAULT_LIMITER_TIMEOUT_MS = 1_000;

const METRICS_FLUSH_MS = 1_000;
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

/** Sends the request upstream (the proxy), with the URL it should use. */
export type Forward = (request: Request, url: URL) => Promise<Response>;

function refuse(
  status: number,
  kind: ProblemKind,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Problem {
  return new Problem({ status, kind, title, detail, headers });
}

/** SHA-256 of keys seen lately, in memory only (never logged): saves a digest per request. */
const keyHashes = new Map<string, string>();

/** Who is calling: a consumer by key, or an anonymous end user; null when the key is bad. */
async function callerOf(
  request: Request,
  url: URL,
  env: Env,
  ttl: number,
): Promise<{ consumer: Consumer | null; keyGiven: boolean; valid: boolean }> {
  let key = request.headers.get(KEY_HEADER);
  if (key === null && url.search !== '') key = url.searchParams.get(KEY_QUERY);
  if (key === null) return { consumer: null, keyGiven: false, valid: true };
  if (key === '') return { consumer: null, keyGiven: true, valid: false };
  let hash = keyHashes.get(key);
  if (hash === undefined) {
    hash = await hashKey(key);
    if (keyHashes.size >= 10_000) keyHashes.clear();
    keyHashes.set(key, hash);
  }
  const consumer = await policyCache.consumerByKeyHash(env.ROUTES, hash, ttl);
  return { consumer, keyGiven: true, valid: consumer !== null };
}

/**
 * Holds a request for `/{org}/{app}/...` to its caller's plan, then forwards it: identifies the
 * caller (subscription key, else client IP per app), asks its limiter once for rate, quota and a
 * concurrency slot together, checks the app's circuit, and records metrics. The slot is released
 * when the response body has been sent or the client has gone. Never throws: refusals and
 * failures come back as problem responses.
 */
export async function enforce(
  request: Request,
  url: URL,
  target: AppTarget,
  env: Env,
  ctx: ExecutionContext,
  requestId: string,
  forward: Forward,
): Promise<Response> {
  const { org, app } = target;
  const started = Date.now();
  let consumerLabel = 'anonymous';
  let decision: Decision | undefined;
  let shards = 1;
  let whole = new Map<string, number>();
  let limiterName: string | undefined;
  let quotaPeriod: 'day' | 'month' | undefined;
  let countBytes = false;
  try {
    const ttl = intSetting(env.SLA_CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS);
    const caller = await callerOf(request, url, env, ttl);
    if (!caller.valid) {
      consumerLabel = 'invalid-key';
      metricsRecorder.rejected(org, app, consumerLabel, 'auth');
      throw refuse(401, 'subscription-key-invalid', 'Access denied', 'The subscription key is invalid or revoked.', {
        'www-authenticate': 'SubscriptionKey header="Ocp-Apim-Subscription-Key"',
      });
    }
    let consumer = caller.consumer;
    let limiterKey = consumer === null ? undefined : `c:${consumer.id}`;
    if (consumer === null && !caller.keyGiven && env.PLATFORM_JWKS !== undefined) {
      const byToken = await tokenCaller(request.headers, env.PLATFORM_JWKS);
      if (byToken !== null) {
        consumerLabel = byToken.id;
        consumer = await policyCache.consumer(env.ROUTES, byToken.id, ttl);
        limiterKey = consumer === null ? `t:${byToken.id}` : `c:${consumer.id}`;
      }
    }
    if (consumer !== null) consumerLabel = consumer.id;
    if (caller.keyGiven) {
      if (url.search !== '') url.searchParams.delete(KEY_QUERY);
      if (request.headers.has(KEY_HEADER)) {
        const headers = new Headers(request.headers);
        headers.delete(KEY_HEADER);
        request = new Request(request, { headers });
      }
    }

    // the app's circuit, then its org cluster's: each opens on its own failures
    const upstreams: [upstream: string, what: string][] = [
      [`${org}/${app}`, `${org}/${app} is failing`],
      [clusterCircuit(org), `the cluster of ${org} is failing`],
    ];
    for (const [upstream, what] of upstreams) {
      const circuit = await checkCircuit(env, upstream);
      if (circuit !== null && !circuit.allowed) {
        metricsRecorder.rejected(org, app, consumerLabel, 'circuit');
        throw refuse(503, 'circuit-open', 'Service unavailable', `${what}; the edge is holding requests back.`, {
          'retry-after': String(circuit.retryAfterSeconds ?? 1),
        });
      }
    }

    const defaultPlan = env.SLA_DEFAULT_PLAN ?? 'default';
    let plan: Plan | null = null;
    if (consumer?.plan !== undefined) plan = await policyCache.plan(env.ROUTES, consumer.plan, ttl);
    if (plan === null) plan = await policyCache.plan(env.ROUTES, defaultPlan, ttl);

    if (plan !== null && env.SLA_LIMITER !== undefined) {
      const { limits, overridden } = effectiveLimits(plan, org, app);
      if (consumer === null && limits.requireSubscription) {
        metricsRecorder.rejected(org, app, consumerLabel, 'auth');
        throw refuse(
          401,
          'subscription-required',
          'Access denied',
          `${org}/${app} needs a subscription key: send it in Ocp-Apim-Subscription-Key.`,
          {
            'www-authenticate': 'SubscriptionKey header="Ocp-Apim-Subscription-Key"',
          },
        );
      }
      if (limitsAnything(limits)) {
        shards = plan.shards ?? 1;
        const shard = shards === 1 ? 0 : Math.floor(Math.random() * shards);
        const key =
          limiterKey === undefined
            ? `ip:${org}/${app}:${request.headers.get('cf-connecting-ip') ?? 'unknown'}`
            : `${limiterKey}${overridden ? `@${org}/${app}` : ''}`;
        limiterName = `${key}#${shard}`;
        quotaPeriod = limits.quota?.bytes === undefined ? undefined : limits.quota.period;
        countBytes = quotaPeriod !== undefined;
        whole = wholeLimits(limits);
        const slotTimeoutMs = (plan.slotTimeoutSeconds ?? DEFAULT_SLOT_TIMEOUT_S) * 1000;
        const batch = limits.concurrency === undefined ? (plan.batch ?? 1) : 1;
        try {
          if (batch > 1) decision = takeReserved(limiterName, Date.now());
          if (decision === undefined) {
            const admission = shardAdmission(limits, shards, shard, slotTimeoutMs);
            if (batch > 1) {
              admission.want = batch;
              admission.holdMs = RESERVATION_HOLD_MS;
            }
            const ended = endedSlots.get(limiterName);
            if (ended !== undefined) {
              endedSlots.delete(limiterName);
              admission.release = ended;
            }
            const sent = Date.now();
            try {
              decision = await withTimeout(
                limiterStub(env.SLA_LIMITER, limiterName).admit(admission),
                intSetting(env.SLA_LIMITER_TIMEOUT_MS, DEFAULT_LIMITER_TIMEOUT_MS),
              );
            } catch (err) {
              // The slots that rode along were not released: keep them for the next call (release is idempotent).
              if (ended !== undefined) endedSlots.set(limiterName, [...(endedSlots.get(limiterName) ?? []), ...ended]);
              throw err;
            }
            if (batch > 1) decision = keepReserved(limiterName, decision, sent);
          }
        } catch (err) {
          const failMode = plan.failMode ?? 'open';
          console.warn(
            JSON.stringify({
              level: 'warn',
              msg: 'limiter unreachable',
              requestId,
              org,
              app,
              plan: plan.id,
              failMode,
              error: err instanceof Error ? err.message : String(err),
            }),
          );
          limiterName = undefined;
          if (failMode === 'closed') {
            metricsRecorder.rejected(org, app, consumerLabel, 'limiter');
            throw refuse(
              503,
              'limiter-unavailable',
              'Service unavailable',
              'The rate limiter cannot be reached; try again shortly.',
              { 'retry-after': '1' },
            );
          }
        }
        if (decision !== undefined && !decision.allowed)
          throw rejection(decision, shards, whole, org, app, consumerLabel);
      }
    }
  } catch (err) {
    const res = errorResponse(err, url.pathname, requestId);
    res.headers.set('x-request-id', requestId);
    if (decision !== undefined) setRateLimitHeaders(res.headers, scalePolicies(decision.policies, shards, whole));
    metricsRecorder.answered(org, app, consumerLabel, res.status, Date.now() - started, 0, 0);
    flushWhenDue(env, ctx);
    return res;
  }

  metricsRecorder.started(org, app);
  const appCircuit = `${org}/${app}`;
  countRequest(appCircuit);
  let response: Response;
  let kind: Outcome['kind'] | null;
  try {
    response = await forward(request, url);
    kind = outcomeKind(response.status);
  } catch (err) {
    response = errorResponse(err, url.pathname, requestId);
    response.headers.set('x-request-id', requestId);
    kind = err instanceof Problem && UPSTREAM_FAILURES.has(err.init.kind) ? 'gateway' : null;
  }
  if (kind !== null) await reportOutcome(env, org, app, { kind, client: breakerClient(request.headers) });
  if (decision !== undefined) setRateLimitHeaders(response.headers, scalePolicies(decision.policies, shards, whole));

  const bytesIn = Number(request.headers.get('content-length')) || 0;
  // No Content-Length (chunked, streamed): the body is counted as it passes, never taken as 0.
  const lengthHeader = response.headers.get('content-length');
  const known = lengthHeader === null ? Number.NaN : Number(lengthHeader);
  metricsRecorder.answered(
    org,
    app,
    consumerLabel,
    response.status,
    Date.now() - started,
    bytesIn,
    Number.isFinite(known) ? known : 0,
  );
  const lease = decision?.lease;
  const name = limiterName;
  const limiter = env.SLA_LIMITER;
  const release = (bytesOut: number) => {
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
          console.warn(
            JSON.stringify({ level: 'warn', msg: 'slot release failed', requestId, org, app, error: String(err) }),
          );
        }),
    );
  };
  flushWhenDue(env, ctx);
  if (lease === undefined && !countBytes) {
    // Nothing waits for the body's end: let it pass untouched (measured: watching costs ~10%).
    release(0);
    return response;
  }
  return watchBody(response, ctx, Number.isFinite(known) && known >= 0 ? known : undefined, countBytes, release);
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

function rejection(
  decision: Decision,
  shards: number,
  whole: Map<string, number>,
  org: string,
  app: string,
  consumer: string,
): Problem {
  const reason = decision.reason ?? 'rate';
  metricsRecorder.rejected(org, app, consumer, reason as Rejection);
  const headers: Record<string, string> = { 'retry-after': String(decision.retryAfterSeconds ?? 1) };
  const h = new Headers();
  setRateLimitHeaders(h, scalePolicies(decision.policies, shards, whole));
  for (const [k, v] of h) headers[k] = v;
  if (reason === 'quota') {
    return refuse(
      403,
      'quota-exceeded',
      'Quota exceeded',
      'The call or bandwidth quota of this period is used up.',
      headers,
    );
  }
  if (reason === 'concurrency') {
    return refuse(
      429,
      'concurrency-limited',
      'Too many concurrent requests',
      'Too many requests of this caller are in flight.',
      headers,
    );
  }
  return refuse(
    429,
    'rate-limited',
    'Too many requests',
    'The rate limit is exceeded; retry after the given seconds.',
    headers,
  );
}

function flushWhenDue(env: Env, ctx: ExecutionContext): void {
  if (env.SLA_METRICS === undefined || !metricsRecorder.due(METRICS_FLUSH_MS)) return;
  ctx.waitUntil(flushMetrics(env));
}

/** Hands this isolate's metric deltas to the metrics object. */
export async function flushMetrics(env: Env): Promise<void> {
  if (env.SLA_METRICS === undefined) return;
  const batch = metricsRecorder.take();
  try {
    await env.SLA_METRICS.getByName('edge').ingest(batch);
  } catch (err) {
    console.warn(JSON.stringify({ level: 'warn', msg: 'metrics flush failed', error: String(err) }));
  }
}
