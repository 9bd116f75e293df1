import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { authenticate, type TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { DEFAULT_IDENTITY_LOOKUP_POLICY, type IdentityLookupPolicy } from '../register/lockout.js';
import { addUserRoutes, type MayRepresent } from './users.js';

/** Public path prefix of Profile, as Altinn's. */
export const PROFILE_PREFIX = '/profile/api/v1';

/** What the Profile API needs. */
export interface ProfileApiOptions {
  db: Database;
  logger: Logger;
  /** Verifies callers' platform tokens: every call but the OpenAPI description needs one. */
  verifier: TokenVerifier;
  /** Budgets of `POST users` (fødselsnummer) lookups by orgs; DEFAULT_IDENTITY_LOOKUP_POLICY by default. */
  identityLookups?: IdentityLookupPolicy;
  /** The clock of the budgets' window; the system clock by default. */
  now?: () => Date;
  /** Whether a user may represent a party (Authorization's reportees), for the preselected party setting. */
  mayRepresent: MayRepresent;
}

/**
 * Profile, compatible with Altinn Profile v1: user profiles by id, UUID, fødselsnummer and for the caller, and the
 * caller's own settings. A user reads their own profile only; org callers (service owners) look any user up.
 */
export function createProfileApi(options: ProfileApiOptions): PlatformApp {
  const api = createApi({
    prefix: PROFILE_PREFIX,
    title: 'Profile (Altinn Profile v1 compatible)',
    version: '1.0.0',
    logger: options.logger,
  });
  api.use('*', authenticate({ verifier: options.verifier, openPaths: [`${PROFILE_PREFIX}/openapi.json`] }));
  addUserRoutes(api, {
    db: options.db,
    identityLookups: options.identityLookups ?? DEFAULT_IDENTITY_LOOKUP_POLICY,
    now: options.now ?? (() => new Date()),
    mayRepresent: options.mayRepresent,
  });
  return api;
}
