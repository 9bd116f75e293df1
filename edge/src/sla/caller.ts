import type { Env } from '../env';
import { Problem } from '../problem';
import { metricsRecorder } from './metrics';
import type { Consumer } from './schema';
import { hashKey, policyCache } from './store';
import { tokenCaller } from './token';

/** Header and query parameter that carry a subscription key, as in Azure API Management. */
export const KEY_HEADER = 'ocp-apim-subscription-key';
export const KEY_QUERY = 'subscription-key';

/** The `www-authenticate` challenge of a refused subscription key. */
export const KEY_CHALLENGE = { 'www-authenticate': 'SubscriptionKey header="Ocp-Apim-Subscription-Key"' };

/** Who is calling, as the SLA sees them. */
export interface Caller {
  /** The caller's name in metrics: its consumer id, a token's consumer id, or `anonymous`. */
  label: string;
  /** The consumer whose plan applies; null for an anonymous caller or an unknown token consumer. */
  consumer: Consumer | null;
  /** The caller's limiter key (`c:{consumer}`, `t:{token consumer}`); undefined: limited per client IP. */
  limiterKey: string | undefined;
  /** The request to forward: the same, but without the subscription key header. */
  request: Request;
}

/** The caller identified, or the problem of a bad subscription key (already counted in metrics). */
export type Identified = { ok: true; caller: Caller } | { ok: false; label: string; problem: Problem };

/** SHA-256 of keys seen lately, in memory only (never logged): saves a digest per request. */
const keyHashes = new Map<string, string>();

/** The consumer of a subscription key; `given` false when the request carries none. */
async function consumerByKey(
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

/** The request without its subscription key (the query parameter is removed from `url` in place). */
function withoutKey(request: Request, url: URL): Request {
  if (url.search !== '') url.searchParams.delete(KEY_QUERY);
  if (!request.headers.has(KEY_HEADER)) return request;
  const headers = new Headers(request.headers);
  headers.delete(KEY_HEADER);
  return new Request(request, { headers });
}

/**
 * Identifies the caller of `org/app`: a consumer by subscription key (header, else query), else
 * by a platform token's consumer when `PLATFORM_JWKS` is set, else anonymous. A given but unknown
 * or empty key is refused with 401.
 */
export async function identifyCaller(
  request: Request,
  url: URL,
  env: Env,
  ttl: number,
  target: { org: string; app: string },
): Promise<Identified> {
  const byKey = await consumerByKey(request, url, env, ttl);
  if (!byKey.valid) {
    const label = 'invalid-key';
    metricsRecorder.rejected(target.org, target.app, label, 'auth');
    const problem = new Problem({
      status: 401,
      kind: 'subscription-key-invalid',
      title: 'Access denied',
      detail: 'The subscription key is invalid or revoked.',
      headers: { ...KEY_CHALLENGE },
    });
    return { ok: false, label, problem };
  }
  let label = 'anonymous';
  let consumer = byKey.consumer;
  let limiterKey = consumer === null ? undefined : `c:${consumer.id}`;
  if (consumer === null && !byKey.keyGiven && env.PLATFORM_JWKS !== undefined) {
    const byToken = await tokenCaller(request.headers, env.PLATFORM_JWKS);
    if (byToken !== null) {
      label = byToken.id;
      consumer = await policyCache.consumer(env.ROUTES, byToken.id, ttl);
      limiterKey = consumer === null ? `t:${byToken.id}` : `c:${consumer.id}`;
    }
  }
  if (consumer !== null) label = consumer.id;
  const forwarded = byKey.keyGiven ? withoutKey(request, url) : request;
  return { ok: true, caller: { label, consumer, limiterKey, request: forwarded } };
}
