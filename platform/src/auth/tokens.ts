import { decodeJwt, decodeProtectedHeader, errors, importJWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { AppTokenKeyStore, VerificationKey } from './app-keys.js';
import { SIGNING_ALGORITHM, type SigningKeyStore } from './keys.js';
import { type AppIdentity, CLAIMS, type OrgPrincipal, type Principal, type UserPrincipal } from './principal.js';

/** Lifetime of platform tokens, as Altinn's: 30 minutes. */
export const TOKEN_LIFETIME_SECONDS = 30 * 60;

/** `aud` of `PlatformAccessToken`s, so that one is never accepted as a caller's platform token or the reverse. */
export const ACCESS_TOKEN_AUDIENCE = 'urn:altinn-platform:access-token';

/** Clock leeway allowed when checking `exp` and `nbf`. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** Why a token was refused; the message is safe to show to the caller. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/** A user token's claims to issue. */
export interface UserTokenClaims {
  userId: number;
  partyId: number;
  authLevel: number;
  authMethod?: string;
  scopes?: readonly string[];
}

/** An org token's claims to issue. */
export interface OrgTokenClaims {
  org: string;
  orgNumber?: string;
  scopes?: readonly string[];
}

/** Issues platform tokens signed with the store's active key. */
export interface TokenIssuer {
  /** A token for an end user (claims `urn:altinn:userid`, `partyid`, `authlevel`). */
  userToken(claims: UserTokenClaims, lifetimeSeconds?: number): Promise<string>;
  /** A token for a service owner (claims `urn:altinn:org`, `orgNumber`, scopes). */
  orgToken(claims: OrgTokenClaims, lifetimeSeconds?: number): Promise<string>;
  /** A `PlatformAccessToken` identifying the app `org/app` calling platform APIs. */
  accessToken(app: AppIdentity, lifetimeSeconds?: number): Promise<string>;
  /** Signs arbitrary claims (refresh keeps the claims of a verified token). */
  sign(claims: JWTPayload, lifetimeSeconds?: number): Promise<string>;
}

/** Verifies tokens against the store's published keys. */
export interface TokenVerifier {
  /** The caller a platform token names; throws InvalidTokenError when it is not valid. */
  verify(token: string): Promise<Principal>;
  /** The verified claims of a platform token (for refresh); throws InvalidTokenError. */
  verifyClaims(token: string): Promise<JWTPayload>;
  /** The app a `PlatformAccessToken` names; throws InvalidTokenError. */
  verifyAccessToken(token: string): Promise<AppIdentity>;
}

/** Whether `org/app` is one of the org's own apps (Storage's application metadata, read through a lookup). */
export type AppDirectory = (org: string, app: string) => Promise<boolean>;

/**
 * `lookup` with the apps it found kept for `ttlMs` (the verification of every app call asks it), at most 10,000;
 * an app not found is asked again each time (it may be deployed any moment), a removed one refused within `ttlMs`.
 */
export function cachedAppDirectory(lookup: AppDirectory, ttlMs = 30_000, now: () => number = Date.now): AppDirectory {
  const found = new Map<string, number>();
  return async (org, app) => {
    const key = `${org}/${app}`;
    const at = found.get(key);
    if (at !== undefined && now() - at < ttlMs) return true;
    const exists = await lookup(org, app);
    if (!exists) {
      found.delete(key);
      return false;
    }
    if (found.size >= 10_000) found.clear();
    found.set(key, now());
    return true;
  };
}

/** What issuer and verifier share. */
export interface TokenOptions {
  keys: SigningKeyStore;
  /** `iss` of every platform token, e.g. `http://127.0.0.1:7071/authentication/api/v1/openid/`. */
  issuer: string;
  now?: () => Date;
  /** The keys orgs registered for the `PlatformAccessToken`s their apps sign themselves; none accepted without. */
  appKeys?: AppTokenKeyStore;
  /**
   * The lookup of an org's own apps, read when an app-signed token is verified (a getter: the lookup is wired
   * after the platform is opened). Without one, the token's `iss` naming a registered org is the check.
   */
  appDirectory?: () => AppDirectory | undefined;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** Creates the token issuer. */
export function createTokenIssuer(options: TokenOptions): TokenIssuer {
  const now = options.now ?? (() => new Date());
  const sign: TokenIssuer['sign'] = async (claims, lifetimeSeconds = TOKEN_LIFETIME_SECONDS) => {
    const key = await options.keys.activeKey();
    const issuedAt = seconds(now());
    const { iat: _iat, exp: _exp, nbf: _nbf, iss: _iss, jti: _jti, ...rest } = claims;
    return new SignJWT(rest)
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setIssuer(options.issuer)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + lifetimeSeconds)
      .setJti(crypto.randomUUID())
      .sign(key.privateKey);
  };
  return {
    sign,
    userToken(claims, lifetimeSeconds) {
      return sign(
        {
          [CLAIMS.userId]: String(claims.userId),
          [CLAIMS.partyId]: String(claims.partyId),
          [CLAIMS.authLevel]: String(claims.authLevel),
          [CLAIMS.authMethod]: claims.authMethod ?? 'NotDefined',
          ...(claims.scopes?.length ? { [CLAIMS.scope]: claims.scopes.join(' ') } : {}),
          sub: String(claims.userId),
        },
        lifetimeSeconds,
      );
    },
    orgToken(claims, lifetimeSeconds) {
      return sign(
        {
          [CLAIMS.org]: claims.org,
          ...(claims.orgNumber ? { [CLAIMS.orgNumber]: claims.orgNumber } : {}),
          [CLAIMS.authLevel]: '3',
          [CLAIMS.authMethod]: 'maskinporten',
          ...(claims.scopes?.length ? { [CLAIMS.scope]: claims.scopes.join(' ') } : {}),
          sub: claims.org,
        },
        lifetimeSeconds,
      );
    },
    accessToken(app, lifetimeSeconds) {
      return sign(
        { [CLAIMS.org]: app.org, [CLAIMS.app]: app.app, aud: ACCESS_TOKEN_AUDIENCE, sub: `${app.org}/${app.app}` },
        lifetimeSeconds,
      );
    },
  };
}

/** A claim as a string, accepting numbers too (Altinn writes them as strings). */
function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function integerClaim(payload: JWTPayload, name: string, min: number, max: number): number | undefined {
  const raw = stringClaim(payload, name);
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

function scopesOf(payload: JWTPayload): string[] {
  const raw = [stringClaim(payload, CLAIMS.scope), stringClaim(payload, 'scope')].filter(Boolean).join(' ');
  return raw.split(' ').filter((scope) => scope !== '');
}

/** The caller a verified token's claims name. */
export function principalFromClaims(payload: JWTPayload): Principal {
  const authLevel = integerClaim(payload, CLAIMS.authLevel, 0, 4) ?? 0;
  const scopes = scopesOf(payload);
  const userId = integerClaim(payload, CLAIMS.userId, 1, Number.MAX_SAFE_INTEGER);
  if (userId !== undefined) {
    const partyId = integerClaim(payload, CLAIMS.partyId, 1, Number.MAX_SAFE_INTEGER);
    if (partyId === undefined) throw new InvalidTokenError(`a user token needs a numeric ${CLAIMS.partyId} claim`);
    const user: UserPrincipal = { kind: 'user', userId, partyId, authLevel, scopes };
    return user;
  }
  const org = stringClaim(payload, CLAIMS.org);
  if (org !== undefined && /^[a-z0-9][a-z0-9-]{0,62}$/.test(org)) {
    const principal: OrgPrincipal = {
      kind: 'org',
      org,
      orgNumber: stringClaim(payload, CLAIMS.orgNumber),
      authLevel,
      scopes,
    };
    return principal;
  }
  throw new InvalidTokenError('the token names neither a user nor an org');
}

/** An org code or app name: lower-case letters, digits and hyphens. */
const ORG_CODE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Why a registered key that a token names cannot verify it now. */
function unusableReason(key: VerificationKey, org: string, at: Date): string {
  if (key.revoked !== null) return `the app-token key ${key.keyId} of org ${org} was revoked`;
  if (key.notBefore > at) return `the app-token key ${key.keyId} of org ${org} is not valid yet`;
  return `the app-token key ${key.keyId} of org ${org} has expired`;
}

/** What a jose failure means to the caller. */
function reasonOf(error: unknown): string {
  if (error instanceof InvalidTokenError) return error.message;
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet';
    if (error.claim === 'iss') return 'the token has the wrong issuer';
    if (error.claim === 'aud') return 'the token is not meant for this use';
    return `the token's ${error.claim} claim is not valid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `tokens must be signed with ${SIGNING_ALGORITHM}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (error instanceof errors.JOSEError) return 'the token is malformed';
  return 'the token is malformed';
}

/**
 * The org's keys an app-signed token may be verified by: the one its `kid` or `x5t` names (refused with that key's
 * state when it is not usable now), else every usable key of the org.
 */
function candidateKeys(
  registered: VerificationKey[],
  header: ReturnType<typeof decodeProtectedHeader>,
  issuer: string,
  at: Date,
): VerificationKey[] {
  const named = registered.filter(
    (key) =>
      (typeof header.kid === 'string' && (key.keyId === header.kid || key.publicJwk.kid === header.kid)) ||
      (typeof header.x5t === 'string' && key.x5t === header.x5t),
  );
  const usable = (key: VerificationKey) =>
    key.revoked === null && key.notBefore <= at && (key.notAfter === null || key.notAfter > at);
  // A token naming its key is refused with that key's state; otherwise every usable key of the org is tried.
  const named0 = named[0];
  if (named0 && !usable(named0)) throw new InvalidTokenError(unusableReason(named0, issuer, at));
  const candidates = named0 ? [named0] : registered.filter(usable);
  if (candidates.length === 0) {
    const first = registered[0];
    throw new InvalidTokenError(first ? unusableReason(first, issuer, at) : `no app-token key of org ${issuer}`);
  }
  return candidates;
}

/**
 * The payload of an app-signed token verified by one of `candidates` (the org's keys it may be signed by). A key
 * whose signature matched says why the token is refused (expired, ...); other keys only that they did not sign it.
 */
async function verifiedByAppKey(
  token: string,
  issuer: string,
  candidates: VerificationKey[],
  at: Date,
): Promise<JWTPayload> {
  let payload: JWTPayload | undefined;
  let failure: unknown;
  for (const key of candidates) {
    // A key whose signature matched says why the token is refused (expired, ...); other keys only that they did not sign it.
    if (failure !== undefined && !(failure instanceof errors.JWSSignatureVerificationFailed)) break;
    try {
      const publicKey = await importJWK({ ...key.publicJwk, alg: SIGNING_ALGORITHM }, SIGNING_ALGORITHM);
      ({ payload } = await jwtVerify(token, publicKey, {
        algorithms: [SIGNING_ALGORITHM],
        issuer,
        currentDate: at,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
      }));
      break;
    } catch (error) {
      failure = error;
    }
  }
  if (!payload) {
    if (failure instanceof errors.JWSSignatureVerificationFailed) {
      throw new InvalidTokenError(`the token is not signed by a registered app-token key of org ${issuer}`);
    }
    throw new InvalidTokenError(reasonOf(failure));
  }
  return payload;
}

/** Creates the verifier: RS256 only, signature by a published key, `iss`, `exp` and `nbf` checked. */
export function createTokenVerifier(options: TokenOptions): TokenVerifier {
  const now = options.now ?? (() => new Date());
  async function verifyJwt(token: string, audience?: string): Promise<JWTPayload> {
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== SIGNING_ALGORITHM)
        throw new InvalidTokenError(`tokens must be signed with ${SIGNING_ALGORITHM}`);
      const kid = header.kid;
      if (typeof kid !== 'string') throw new InvalidTokenError('the token names no signing key (kid)');
      const key = await options.keys.publicKey(kid);
      if (!key) throw new InvalidTokenError('the token is signed by an unknown or expired key');
      const { payload } = await jwtVerify(token, key, {
        algorithms: [SIGNING_ALGORITHM],
        issuer: options.issuer,
        currentDate: now(),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
        ...(audience ? { audience } : {}),
      });
      return payload;
    } catch (error) {
      // A database that cannot be read (the key lookup) is the platform's failure, not a bad token: a 500.
      if (!(error instanceof InvalidTokenError || error instanceof errors.JOSEError || error instanceof TypeError)) {
        throw error;
      }
      throw new InvalidTokenError(reasonOf(error));
    }
  }
  /**
   * A `PlatformAccessToken` an app signed itself (Altinn's AccessTokenGenerator): `iss` is the org, `urn:altinn:app`
   * the app, signed RS256 by a key the org registered that is valid now and not revoked. As Altinn's
   * AccessTokenHandler, the audience is not checked and `exp` is required.
   */
  async function verifyAppSigned(token: string, issuer: unknown): Promise<AppIdentity> {
    if (typeof issuer !== 'string' || !ORG_CODE.test(issuer)) {
      throw new InvalidTokenError('the token has the wrong issuer: a PlatformAccessToken is issued by an org');
    }
    if (!options.appKeys) throw new InvalidTokenError(`no app-token keys are registered for org ${issuer}`);
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new InvalidTokenError('the token is malformed');
    }
    if (header.alg !== SIGNING_ALGORITHM)
      throw new InvalidTokenError(`tokens must be signed with ${SIGNING_ALGORITHM}`);
    const registered = await options.appKeys.verificationKeys(issuer);
    if (registered.length === 0) throw new InvalidTokenError(`no app-token key is registered for org ${issuer}`);
    const at = now();
    const candidates = candidateKeys(registered, header, issuer, at);
    const payload = await verifiedByAppKey(token, issuer, candidates, at);
    const claim = stringClaim(payload, CLAIMS.app);
    // app-lib writes the app's name; `org/app` of the same org is taken too.
    const app = claim?.startsWith(`${issuer}/`) ? claim.slice(issuer.length + 1) : claim;
    if (!app || !ORG_CODE.test(app))
      throw new InvalidTokenError(`a PlatformAccessToken needs ${CLAIMS.app} naming the app`);
    const directory = options.appDirectory?.();
    if (directory && !(await directory(issuer, app))) {
      throw new InvalidTokenError(`${issuer}/${app} is not an app of org ${issuer}`);
    }
    return { org: issuer, app };
  }
  const isAccessToken = (payload: JWTPayload) =>
    payload.aud === ACCESS_TOKEN_AUDIENCE ||
    (Array.isArray(payload.aud) && payload.aud.includes(ACCESS_TOKEN_AUDIENCE));
  return {
    async verifyClaims(token) {
      const payload = await verifyJwt(token);
      if (isAccessToken(payload)) throw new InvalidTokenError('a PlatformAccessToken is not a caller token');
      return payload;
    },
    async verify(token) {
      return principalFromClaims(await this.verifyClaims(token));
    },
    async verifyAccessToken(token) {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new InvalidTokenError('the token is malformed');
      }
      // Signed by the platform (our `accesstoken/{org}/{app}` convenience) or by the app itself, as Altinn's apps do.
      if (issuer !== options.issuer) return verifyAppSigned(token, issuer);
      const payload = await verifyJwt(token, ACCESS_TOKEN_AUDIENCE);
      const org = stringClaim(payload, CLAIMS.org);
      const app = stringClaim(payload, CLAIMS.app);
      if (!org || !app) throw new InvalidTokenError(`a PlatformAccessToken needs ${CLAIMS.org} and ${CLAIMS.app}`);
      return { org, app };
    },
  };
}
