import type { Context } from 'hono';
import { forbidden, hasScope, type Principal, principalOf } from '../../../platform/src/auth/index.js';
import type { PlatformEnv } from '../../../platform/src/request-context/index.js';

/** Scopes of Authorization and Intermediary. */
export const AUTHORIZATION_SCOPES = {
  /** Writing an app's policy: the app's own org deploying it, as Storage's application metadata. */
  appDeploy: 'altinn:appdeploy',
  /** Managing role assignments (roles are data: seeded or synchronised from the registers by an admin or org). */
  rolesAdmin: 'altinn:authorization/roles.admin',
  /** Delegating, listing and revoking on behalf of any party. */
  delegationsAdmin: 'altinn:authorization/delegations.admin',
} as const;

/** Throws 403 unless the caller holds `scope`. */
export function requireScope(principal: Principal, scope: string): void {
  if (!hasScope(principal, scope)) throw forbidden(`This call needs the scope ${scope}.`);
}

/**
 * Who may read what a user may do (their parties, roles and party validation): the user themself, a service owner
 * (org token), an app calling with its PlatformAccessToken, or a roles admin.
 */
export function requireReaderOf(c: Context<PlatformEnv>, userId: number): Principal {
  const principal = principalOf(c);
  if (principal.kind === 'user' && principal.userId === userId) return principal;
  if (principal.kind === 'org' || c.get('appIdentity') || hasScope(principal, AUTHORIZATION_SCOPES.rolesAdmin)) {
    return principal;
  }
  throw forbidden(`User ${principal.userId} may not read what user ${userId} may do.`);
}

/** The caller's own party when the caller is the user `userId` (their token says it); else undefined. */
export function ownPartyOf(principal: Principal, userId: number): number | undefined {
  return principal.kind === 'user' && principal.userId === userId ? principal.partyId : undefined;
}
