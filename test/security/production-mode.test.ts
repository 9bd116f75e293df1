import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionsHost, startFunctionsHost } from '../../functions/src/server.js';
import { loadConfig } from '../../platform/src/config/index.js';
import type { Database } from '../../platform/src/db/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { openTestBlobStore } from '../support/blob.js';
import { openTestDatabase } from '../support/database.js';

/**
 * A host in production mode, as an operator deploys it (every required setting, nothing local asked for): none of
 * what is meant for local use answers. The database and blob store are the tests' own, handed in as overrides,
 * since production mode refuses the embedded defaults by configuration.
 */

const ADMIN = 'Zq4xT7vB2nM9kL3pR8sW1yC6dF0gH5jK-aE2uI7oQ4t';
const PRODUCTION_ENV: NodeJS.ProcessEnv = {
  PLATFORM_ISSUER: 'https://platform.example.test/authentication/api/v1/openid/',
  DATABASE_URL: 'postgres://unused@127.0.0.1:1/platform',
  BLOB_CONNECTION_STRING: 'AccountName=prod;AccountKey=cHJvZA==;EndpointSuffix=core.windows.net',
  IDPORTEN_ISSUER: 'https://idporten.example.test/',
  IDPORTEN_JWKS_URI: 'https://idporten.example.test/jwks.json',
  IDPORTEN_AUDIENCE: 'platform',
  MASKINPORTEN_ISSUER: 'https://maskinporten.example.test/',
  MASKINPORTEN_JWKS_URI: 'https://maskinporten.example.test/jwk',
  MASKINPORTEN_AUDIENCE: 'https://platform.example.test/',
  LOG_LEVEL: 'error',
};

let db: Database;
let host: FunctionsHost;
const saved = { ...process.env };

beforeAll(async () => {
  // The provisioner reads its settings from the environment when the host prepares it.
  Object.assign(process.env, {
    PROVISIONER_ADMIN_TOKEN: ADMIN,
    AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
    AZURE_RESOURCE_GROUP: 'rg-apps',
  });
  db = await openTestDatabase();
  const config = loadConfig(PRODUCTION_ENV);
  expect(config.mode).toBe('production');
  host = await startFunctionsHost({
    config,
    port: 0,
    platform: { db, blob: openTestBlobStore(), logger: silentLogger },
  });
});
afterAll(async () => {
  await host?.close();
  await db?.close();
  for (const name of ['PROVISIONER_ADMIN_TOKEN', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('production mode', () => {
  it('serves no test identity provider: no token minting, no test keys', async () => {
    for (const path of [
      'testidp/token?ssn=01817550181',
      'testidp/token?orgNumber=310500003&scope=altinn:appdeploy',
      'testidp/jwks',
    ]) {
      const response = await fetch(`${host.url}/authentication/api/v1/${path}`);
      expect(response.status, path).toBe(404);
    }
  });

  it('serves no seed data list and has seeded no test person', async () => {
    expect((await fetch(`${host.url}/register/api/v1/testdata`)).status).toBe(404);
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM parties');
    expect(row?.n).toBe(0);
  });

  it('trusts only the configured providers in exchange: a token signed like the test IdP is refused', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ iss: 'http://127.0.0.1/testidp', pid: '01817550181', acr: 'idporten-loa-high', exp: 9e9 }),
    ).toString('base64url');
    const response = await fetch(`${host.url}/authentication/api/v1/exchange/id-porten`, {
      headers: { authorization: `Bearer ${header}.${payload}.` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('guards the provisioner with the strong admin token only', async () => {
    const get = (token: string) =>
      fetch(`${host.url}/provisioner/api/v1/clusters/ttd`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get('guess-the-token-guess-the-token')).status).toBe(401);
    // The operator is let through (no cluster yet): a read, so no Azure call is started.
    expect((await get(ADMIN)).status).toBe(404);
  });
});
