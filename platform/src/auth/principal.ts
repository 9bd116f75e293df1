import type { Context } from 'hono';
import { Problem } from '../errors/index.js';

/** Claim names of Altinn platform tokens. */
export const CLAIMS = {
  userId: 'urn:altinn:userid',
  partyId: 'urn:altinn:partyid',
  authLevel: 'urn:altinn:authlevel',
  authMethod: 'urn:altinn:authenticatemethod',
  org: 'urn:altinn:org',
  orgNumber: 'urn:altinn:orgNumber',
  scope: 'urn:altinn:scope',
  app: 'urn:altinn:app',
} as const;

/** An end user, acting for their own party or (through Authorization) for parties they represent. */
export interface UserPrincipal {
  kind: 'user';
  userId: number;
  /** The user's own party. */
  partyId: number;
  /** 0-4, as `urn:altinn:authlevel`. */
  authLevel: number;
  scopes: readonly string[];
}

/** A service owner (org), e.g. `ttd`, acting through Maskinporten or a platform-issued org token. */
export interface OrgPrincipal {
  kind: 'org';
  org: string;
  orgNumber: string | undefined;
  authLevel: number;
  scopes: readonly string[];
}

/** Who a verified platform token says the caller is. */
export type Principal = UserPrincipal | OrgPrincipal;

/** The app a verified `PlatformAccessToken` identifies: an app calling platform APIs for its user. */
export interface AppIdentity {
  org: string;
  app: string;
}

/** Hono variables set by the authenticate middleware. */
export interface AuthVariables {
  /** The verified caller; absent on paths that are open. */
  principal: Principal | undefined;
  /** The calling app, when the request carried a valid `PlatformAccessToken`. */
  appIdentity: AppIdentity | undefined;
}

/** The verified caller of a request on an authenticated path; a 401 problem when there is none. */
export function principalOf<E extends { Variables: AuthVariables }>(c: Context<E>): Principal {
  const principal = c.get('principal') as Principal | undefined;
  if (!principal) {
    throw new Problem(401, {
      kind: 'unauthorized',
      detail: 'This call needs a platform token (Authorization: Bearer or the AltinnStudioRuntime cookie)',
      headers: { 'WWW-Authenticate': 'Bearer realm="platform"' },
    });
  }
  return principal;
}

/** True when `principal` holds `scope` (space-separated `urn:altinn:scope` or `scope` claims). */
export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.includes(scope);
}

/** A 403 problem naming what the caller may not do. */
export function forbidden(detail: string): Problem {
  return new Problem(403, { kind: 'forbidden', detail });
}
