import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import {
  ACCESS_TOKEN_HEADER,
  forbidden,
  hasScope,
  RUNTIME_COOKIE,
  refusing,
  type TokenVerifier,
  tokenOf,
  unauthorized,
} from '../../../platform/src/auth/index.js';
import type { PlatformEnv } from '../../../platform/src/request-context/index.js';

/** The scope an org token needs to order notifications, as Altinn Notifications'. */
export const NOTIFICATIONS_CREATE_SCOPE = 'altinn:serviceowner/notifications.create';

/**
 * Altinn Notifications' `CreateScopeOrPlatformAccessToken` policy: an app's PlatformAccessToken alone (as app-lib
 * sends it, without a caller token) or an org token with `altinn:serviceowner/notifications.create`. The order's
 * creator is the app's org, else the token's org. Invalid tokens answer 401, none 401, a user without an app 403.
 */
export function orderCreator(options: {
  verifier: TokenVerifier;
  openPaths: readonly string[];
}): MiddlewareHandler<PlatformEnv> {
  return async (c, next) => {
    c.set('principal', undefined);
    c.set('appIdentity', undefined);
    if (options.openPaths.some((path) => c.req.path.endsWith(path))) return next();
    const accessToken = c.req.header(ACCESS_TOKEN_HEADER);
    const token = tokenOf(c.req.header('authorization'), getCookie(c, RUNTIME_COOKIE));
    if (accessToken === undefined && token === undefined) {
      throw unauthorized(
        `This call needs an app's ${ACCESS_TOKEN_HEADER} or an org token with ${NOTIFICATIONS_CREATE_SCOPE}`,
        'Bearer realm="platform"',
      );
    }
    const principal = token === undefined ? undefined : await refusing('Token', () => options.verifier.verify(token));
    const app =
      accessToken === undefined
        ? undefined
        : await refusing(ACCESS_TOKEN_HEADER, () => options.verifier.verifyAccessToken(accessToken));
    c.set('principal', principal);
    c.set('appIdentity', app);
    if (!app && !(principal?.kind === 'org' && hasScope(principal, NOTIFICATIONS_CREATE_SCOPE))) {
      throw forbidden(
        `Notification orders need an app's ${ACCESS_TOKEN_HEADER} or an org token with ${NOTIFICATIONS_CREATE_SCOPE}.`,
      );
    }
    return next();
  };
}

/** The org that creates and owns the request's orders: the app's org, else the org token's (see orderCreator). */
export function creatorOf(c: Context<PlatformEnv>): string {
  const app = c.get('appIdentity');
  if (app) return app.org;
  const principal = c.get('principal');
  if (principal?.kind === 'org') return principal.org;
  throw forbidden('Notification orders belong to orgs.');
}
