import {
  AUTHORIZATION_PREFIX,
  AUTHORIZATION_SCOPES,
  type AuthorizationServices,
  createAuthorizationApi,
  createAuthorizationServices,
} from '../../functions/src/authorization/index.js';
import type { AppPolicy } from '../../functions/src/authorization/policy.js';
import { createIntermediaryApi, INTERMEDIARY_PREFIX } from '../../functions/src/intermediary/index.js';
import type { Database } from '../../platform/src/db/index.js';
import { createPlatformAuth } from '../../platform/src/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { openTestDatabase } from './database.js';
import { seedSigningKey } from './signing-key.js';
import { manualClock, TEST_ISSUER } from './storage.js';

/** Headers carrying a token. */
export type Headers = Record<string, string>;

/** Authorization and Intermediary on one fresh test database, sharing their services as in one functions host. */
export interface AuthorizationHarness {
  db: Database;
  services: AuthorizationServices;
  /** The clock grants are valid by; starts at 2026-01-01T00:00:00Z and stands still until set. */
  clock: { now: () => Date; set(iso: string): void };
  tokens: {
    user(userId: number, partyId: number, authLevel?: number): Promise<Headers>;
    org(org: string, scopes?: readonly string[]): Promise<Headers>;
    /** An org holding both admin scopes (roles and delegations). */
    admin(): Promise<Headers>;
  };
  /** Sends `method path` (below `/authorization/api/v1/`) with a JSON body; `headers` must carry a token. */
  authorization(method: string, path: string, headers: Headers, body?: unknown): Promise<Response>;
  /** Sends `method path` (below `/intermediary/api/v1/`) with a JSON body; `headers` must carry a token. */
  intermediary(method: string, path: string, headers: Headers, body?: unknown): Promise<Response>;
  /** Stores `policy` for `org/app` as that org deploying. */
  putPolicy(org: string, app: string, policy: AppPolicy): Promise<void>;
  /** Assigns `roleCode` to the user for the party as a roles admin; answers the assignment id. */
  assignRole(userId: number, partyId: number, roleCode: string, validTo?: string): Promise<number>;
  close(): Promise<void>;
}

/** Options of openAuthorizationHarness. */
export interface AuthorizationHarnessOptions {
  /** How often the decision cache reads the database generation; 60 s by default, so tests see in-process effects only. */
  cacheCheckIntervalMs?: number;
}

/** Opens Authorization and Intermediary APIs on a migrated test database with a manual clock. */
export async function openAuthorizationHarness(
  options: AuthorizationHarnessOptions = {},
): Promise<AuthorizationHarness> {
  const db = await openTestDatabase();
  await seedSigningKey(db);
  const clock = manualClock();
  const auth = createPlatformAuth(db, TEST_ISSUER);
  const services = createAuthorizationServices({
    db,
    logger: silentLogger,
    now: clock.now,
    cacheCheckIntervalMs: options.cacheCheckIntervalMs ?? 60_000,
  });
  const common = { services, logger: silentLogger, verifier: auth.verifier };
  const authorizationApi = createAuthorizationApi(common);
  const intermediaryApi = createIntermediaryApi(common);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const tokens: AuthorizationHarness['tokens'] = {
    user: async (userId, partyId, authLevel = 2) => bearer(await auth.issuer.userToken({ userId, partyId, authLevel })),
    org: async (org, scopes = []) => bearer(await auth.issuer.orgToken({ org, scopes })),
    admin: () => tokens.org('digdir', [AUTHORIZATION_SCOPES.rolesAdmin, AUTHORIZATION_SCOPES.delegationsAdmin]),
  };
  const send =
    (app: typeof authorizationApi, prefix: string) =>
    async (method: string, path: string, headers: Headers, body?: unknown): Promise<Response> =>
      app.request(`${prefix}/${path}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
  const harness: AuthorizationHarness = {
    db,
    services,
    clock,
    tokens,
    authorization: send(authorizationApi, AUTHORIZATION_PREFIX),
    intermediary: send(intermediaryApi, INTERMEDIARY_PREFIX),
    async putPolicy(org, app, policy) {
      const response = await harness.authorization(
        'PUT',
        `policies/${org}/${app}`,
        await tokens.org(org, [AUTHORIZATION_SCOPES.appDeploy]),
        policy,
      );
      if (response.status !== 200) throw new Error(`PUT policy answered ${response.status}: ${await response.text()}`);
    },
    async assignRole(userId, partyId, roleCode, validTo) {
      const response = await harness.authorization('POST', 'roleassignments', await tokens.admin(), {
        userId,
        partyId,
        roleCode,
        ...(validTo ? { validTo } : {}),
      });
      if (response.status !== 201)
        throw new Error(`role assignment answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { id: number }).id;
    },
    close: () => db.close(),
  };
  return harness;
}

/** Attribute list of a XACML JSON category. */
const attributes = (values: Record<string, string | number>) =>
  Object.entries(values).map(([AttributeId, Value]) => ({ AttributeId, Value: String(Value) }));

/** A XACML JSON request of one user (with their own party) doing `action` on `org/app` of `partyId`. */
export function userRequest(
  user: { userId: number; partyId?: number },
  action: string,
  resource: { org: string; app: string; partyId: number; task?: string },
) {
  return {
    Request: {
      AccessSubject: [
        {
          Attribute: attributes({
            'urn:altinn:userid': user.userId,
            ...(user.partyId === undefined ? {} : { 'urn:altinn:partyid': user.partyId }),
          }),
        },
      ],
      Action: [{ Attribute: attributes({ 'urn:oasis:names:tc:xacml:1.0:action:action-id': action }) }],
      Resource: [
        {
          Attribute: attributes({
            'urn:altinn:org': resource.org,
            'urn:altinn:app': resource.app,
            'urn:altinn:partyid': resource.partyId,
            ...(resource.task ? { 'urn:altinn:task': resource.task } : {}),
          }),
        },
      ],
    },
  };
}

/** `attributes` for tests building their own XACML categories. */
export { attributes as xacmlAttributes };
