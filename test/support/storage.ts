import { expect } from 'vitest';
import { createStorageApi, STORAGE_PREFIX } from '../../functions/src/storage/index.js';
import { type PartyAccess, SCOPES } from '../../functions/src/storage/shared/access.js';
import { type BlobStore, blobServiceClientFromConnectionString } from '../../platform/src/blob/index.js';
import type { Database } from '../../platform/src/db/index.js';
import { createPlatformAuth, type PlatformAuth } from '../../platform/src/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { openTestBlobStore, testBlobConnectionString, uniqueContainerName } from './blob.js';
import { openTestDatabase } from './database.js';
import { seedSigningKey } from './signing-key.js';

/** A problem+json body as the Storage API answers it. */
export type ProblemBody = {
  type: string;
  status: number;
  detail: string;
  errors?: { field: string; detail: string }[];
};

/** Reads a problem+json answer, checking its content type. */
export async function problemOf(response: Response): Promise<ProblemBody> {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as ProblemBody;
}

/** The fields a problem names in its `errors`. */
export async function fieldsOf(response: Response): Promise<string[]> {
  return ((await problemOf(response)).errors ?? []).map((e) => e.field);
}

/** `iss` of the tokens the harness mints. */
export const TEST_ISSUER = 'http://platform.test/authentication/api/v1/openid/';

/** Every scope an org caller can hold in Storage. */
export const ALL_ORG_SCOPES = [SCOPES.instancesRead, SCOPES.instancesWrite, SCOPES.appDeploy];

/** Mints platform tokens the harness's API accepts, as `Authorization` and `PlatformAccessToken` headers. */
export interface TestTokens {
  /** `Authorization: Bearer` of an end user (authentication level 2 unless given). */
  user(userId: number, partyId: number, authLevel?: number): Promise<Record<string, string>>;
  /** `Authorization: Bearer` of an org, with every Storage scope unless given. */
  org(org: string, scopes?: readonly string[]): Promise<Record<string, string>>;
  /** An end user's call through their app `org/app`: Bearer plus the app's `PlatformAccessToken`. */
  userViaApp(userId: number, partyId: number, org: string, app: string): Promise<Record<string, string>>;
}

/** A Storage API on a fresh test database, with helpers to call it and read what it stored. */
export interface StorageHarness {
  db: Database;
  /** The token services the API verifies with. */
  auth: PlatformAuth;
  /** Mints tokens; calls without an `authorization` header carry `org('ttd')`'s. */
  tokens: TestTokens;
  /** The Azurite blob store the API writes data element content to. */
  blob: BlobStore;
  /** This harness's own blob container. */
  container: string;
  /** Sends `method path` (relative to `/storage/api/v1/`) with `body` as JSON, or as raw text when a string. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Rows of `applications` and `texts` as `org/app` and `org/app/language` keys, to prove what was written. */
  stored(): Promise<{ applications: string[]; texts: string[] }>;
  /** Rows of `instances` (hard-deleted ones too) as `{partyId}/{guid}` ids with their flag columns, oldest first. */
  storedInstances(): Promise<StoredInstance[]>;
  /** The stored row of the instance `{partyId}/{guid}` (hard-deleted too): its JSON and row version, or undefined. */
  storedInstance(id: string): Promise<{ instance: Record<string, unknown>; version: string } | undefined>;
  /** Sends `method path` with a raw body (a string, bytes or a stream) and the given headers. */
  send(method: string, path: string, body: BodyInit | null, headers?: Record<string, string>): Promise<Response>;
  /** Names of the committed blobs in the harness's container, sorted. */
  blobNames(): Promise<string[]>;
  /** Rows of `data_elements` as their data guids, sorted. */
  storedDataElements(): Promise<string[]>;
  close(): Promise<void>;
}

/** One row of `instances` as the harness reads it back. */
export interface StoredInstance {
  id: string;
  isSoftDeleted: boolean;
  isHardDeleted: boolean;
}

/** Options of openStorageHarness. */
export interface StorageHarnessOptions {
  /** The API's clock; a steppingClock by default. */
  now?: () => Date;
  /** The blob store the API writes to; the test run's Azurite by default (pass a failing one to inject faults). */
  blob?: BlobStore;
  /** Whom end users may act for; their own party only by default. */
  partyAccess?: PartyAccess;
  /** End users' instance writes need the app's PlatformAccessToken (STORAGE_REQUIRE_APP_TOKEN); off by default. */
  requireAppToken?: boolean;
}

/** A clock that stands still at `at` until moved with `set`, to give several writes one timestamp. */
export function manualClock(at = '2026-01-01T00:00:00Z'): { now: () => Date; set(iso: string): void } {
  let current = Date.parse(at);
  return {
    now: () => new Date(current),
    set(iso) {
      current = Date.parse(iso);
    },
  };
}

/** The fixed clock of the harness: `created` and `lastChanged` advance one second per write. */
export function steppingClock(start = Date.parse('2026-01-01T00:00:00Z')): () => Date {
  let tick = 0;
  return () => new Date(start + 1000 * tick++);
}

/** Opens a migrated test database and a Storage API on it. */
export async function openStorageHarness(options: StorageHarnessOptions = {}): Promise<StorageHarness> {
  const db = await openTestDatabase();
  await seedSigningKey(db);
  const blob = options.blob ?? openTestBlobStore();
  const container = uniqueContainerName('storage');
  const auth = createPlatformAuth(db, TEST_ISSUER);
  const api = createStorageApi({
    db,
    blob,
    blobContainer: container,
    logger: silentLogger,
    now: options.now ?? steppingClock(),
    verifier: auth.verifier,
    ...(options.partyAccess ? { partyAccess: options.partyAccess } : {}),
    ...(options.requireAppToken ? { requireAppToken: true } : {}),
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const tokens: TestTokens = {
    user: async (userId, partyId, authLevel = 2) => bearer(await auth.issuer.userToken({ userId, partyId, authLevel })),
    org: async (org, scopes = ALL_ORG_SCOPES) => bearer(await auth.issuer.orgToken({ org, scopes })),
    userViaApp: async (userId, partyId, org, app) => ({
      ...(await tokens.user(userId, partyId)),
      PlatformAccessToken: await auth.issuer.accessToken({ org, app }),
    }),
  };
  let defaultAuthorization: Promise<Record<string, string>> | undefined;
  /** `headers` with the default org token added unless they name `authorization` (an empty one is dropped). */
  async function authorised(headers: Record<string, string>): Promise<Record<string, string>> {
    const named = Object.keys(headers).find((name) => name.toLowerCase() === 'authorization');
    if (named === undefined) {
      defaultAuthorization ??= tokens.org('ttd');
      return { ...(await defaultAuthorization), ...headers };
    }
    if (headers[named] !== '') return headers;
    const { [named]: _dropped, ...rest } = headers;
    return rest;
  }
  return {
    db,
    auth,
    tokens,
    blob,
    container,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: await authorised(headers) };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        init.headers = { 'content-type': 'application/json', ...(await authorised(headers)) };
      }
      return api.request(`${STORAGE_PREFIX}/${path}`, init);
    },
    async stored() {
      const applications = await db.query<{ key: string }>(
        "SELECT org || '/' || app AS key FROM applications ORDER BY key",
      );
      const texts = await db.query<{ key: string }>(
        "SELECT org || '/' || app || '/' || language AS key FROM texts ORDER BY key",
      );
      return { applications: applications.map((r) => r.key), texts: texts.map((r) => r.key) };
    },
    async storedInstances() {
      const rows = await db.query<{ id: string; is_soft_deleted: boolean; is_hard_deleted: boolean }>(
        `SELECT party_id::text || '/' || instance_guid::text AS id, is_soft_deleted, is_hard_deleted
         FROM instances ORDER BY created, instance_guid`,
      );
      return rows.map((row) => ({
        id: row.id,
        isSoftDeleted: row.is_soft_deleted,
        isHardDeleted: row.is_hard_deleted,
      }));
    },
    async storedInstance(id) {
      const [partyId, guid] = id.split('/');
      const [row] = await db.query<{ instance: Record<string, unknown>; version: string }>(
        'SELECT instance, version::text AS version FROM instances WHERE party_id = $1 AND instance_guid = $2',
        [partyId, guid],
      );
      return row;
    },
    async send(method, path, body, headers = {}) {
      const init: RequestInit & { duplex?: 'half' } = { method, headers: await authorised(headers), body };
      if (body instanceof ReadableStream) init.duplex = 'half';
      return api.request(new Request(`http://localhost${STORAGE_PREFIX}/${path}`, init));
    },
    async blobNames() {
      const client = blobServiceClientFromConnectionString(testBlobConnectionString()).getContainerClient(container);
      if (!(await client.exists())) return [];
      const found: string[] = [];
      for await (const item of client.listBlobsFlat()) found.push(item.name);
      return found.sort();
    },
    async storedDataElements() {
      const rows = await db.query<{ id: string }>('SELECT data_guid::text AS id FROM data_elements ORDER BY id');
      return rows.map((row) => row.id);
    },
    close: () => db.close(),
  };
}

/**
 * Creates the app `ttd/forms` (no data types) and one instance of it owned by `partyId`, as `ttd`; answers the
 * creating response, read for its body and ETag.
 */
export async function createFormsInstance(storage: StorageHarness, partyId = '510001'): Promise<Response> {
  expect((await storage.call('POST', 'applications/ttd/forms', {})).status).toBe(201);
  const response = await storage.call('POST', 'instances?appId=ttd/forms', { instanceOwner: { partyId } });
  expect(response.status).toBe(201);
  return response;
}
