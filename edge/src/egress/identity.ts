import { decodeProtectedHeader, errors, importJWK, type JWK, jwtVerify } from 'jose';

/**
 * Which app is calling: its `PlatformAccessToken`, as the functions host's Authentication API mints
 * it (RS256, `aud` `urn:altinn-platform:access-token`, claims `urn:altinn:org` and `urn:altinn:app`),
 * verified against the platform's JWKS. The JWKS is fetched per request when needed and kept in
 * isolate memory as plain JSON plus imported CryptoKeys, never as a promise shared between requests.
 */

/** `aud` of PlatformAccessTokens (platform/src/auth/tokens.ts). */
export const ACCESS_TOKEN_AUDIENCE = 'urn:altinn-platform:access-token';

/** The header apps send their token in, as to the platform APIs. */
export const ACCESS_TOKEN_HEADER = 'platformaccesstoken';

/** The app a verified token names. */
export interface AppIdentity {
  org: string;
  app: string;
}

/** Why a token was refused; safe to show. */
export class AppTokenError extends Error {
  override name = 'AppTokenError';
}

interface KeySet {
  keys: Map<string, CryptoKey>;
  fetchedAt: number;
}

const keySets = new Map<string, KeySet>();
/** How long a JWKS is trusted before it is fetched again; an unknown kid refetches after REFETCH_MS. */
const JWKS_TTL_MS = 10 * 60_000;
const REFETCH_MS = 30_000;

async function fetchKeySet(url: string): Promise<KeySet> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`JWKS ${url} answered ${res.status}`);
  const body = (await res.json()) as { keys?: JWK[] };
  const keys = new Map<string, CryptoKey>();
  for (const jwk of body.keys ?? []) {
    if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || (jwk.alg !== undefined && jwk.alg !== 'RS256')) continue;
    keys.set(jwk.kid, (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256')) as CryptoKey);
  }
  const set = { keys, fetchedAt: Date.now() };
  keySets.set(url, set);
  return set;
}

async function keyFor(jwksUrl: string, kid: string): Promise<CryptoKey | undefined> {
  let set = keySets.get(jwksUrl);
  const now = Date.now();
  if (set === undefined || now - set.fetchedAt > JWKS_TTL_MS) set = await fetchKeySet(jwksUrl);
  else if (!set.keys.has(kid) && now - set.fetchedAt > REFETCH_MS) set = await fetchKeySet(jwksUrl);
  return set.keys.get(kid);
}

/** Verification settings, from the Worker's vars. */
export interface AppTokenSettings {
  jwksUrl: string;
  /** Expected `iss`; unchecked when unset. */
  issuer?: string;
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Tokens verified in this isolate: the app they name, trusted until their `exp` but at most 60 s
 * (plain values; a token is never trusted past its expiry, and a key dropped from the JWKS stops
 * counting within a minute). Saves the signature check on an app's repeated calls.
 */
const verified = new Map<string, { identity: AppIdentity; until: number }>();
const VERIFIED_MS = 60_000;
const MAX_VERIFIED = 10_000;

/** Verifies a PlatformAccessToken and answers the app it names; throws AppTokenError when refused. */
export async function verifyAppToken(token: string, settings: AppTokenSettings): Promise<AppIdentity> {
  const now = Date.now();
  const hit = verified.get(`${settings.jwksUrl} ${token}`);
  if (hit !== undefined && hit.until > now) return hit.identity;
  let kid: unknown;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== 'RS256') throw new AppTokenError('tokens must be signed with RS256');
    kid = header.kid;
  } catch (error) {
    if (error instanceof AppTokenError) throw error;
    throw new AppTokenError('the token is malformed');
  }
  if (typeof kid !== 'string') throw new AppTokenError('the token names no signing key (kid)');
  const key = await keyFor(settings.jwksUrl, kid);
  if (key === undefined) throw new AppTokenError('the token is signed by an unknown key');
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['RS256'],
      audience: ACCESS_TOKEN_AUDIENCE,
      clockTolerance: 30,
      requiredClaims: ['exp'],
      ...(settings.issuer ? { issuer: settings.issuer } : {}),
    });
    const org = payload['urn:altinn:org'];
    const app = payload['urn:altinn:app'];
    if (typeof org !== 'string' || typeof app !== 'string' || !NAME.test(org) || !NAME.test(app)) {
      throw new AppTokenError('a PlatformAccessToken needs urn:altinn:org and urn:altinn:app');
    }
    const identity = { org, app };
    if (verified.size >= MAX_VERIFIED) verified.clear();
    verified.set(`${settings.jwksUrl} ${token}`, {
      identity,
      until: Math.min(now + VERIFIED_MS, (payload.exp ?? 0) * 1000),
    });
    return identity;
  } catch (error) {
    if (error instanceof AppTokenError) throw error;
    if (error instanceof errors.JWTExpired) throw new AppTokenError('the token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw new AppTokenError(`the token's ${error.claim} claim is not valid`);
    }
    throw new AppTokenError('the token signature does not verify');
  }
}
