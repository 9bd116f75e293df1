import { type CryptoKey, importJWK, type JWK, jwtVerify } from 'jose';
import { edgeLog } from '../log';

/** `aud` of the platform's app access tokens (platform/src/auth/tokens.ts). */
const ACCESS_TOKEN_AUDIENCE = 'urn:altinn-platform:access-token';

/** Who a verified platform token names: an org (service owner) or a user. */
export interface TokenCaller {
  /** Consumer id it maps to (`org-{org}` or `user-{userId}`): a consumer of that id sets its plan. */
  id: string;
}

interface KeySet {
  /** The setting the keys came from: the JWKS itself, or its URL. */
  source: string;
  keys: Map<string, CryptoKey>;
  /** When a fetched JWKS must be fetched again. */
  expiresAt: number;
  /** The earliest a token naming a key not held may fetch it again. */
  retryAt: number;
}

/** Imported public keys of the configured JWKS (values, not I/O: safe to keep across requests). */
let keySet: KeySet | undefined;
/** Verified tokens until they expire: plain data, so a token is verified once per isolate. */
const verified = new Map<string, { caller: TokenCaller | null; until: number }>();

/** How long a fetched JWKS is used before it is fetched again; a token with an unknown kid refetches after REFETCH_MS. */
const JWKS_TTL_MS = 10 * 60_000;
const REFETCH_MS = 30_000;
/** How long the JWKS host may take: a request waits for it at most once per TTL. */
const JWKS_FETCH_TIMEOUT_MS = 2_000;

/** The JWKS could not be had: tokens are not verified now (and their result is not cached). */
class KeysUnavailable extends Error {}

async function importKeys(jwks: { keys?: (JWK & { kid?: string; alg?: string })[] }): Promise<Map<string, CryptoKey>> {
  const keys = new Map<string, CryptoKey>();
  for (const jwk of jwks.keys ?? []) {
    if (jwk.kty !== 'RSA' || (jwk.alg !== undefined && jwk.alg !== 'RS256')) continue;
    const key = await importJWK({ ...jwk, alg: 'RS256' }, 'RS256');
    if (!(key instanceof Uint8Array)) keys.set(jwk.kid ?? '', key);
  }
  return keys;
}

/**
 * The public keys `PLATFORM_JWKS` names: inline JWKS JSON, or the URL of the functions host's JWKS
 * endpoint, fetched and kept for JWKS_TTL_MS (again sooner, at most every REFETCH_MS, when a token
 * names a key it does not hold: the platform rotated its keys). A failed fetch keeps the keys held.
 */
async function keysOf(setting: string, kid: string | undefined, now: number): Promise<Map<string, CryptoKey>> {
  const held = keySet?.source === setting ? keySet : undefined;
  if (!/^https?:\/\//i.test(setting)) {
    if (held !== undefined) return held.keys;
    const keys = await importKeys(JSON.parse(setting));
    keySet = { source: setting, keys, expiresAt: Number.POSITIVE_INFINITY, retryAt: Number.POSITIVE_INFINITY };
    return keys;
  }
  const due =
    held === undefined || now >= held.expiresAt || (kid !== undefined && !held.keys.has(kid) && now >= held.retryAt);
  if (!due) {
    if (held.keys.size === 0) throw new KeysUnavailable('the platform JWKS could not be fetched lately');
    return held.keys;
  }
  try {
    const res = await fetch(setting, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
    const keys = await importKeys(await res.json());
    keySet = { source: setting, keys, expiresAt: now + JWKS_TTL_MS, retryAt: now + REFETCH_MS };
    return keys;
  } catch (err) {
    edgeLog.warn('platform JWKS unavailable', { url: setting, error: String(err) });
    // try again after REFETCH_MS, not on every request; meanwhile the keys held (if any) still verify
    const keys = held?.keys ?? new Map<string, CryptoKey>();
    keySet = { source: setting, keys, expiresAt: now + REFETCH_MS, retryAt: now + REFETCH_MS };
    if (keys.size === 0) throw new KeysUnavailable(String(err));
    return keys;
  }
}

/** The platform token of a request: `Authorization: Bearer` or the `AltinnStudioRuntime` cookie. */
export function tokenOf(headers: Headers): string | null {
  const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(headers.get('authorization') ?? '');
  if (bearer?.[1] !== undefined) return bearer[1];
  const cookie = headers.get('cookie');
  if (cookie === null) return null;
  const match = /(?:^|;\s*)AltinnStudioRuntime=([^;]+)/.exec(cookie);
  return match?.[1] ?? null;
}

/**
 * The caller a platform token names, when it verifies against `PLATFORM_JWKS` (RS256, the
 * platform's Authentication keys: the JWKS as JSON, or the URL it is served at):
 * `urn:altinn:org` makes it the org, else `urn:altinn:userid` the
 * user. A token that does not verify names nobody (the caller is then limited as anonymous; the
 * app itself refuses the token). Results are cached per isolate until the token expires.
 */
export async function tokenCaller(
  headers: Headers,
  jwksText: string | undefined,
  now = Date.now(),
): Promise<TokenCaller | null> {
  if (jwksText === undefined || jwksText === '') return null;
  const token = tokenOf(headers);
  if (token === null || token === '') return null;
  const hit = verified.get(token);
  if (hit !== undefined && hit.until > now) return hit.caller;
  let caller: TokenCaller | null = null;
  let until = now + 60_000;
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const keys = await keysOf(jwksText, header.kid, now);
        const key = keys.get(header.kid ?? '') ?? (keys.size === 1 ? [...keys.values()][0] : undefined);
        if (key === undefined) throw new Error('unknown key id');
        return key;
      },
      { algorithms: ['RS256'] },
    );
    // An app's PlatformAccessToken (held by every replica) identifies the app, not a caller: not a plan key.
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (audiences.includes(ACCESS_TOKEN_AUDIENCE)) throw new Error('an app access token does not identify a caller');
    const org = payload['urn:altinn:org'];
    const user = payload['urn:altinn:userid'];
    if (typeof org === 'string' && /^[a-z0-9-]{1,63}$/.test(org)) caller = { id: `org-${org}` };
    else if ((typeof user === 'string' || typeof user === 'number') && /^[0-9]{1,18}$/.test(String(user))) {
      caller = { id: `user-${user}` };
    }
    if (typeof payload.exp === 'number') until = Math.min(until, payload.exp * 1000);
  } catch (err) {
    if (err instanceof KeysUnavailable) return null; // not the token's fault: verify it again later
    caller = null;
  }
  if (verified.size >= 10_000) verified.clear();
  verified.set(token, { caller, until });
  return caller;
}
