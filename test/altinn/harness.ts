import { afterAll, beforeAll } from 'vitest';
import { type FunctionsHost, startFunctionsHost } from '../../functions/src/server.js';
import { loadConfig } from '../../platform/src/config/index.js';
import type { Database } from '../../platform/src/db/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { freePort } from '../../scripts/processes.js';
import { testBlobConnectionString } from '../support/blob.js';
import { openTestDatabase } from '../support/database.js';

/**
 * Replay harness: a real functions host (PGlite, Azurite, seed data) on a loopback port, and raw HTTP calls built
 * the way Altinn's app library builds them. Replay tests send bytes, not our own client code.
 */

/** Seeded test users (functions/src/register/SEED.md). */
export const USERS = {
  sophie: { ssn: '01817550181', userId: 1001, partyId: 510001 },
  ola: { ssn: '02828840048', userId: 1002, partyId: 510002 },
} as const;

/** The seeded service owner ttd (Testdepartementet). */
export const TTD = { org: 'ttd', orgNumber: '310500003' } as const;

/** The service-owner scopes an app's org token carries. */
export const ORG_SCOPES = [
  'altinn:appdeploy',
  'altinn:serviceowner/instances.read',
  'altinn:serviceowner/instances.write',
] as const;

/** A running host for one test file. */
export interface ReplayHost {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly host: FunctionsHost;
  readonly db: Database;
  /** A platform token of a seeded person, through the test IdP and `exchange` (level 2 unless given). */
  userToken(ssn: string, level?: number): Promise<string>;
  /** A platform token of an organisation with `scopes` (the service owner ttd's unless given). */
  orgToken(scopes?: readonly string[], orgNumber?: string): Promise<string>;
  /** Sends a raw request: `path` starts with `/`, headers as given, nothing added but what fetch adds. */
  send(method: string, path: string, init?: { headers?: Record<string, string>; body?: BodyInit }): Promise<Response>;
}

/**
 * Starts a host before the file's tests and stops it after. `env` adds settings to the local-mode defaults
 * (seeded test data, the test identity provider).
 */
export function useReplayHost(env: Record<string, string> = {}): ReplayHost {
  let db: Database | undefined;
  let host: FunctionsHost | undefined;
  beforeAll(async () => {
    db = await openTestDatabase();
    // Links in answers (selfLinks, a query's next) point at this host, as app-lib follows them.
    const port = await freePort();
    const config = loadConfig({
      PLATFORM_PUBLIC_URL: `http://127.0.0.1:${port}`,
      PLATFORM_MODE: 'local',
      BLOB_CONNECTION_STRING: testBlobConnectionString(),
      SEED_TEST_DATA: 'true',
      ...env,
    });
    host = await startFunctionsHost({ config, port, platform: { db, logger: silentLogger } });
  });
  afterAll(async () => {
    await host?.close();
    await db?.close();
  });

  const running = (): FunctionsHost => {
    if (!host) throw new Error('the replay host is not started (use useReplayHost at file level)');
    return host;
  };
  const token = async (query: string): Promise<string> => {
    const response = await fetch(`${running().url}/authentication/api/v1/testidp/token?${query}&exchange=true`);
    if (response.status !== 200) throw new Error(`test token ${query}: ${response.status} ${await response.text()}`);
    return response.text();
  };
  return {
    get url() {
      return running().url;
    },
    get host() {
      return running();
    },
    get db() {
      if (!db) throw new Error('the replay host is not started');
      return db;
    },
    userToken: (ssn, level) => token(`ssn=${ssn}${level === undefined ? '' : `&level=${level}`}`),
    orgToken: (scopes = ORG_SCOPES, orgNumber = TTD.orgNumber) =>
      token(`orgNumber=${orgNumber}&scope=${encodeURIComponent(scopes.join(' '))}`),
    send: (method, path, init = {}) =>
      fetch(`${running().url}${path}`, {
        method,
        headers: init.headers ?? {},
        ...(init.body === undefined ? {} : { body: init.body, duplex: 'half' }),
      } as RequestInit),
  };
}

/** `Authorization: Bearer` as app-lib's clients set it (`JwtTokenUtil.AddTokenToRequestHeader`). */
export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** A JSON body as app-lib serializes it (System.Text.Json / Newtonsoft, `application/json; charset=utf-8`). */
export function jsonBody(value: unknown): { headers: Record<string, string>; body: string } {
  return { headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(value) };
}
