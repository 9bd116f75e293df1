import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { authenticate, type TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import type { AuthorizationServices } from '../authorization/services.js';
import { addInstanceDelegationRoutes } from './routes.js';

/** Public path prefix of Access management (app-lib's PlatformSettings.ApiAccessManagementEndpoint). */
export const ACCESS_MANAGEMENT_PREFIX = '/accessmanagement/api/v1';

/** What the Access management API needs. */
export interface AccessManagementApiOptions {
  /** The authorization services shared with Authorization and Intermediary, so a change reaches every decision. */
  services: AuthorizationServices;
  logger: Logger;
  verifier: TokenVerifier;
}

/**
 * Access management's app instance delegations: an app delegates (and revokes) rights on one of its instances, in
 * a task, from the instance's owner to another party, e.g. read and sign to a signee. The app calls with its
 * PlatformAccessToken only, and only about its own instances; every change is audited as Intermediary's delegations.
 */
export function createAccessManagementApi(options: AccessManagementApiOptions): PlatformApp {
  const api = createApi({
    prefix: ACCESS_MANAGEMENT_PREFIX,
    title: 'Access management (app instance delegations)',
    version: '1.0.0',
    logger: options.logger,
  });
  api.use(
    '*',
    authenticate({
      verifier: options.verifier,
      appTokenOnly: true,
      openPaths: [`${ACCESS_MANAGEMENT_PREFIX}/openapi.json`],
    }),
  );
  addInstanceDelegationRoutes(api, options.services);
  return api;
}
