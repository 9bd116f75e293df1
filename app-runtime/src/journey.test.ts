import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionsHost, startFunctionsHost } from '../../functions/src/server.js';
import { loadConfig } from '../../platform/src/config/index.js';
import type { Database } from '../../platform/src/db/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { testBlobConnectionString } from '../../test/support/blob.js';
import { openTestDatabase } from '../../test/support/database.js';
import { createServiceApp } from './app.js';
import { parseAppConfig } from './config.js';
import { decisionRequest } from './decision.js';

// Seeded test data (functions/src/register/SEED.md): Sophie Salt is user 1001 with party 510001.
const SOPHIE = { userId: 1001, partyId: 510001 };

describe("the user's profile and party, against the real Profile and Register", () => {
  let db: Database;
  let host: FunctionsHost;

  beforeAll(async () => {
    db = await openTestDatabase();
    const config = loadConfig({
      PLATFORM_MODE: 'local',
      BLOB_CONNECTION_STRING: testBlobConnectionString(),
      SEED_TEST_DATA: 'true',
    });
    host = await startFunctionsHost({ config, port: 0, platform: { db, logger: silentLogger } });
  }, 60_000);
  afterAll(async () => {
    await host?.close();
    await db?.close();
  });

  it("answers the signed-in user's profile together with their party", async () => {
    const issuer = host.platform.auth.issuer;
    const appToken = await issuer.accessToken({ org: 'ttd', app: 'forms' });
    const app = createServiceApp({ org: 'ttd', app: 'forms', platformUrl: host.url, accessToken: () => appToken });
    const sophie = await issuer.userToken({ ...SOPHIE, authLevel: 2 });
    const res = await app.request('/ttd/forms/api/v1/users/current', {
      headers: { authorization: `Bearer ${sophie}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      profile: { userId: SOPHIE.userId, userName: 'sophie', partyId: SOPHIE.partyId },
      party: { partyId: SOPHIE.partyId, name: 'Sophie Salt' },
    });
  });

  it('answers 401 problem+json without a platform token', async () => {
    const app = createServiceApp({ org: 'ttd', app: 'forms', platformUrl: host.url });
    const res = await app.request('/ttd/forms/api/v1/users/current');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('outside calls through the egress proxy', () => {
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  let egress: http.Server;
  let egressBase: string;

  beforeAll(async () => {
    // Stands in for the edge's /_egress: records what the app sends, answers like a target or a refusal.
    egress = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      req.resume();
      if (req.url?.startsWith('/_egress/http/169.254.169.254/')) {
        res
          .writeHead(403, { 'content-type': 'application/problem+json' })
          .end('{"status":403,"reason":"forbidden-address"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"outside"}');
    });
    await new Promise<void>((resolve) => egress.listen(0, '127.0.0.1', resolve));
    egressBase = `http://127.0.0.1:${(egress.address() as AddressInfo).port}/_egress`;
  });
  afterAll(() => new Promise<void>((resolve) => egress.close(() => resolve())));

  const appWith = (config: ReturnType<typeof parseAppConfig>) =>
    createServiceApp({
      org: 'ttd',
      app: 'forms',
      platformUrl: 'http://127.0.0.1:1',
      accessToken: () => 'app.token',
      config,
    });
  const config = () =>
    parseAppConfig(
      JSON.stringify({
        egress: { base: egressBase, targets: { api: 'http/127.0.0.1:8080', metadata: 'http/169.254.169.254' } },
      }),
    );

  it("calls the configured target's path and query with the app's token only, and passes the answer back", async () => {
    seen.length = 0;
    const res = await appWith(config()).request('/ttd/forms/api/outside/api/v1/things?q=1', {
      headers: { authorization: 'Bearer user.token', cookie: 'AltinnStudioRuntime=user.token' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'outside' });
    expect(seen.map((s) => s.url)).toEqual(['/_egress/http/127.0.0.1:8080/v1/things?q=1']);
    expect(seen[0]?.headers.platformaccesstoken).toBe('app.token');
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(seen[0]?.headers.cookie).toBeUndefined();
  });

  it("passes the proxy's refusal back as it came", async () => {
    const res = await appWith(config()).request('/ttd/forms/api/outside/metadata/latest/meta-data');
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ reason: 'forbidden-address' });
  });

  it('answers 404 for a target the config does not name and 503 without egress config', async () => {
    expect((await appWith(config()).request('/ttd/forms/api/outside/toString/x')).status).toBe(404);
    expect((await appWith({}).request('/ttd/forms/api/outside/api/x')).status).toBe(503);
  });

  it('refuses an APP_CONFIG whose target is not {scheme}/{host}[:port]', () => {
    const bad = JSON.stringify({ egress: { base: egressBase, targets: { api: 'http://127.0.0.1/x' } } });
    expect(() => parseAppConfig(bad)).toThrow(/egress\.targets\.api/);
    expect(parseAppConfig(undefined)).toEqual({});
  });
});

describe('the decision request', () => {
  const jwt = (claims: Record<string, unknown>) =>
    `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it("names the user and their own party as subject, the app and the instance owner's party as resource", () => {
    const body = decisionRequest(jwt({ 'urn:altinn:userid': '1002', 'urn:altinn:partyid': 510002 }), {
      action: 'instantiate',
      org: 'ttd',
      app: 'forms',
      partyId: '510001',
    });
    expect(body).toEqual({
      Request: {
        AccessSubject: [
          {
            Attribute: [
              { AttributeId: 'urn:altinn:userid', Value: '1002' },
              { AttributeId: 'urn:altinn:partyid', Value: '510002' },
            ],
          },
        ],
        Action: [
          { Attribute: [{ AttributeId: 'urn:oasis:names:tc:xacml:1.0:action:action-id', Value: 'instantiate' }] },
        ],
        Resource: [
          {
            Attribute: [
              { AttributeId: 'urn:altinn:org', Value: 'ttd' },
              { AttributeId: 'urn:altinn:app', Value: 'forms' },
              { AttributeId: 'urn:altinn:partyid', Value: '510001' },
            ],
          },
        ],
      },
    });
  });

  it('names the org as subject for an org token', () => {
    const body = decisionRequest(jwt({ 'urn:altinn:org': 'ttd' }), {
      action: 'instantiate',
      org: 'ttd',
      app: 'forms',
      partyId: '510001',
    }) as { Request: { AccessSubject: unknown } };
    expect(body.Request.AccessSubject).toEqual([{ Attribute: [{ AttributeId: 'urn:altinn:org', Value: 'ttd' }] }]);
  });
});
