import { createReportees } from '../../functions/src/authorization/grants.js';
import { createProfileApi, PROFILE_PREFIX } from '../../functions/src/profile/index.js';
import { createRegisterApi, REGISTER_PREFIX } from '../../functions/src/register/index.js';
import type { LockoutPolicy } from '../../functions/src/register/lockout.js';
import { seedRegister } from '../../functions/src/register/seed.js';
import type { Database } from '../../platform/src/db/index.js';
import { createPlatformAuth, type PlatformAuth } from '../../platform/src/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { openTestDatabase } from './database.js';
import { seedSigningKey } from './signing-key.js';
import { TEST_ISSUER } from './storage.js';

/** Options of openRegisterHarness. */
export interface RegisterHarnessOptions {
  /** Serve the Register's `testdata` list; on by default. */
  testData?: boolean;
  /** The person lookup lockout; the Register's default when omitted. */
  lockout?: LockoutPolicy;
  /** The lockout's clock; the system clock by default. */
  now?: () => Date;
}

/** The Register and Profile APIs on one seeded test database, with token minting and calls relative to each prefix. */
export interface RegisterHarness {
  db: Database;
  auth: PlatformAuth;
  /** `Authorization: Bearer` of an end user (level 2). */
  user(userId: number, partyId: number): Promise<Record<string, string>>;
  /** `Authorization: Bearer` of an org, e.g. `ttd`. */
  org(org: string): Promise<Record<string, string>>;
  /** Sends `method path` (relative to `/register/api/v1/`) with `body` as JSON when given. */
  register(method: string, path: string, headers?: Record<string, string>, body?: unknown): Promise<Response>;
  /** Sends `method path` (relative to `/profile/api/v1/`) with `body` as JSON when given. */
  profile(method: string, path: string, headers?: Record<string, string>, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** Opens a migrated test database, seeds the test data and builds the Register and Profile APIs on it. */
export async function openRegisterHarness(options: RegisterHarnessOptions = {}): Promise<RegisterHarness> {
  const db = await openTestDatabase();
  await seedRegister(db);
  await seedSigningKey(db);
  const auth = createPlatformAuth(db, TEST_ISSUER);
  const register = createRegisterApi({
    db,
    logger: silentLogger,
    verifier: auth.verifier,
    testData: options.testData ?? true,
    ...(options.lockout ? { personLookupLockout: options.lockout } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const reportees = createReportees({ db, now: () => new Date() });
  const profile = createProfileApi({
    db,
    logger: silentLogger,
    verifier: auth.verifier,
    mayRepresent: (userId, partyId, ownPartyId) => reportees.mayRepresent(userId, partyId, ownPartyId),
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const send =
    (app: typeof register, prefix: string) =>
    async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Response> =>
      app.request(`${prefix}/${path}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
  return {
    db,
    auth,
    user: async (userId, partyId) => bearer(await auth.issuer.userToken({ userId, partyId, authLevel: 2 })),
    org: async (org) => bearer(await auth.issuer.orgToken({ org, scopes: [] })),
    register: send(register, REGISTER_PREFIX),
    profile: send(profile, PROFILE_PREFIX),
    close: () => db.close(),
  };
}
