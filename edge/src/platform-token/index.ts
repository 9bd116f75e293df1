import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWKSCacheInput,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwksCache,
  jwtVerify,
} from 'jose';
import { edgeLog } from '../log';

/**
 * The edge's one verifier of platform tokens (the functions host's Authentication API signs them, RS256):
 * the SLA's caller identification and egress's app identity both verify here. The keys come from a JWKS given
 * inline as JSON or as the URL of the host's JWKS endpoint, read with jose's remote JWKS and its cache: fetched
 * when first needed, again after JWKS_TTL_MS, and sooner (at most every REFETCH_MS) when a token names a key
 * not held, as the platform rotates its keys. On Workers jose shares no pending fetch between requests; the
 * cache kept across requests is plain JSON and imported keys.
 */

/** `aud` of the platform's app access tokens (platform/src/auth/tokens.ts). */
export const ACCESS_TOKEN_AUDIENCE = 'urn:altinn-platform:access-token';

/** How long a fetched JWKS is used before it is fetched again. */
const JWKS_TTL_MS = 10 * 60_000;
/** The earliest a token naming a key not held, or a failed fetch, fetches the JWKS again. */
const REFETCH_MS = 30_000;
/** How long the JWKS host may take by default: a request waits for it at most once per REFETCH_MS. */
const JWKS_FETCH_TIMEOUT_MS = 2_000;

/** The JWKS could not be had (fetch failed and no keys are held): the token's fault it is not. */
export class PlatformKeysUnavailable extends Error {
  override name = 'PlatformKeysUnavailable';
}

interface RemoteKeys {
  remote: JWTVerifyGetKey;
  /** jose's cache of the last JWKS fetched (`jwks`, `uat` once fetched): the keys held when a later fetch fails. */
  cache: JWKSCacheInput;
  /** Until when a failed fetch is not tried again. */
  failedUntil: number;
}

/** Key getters by setting (and fetch timeout): values and imported keys, safe to keep across requests. */
const keySets = new Map<string, JWTVerifyGetKey>();

/** Errors about the token (no key of its kid or alg), as opposed to the JWKS not being had. */
function isTokenFault(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWSInvalid
  );
}

function remoteKeys(url: string, timeoutMs: number): JWTVerifyGetKey {
  const state: RemoteKeys = { cache: {}, failedUntil: 0, remote: () => Promise.reject(new Error('unset')) };
  state.remote = createRemoteJWKSet(new URL(url), {
    timeoutDuration: timeoutMs,
    cooldownDuration: REFETCH_MS,
    cacheMaxAge: JWKS_TTL_MS,
    [jwksCache]: state.cache,
  });
  const held = () => ('jwks' in state.cache ? createLocalJWKSet(state.cache.jwks) : undefined);
  return async (header, token) => {
    const keys = held();
    if (Date.now() < state.failedUntil) {
      if (keys === undefined) throw new PlatformKeysUnavailable('the platform JWKS could not be fetched lately');
      return keys(header, token);
    }
    try {
      return await state.remote(header, token);
    } catch (error) {
      if (isTokenFault(error)) throw error;
      edgeLog.warn('platform JWKS unavailable', { url, error: String(error) });
      // try again after REFETCH_MS, not on every request; meanwhile the keys held (if any) still verify
      state.failedUntil = Date.now() + REFETCH_MS;
      if (keys === undefined) throw new PlatformKeysUnavailable(String(error));
      return keys(header, token);
    }
  };
}

/**
 * The key getter for `setting`: inline JWKS JSON, or the URL (http or https) of the platform's JWKS endpoint.
 * Only RS256 keys are used. Throws PlatformKeysUnavailable when a URL's JWKS cannot be had and none is held.
 */
export function platformKeys(setting: string, options: { timeoutMs?: number } = {}): JWTVerifyGetKey {
  const timeoutMs = options.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
  const id = `${timeoutMs} ${setting}`;
  let keys = keySets.get(id);
  if (keys === undefined) {
    keys = /^https?:\/\//i.test(setting)
      ? remoteKeys(setting, timeoutMs)
      : createLocalJWKSet(JSON.parse(setting) as JSONWebKeySet);
    if (keySets.size >= 100) keySets.clear();
    keySets.set(id, keys);
  }
  return keys;
}

/**
 * Verifies a platform token's RS256 signature against `setting`'s keys (see platformKeys) and the claims
 * `options` name; answers its payload. Throws PlatformKeysUnavailable when the keys cannot be had, jose's
 * errors when the token does not verify.
 */
export async function verifyPlatformToken(
  token: string,
  setting: string,
  options: Omit<JWTVerifyOptions, 'algorithms'> & { timeoutMs?: number } = {},
): Promise<JWTPayload> {
  const { timeoutMs, ...verify } = options;
  const keys = platformKeys(setting, timeoutMs === undefined ? {} : { timeoutMs });
  const { payload } = await jwtVerify(token, keys, { ...verify, algorithms: ['RS256'] });
  return payload;
}
