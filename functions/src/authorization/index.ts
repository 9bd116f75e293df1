import { createApi, type PlatformApp } from '../platform/api/index.js';
import { authenticate, type TokenVerifier } from '../platform/auth/index.js';
import type { Logger } from '../platform/logging/index.js';
import { addDecisionRoutes } from './decision-routes.js';
import { addPolicyRoutes } from './policy-routes.js';
import { addRoleAssignmentRoutes } from './role-routes.js';
import type { AuthorizationServices } from './services.js';

export { AUTHORIZATION_SCOPES } from './access.js';
export { createPartyAccess } from './grants.js';
export { type AuthorizationServices, createAuthorizationServices, sharedAuthorizationServices } from './services.js';

/** Public path prefix of Authorization, as Altinn's. */
export const AUTHORIZATION_PREFIX = '/authorization/api/v1';

/** What the Authorization API needs. */
export interface AuthorizationApiOptions {
  services: AuthorizationServices;
  logger: Logger;
  /** Verifies callers' platform tokens: every call but the OpenAPI description needs one. */
  verifier: TokenVerifier;
}

/**
 * Authorization, compatible with Altinn's: `POST decision` (XACML 3.0 JSON), reportees (`parties`), party
 * validation, `roles`, app policies and role assignments as data.
 */
export function createAuthorizationApi(options: AuthorizationApiOptions): PlatformApp {
  const api = createApi({
    prefix: AUTHORIZATION_PREFIX,
    title: 'Authorization (Altinn Authorization v1 compatible)',
    version: '1.0.0',
    logger: options.logger,
  });
  api.use('*', authenticate({ verifier: options.verifier, openPaths: [`${AUTHORIZATION_PREFIX}/openapi.json`] }));
  addDecisionRoutes(api, options.services);
  addPolicyRoutes(api, options.services);
  addRoleAssignmentRoutes(api, options.services, AUTHORIZATION_PREFIX);
  return api;
}
