import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import {
  forbidden,
  hasScope,
  refusing,
  type TokenVerifier,
  tokenOf,
  unauthorized,
} from '../../../platform/src/auth/index.js';
import type { PlatformEnv } from '../../../platform/src/request-context/index.js';

/** The scope an org's CI needs to deploy its apps (Altinn Studio's deploy scope). */
export const DEPLOY_SCOPE = 'altinn:appdeploy';

/** Who calls the provisioner: the platform operator (admin token) or an org's deploy pipeline. */
export type Caller = { kind: 'admin' } | { kind: 'org'; org: string };

/** Hono environment of the provisioner API. */
export interface ProvisionerEnv {
  Variables: PlatformEnv['Variables'] & { caller: Caller };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Authenticates every call: the operator's admin token (compared in constant time) or a platform
 * org token with `altinn:appdeploy`. No token or a bad one is a 401; a user's token or an org token
 * without the scope is a 403.
 */
export function authenticateCaller(options: {
  adminToken: string | undefined;
  verifier: TokenVerifier;
  openPaths: readonly string[];
}): MiddlewareHandler<ProvisionerEnv> {
  const admin = options.adminToken ? digest(options.adminToken) : undefined;
  return async (c, next) => {
    if (options.openPaths.includes(c.req.path)) return next();
    const token = tokenOf(c.req.header('authorization'), undefined);
    if (token === undefined) {
      throw unauthorized(
        'The provisioner needs Authorization: Bearer with the admin token or an org token with altinn:appdeploy',
        'Bearer realm="provisioner"',
      );
    }
    if (admin && timingSafeEqual(digest(token), admin)) {
      c.set('caller', { kind: 'admin' });
      return next();
    }
    const principal = await refusing('Token', () => options.verifier.verify(token));
    if (principal.kind !== 'org') throw forbidden('Only the platform operator and service owners may provision.');
    if (!hasScope(principal, DEPLOY_SCOPE)) throw forbidden(`Deploying needs the scope ${DEPLOY_SCOPE}.`);
    c.set('caller', { kind: 'org', org: principal.org });
    return next();
  };
}

/** The caller; only admins may pass `adminOnly`, orgs reach their own org's resources. */
export function requireAccess(c: Context<ProvisionerEnv>, org: string, adminOnly = false): Caller {
  const caller = c.get('caller');
  if (caller.kind === 'admin') return caller;
  if (adminOnly) throw forbidden('Clusters are created and removed by the platform operator (admin token).');
  if (caller.org !== org) throw forbidden(`An org token of ${caller.org} may not manage ${org}'s apps.`);
  return caller;
}

/** How operations and releases name who asked for them. */
export function actorOf(caller: Caller): string {
  return caller.kind === 'admin' ? 'admin' : `org:${caller.org}`;
}
