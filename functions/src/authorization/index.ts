import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { authenticate, type TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { addDecisionRoutes } from './decision-routes.js';
import { addPolicyRoutes } from './policy-routes.js';
import { addRoleAssignmentRoutes } from './role-routes.js';
import type { AuthorizationServices } from './services.js';
import { addSubscriptionKeyRoutes } from './subscription-key-routes.js';

export { AUTHORIZATION_SCOPES } from './access.js';
export { createPartyAccess } from './grants.js';
export { type AuthorizationServices, createAuthorizationServices, sharedAuthorizationServices } from './services.js';
export { SUBSCRIPTION_KEY_HEADER, SUBSCRIPTION_KEY_SETTING } from './subscription-keys.js';

/** Public path prefix of Authorization, as Altinn's. */
export const AUTHORIZATION_PREFIX = '/authorization/api/v1';

/** What the Authorization API needs. */
export interface AuthorizationApiOptions {
  services: AuthorizationServices;
  logger: Logger;
  /** Verifies callers' platform tokens: every call but the OpenAPI description needs one or a subscription key. */
  verifier: TokenVerifier;
  /** The operator's token, which may manage every org's subscription keys (the provisioner's admin token). */
  operatorToken?: string | undefined;
}

/**
 * Authorization, compatible with Altinn's: `POST decision` (XACML 3.0 JSON; called by apps with their org's platform
 * subscription key, as Altinn's PEP calls it, or with a token), reportees (`parties`), party validation, `roles`, app
 * policies, role assignments as data, and the platform subscription keys themselves.
 */
export function createAuthorizationApi(options: AuthorizationApiOptions): PlatformApp {
  const api = createApi({
    prefix: AUTHORIZATION_PREFIX,
    title: 'Authorization (Altinn Authorization v1 compatible)',
    version: '1.0.0',
    logger: options.logger,
  });
  const tokens = authenticate({ verifier: options.verifier, openPaths: [`${AUTHORIZATION_PREFIX}/openapi.json`] });
  // POST decision (subscription key or token) and the subscription keys (operator token) authenticate themselves.
  const selfAuthenticating = (path: string) =>
    path === `${AUTHORIZATION_PREFIX}/decision` || path.startsWith(`${AUTHORIZATION_PREFIX}/subscriptionkeys/`);
  api.use('*', async (c, next) => {
    if (selfAuthenticating(c.req.path)) {
      c.set('principal', undefined);
      c.set('appIdentity', undefined);
      return next();
    }
    return tokens(c as never, next);
  });
  addDecisionRoutes(api, options.services, options.verifier);
  addSubscriptionKeyRoutes(api, options.services, {
    verifier: options.verifier,
    operatorToken: options.operatorToken,
  });
  addPolicyRoutes(api, options.services);
  addRoleAssignmentRoutes(api, options.services, AUTHORIZATION_PREFIX);
  return api;
}
