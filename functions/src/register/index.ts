import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { authenticate, type TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import {
  DEFAULT_IDENTITY_LOOKUP_QUOTA,
  DEFAULT_PERSON_LOOKUP_LOCKOUT,
  type IdentityLookupPolicy,
  type LockoutPolicy,
} from './lockout.js';
import { addPartyRoutes, ownPartyOnly, type Representation } from './parties.js';
import { addPartyQueryRoutes } from './party-query.js';
import { addPersonRoutes } from './persons.js';
import { addTestDataRoutes } from './testdata.js';

/** Public path prefix of the Register, as Altinn's. */
export const REGISTER_PREFIX = '/register/api/v1';

/** What the Register API needs. */
export interface RegisterApiOptions {
  db: Database;
  logger: Logger;
  /** Verifies callers' platform tokens: every call but the OpenAPI description and the test data list needs one. */
  verifier: TokenVerifier;
  /** Serve `GET testdata` (local mode, when the test data is seeded); 404 otherwise. */
  testData?: boolean;
  /** How many failed `persons` lookups a caller may make; DEFAULT_PERSON_LOOKUP_LOCKOUT by default. */
  personLookupLockout?: LockoutPolicy;
  /** Both budgets of fødselsnummer lookups (misses, finds); overrides personLookupLockout when given. */
  identityLookups?: IdentityLookupPolicy;
  /** The clock of the lockout window; the system clock by default. */
  now?: () => Date;
  /** Whether a user may represent a party (roles, delegations); by default a user reads their own party only. */
  represents?: Representation;
}

/**
 * The Register, compatible with Altinn Register v1: parties (person, organisation, self-identified, sub-unit,
 * bankruptcy estate) with their sub-units, organisations, and the person lookup guarded by a lockout.
 * Org callers look any party up; a user reads their own party and those they represent; `persons` and `organizations` are open to
 * any authenticated caller.
 */
export function createRegisterApi(options: RegisterApiOptions): PlatformApp {
  const api = createApi({
    prefix: REGISTER_PREFIX,
    title: 'Register (Altinn Register v1 compatible)',
    version: '1.0.0',
    logger: options.logger,
  });
  api.use(
    '*',
    authenticate({
      verifier: options.verifier,
      openPaths: [`${REGISTER_PREFIX}/openapi.json`, `${REGISTER_PREFIX}/testdata`],
    }),
  );
  const now = options.now ?? (() => new Date());
  // One failure budget per caller across `persons`, `parties/lookup`, the party queries and Profile's `users`.
  const identityLookups: IdentityLookupPolicy = options.identityLookups ?? {
    failures: options.personLookupLockout ?? DEFAULT_PERSON_LOOKUP_LOCKOUT,
    found: DEFAULT_IDENTITY_LOOKUP_QUOTA,
  };
  addPartyRoutes(api, {
    db: options.db,
    identityLookups,
    now,
    ...(options.represents ? { represents: options.represents } : {}),
  });
  addPartyQueryRoutes(api, { db: options.db, represents: options.represents ?? ownPartyOnly, identityLookups, now });
  addPersonRoutes(api, { db: options.db, lockout: identityLookups, now });
  if (options.testData) addTestDataRoutes(api);
  return api;
}
