import { decodeProtectedHeader, errors } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, verifyPlatformToken } from '../platform-token';

/**
 * Which app is calling: its `PlatformAccessToken`, as the functions host's Authentication API mints
 * it (RS256, `aud` `urn:altinn-platform:access-token`, claims `urn:altinn:org` and `urn:altinn:app`),
 * verified against the platform's JWKS by the edge's one platform-token verifier (../platform-token).
 */

export { ACCESS_TOKEN_AUDIENCE };

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

/** Verification settings, from the Worker's vars. */
export interface AppTokenSettings {
  jwksUrl: string;
  /** Expected `iss`; unchecked when unset. */
  issuer?: string;
}

/** How long the JWKS host may take for egress. */
const JWKS_FETCH_TIMEOUT_MS = 5_000;

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
  try {
    const payload = await verifyPlatformToken(token, settings.jwksUrl, {
      audience: ACCESS_TOKEN_AUDIENCE,
      clockTolerance: 30,
      requiredClaims: ['exp'],
      timeoutMs: JWKS_FETCH_TIMEOUT_MS,
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
    if (error instanceof errors.JWKSNoMatchingKey) throw new AppTokenError('the token is signed by an unknown key');
    if (error instanceof errors.JWTExpired) throw new AppTokenError('the token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw new AppTokenError(`the token's ${error.claim} claim is not valid`);
    }
    if (!(error instanceof errors.JOSEError)) throw error; // the JWKS could not be had: not the token's fault
    throw new AppTokenError('the token signature does not verify');
  }
}
