import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { authenticate, type TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import type { AuthorizationServices } from '../authorization/services.js';
import { addDelegationRoutes } from './routes.js';

/** Public path prefix of Intermediary (delegations). */
export const INTERMEDIARY_PREFIX = '/intermediary/api/v1';

/** What the Intermediary API needs. */
export interface IntermediaryApiOptions {
  /** The authorization services shared with the Authorization API, so a change reaches its decision cache at once. */
  services: AuthorizationServices;
  logger: Logger;
  verifier: TokenVerifier;
}

/**
 * Intermediary: delegations of roles or app rights from an offering party to a user or an organisation, optionally
 * time-limited, created and revoked by the party's authorised representative, every change audited.
 */
export function createIntermediaryApi(options: IntermediaryApiOptions): PlatformApp {
  const api = createApi({
    prefix: INTERMEDIARY_PREFIX,
    title: 'Intermediary (delegations)',
    version: '1.0.0',
    logger: options.logger,
  });
  api.use('*', authenticate({ verifier: options.verifier, openPaths: [`${INTERMEDIARY_PREFIX}/openapi.json`] }));
  addDelegationRoutes(api, options.services, INTERMEDIARY_PREFIX);
  return api;
}
