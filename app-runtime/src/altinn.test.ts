import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionsHost, startFunctionsHost } from '../../functions/src/server.js';
import { loadConfig } from '../../platform/src/config/index.js';
import type { Database } from '../../platform/src/db/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { LocalProvider } from '../../provisioner/src/providers/local/index.js';
import { desired, release, until } from '../../provisioner/test/support/local.js';
import { testBlobConnectionString } from '../../test/support/blob.js';
import { openTestDatabase } from '../../test/support/database.js';
import { createServiceApp } from './app.js';
import { partyIdOf } from './platform-link.js';

// Seeded test data: Sophie Salt is user 1001 with party 510001, Ola Nordmann user 1002 with party 510002.
const SOPHIE = { userId: 1001, partyId: 510001 };
const OLA = { userId: 1002, partyId: 510002 };

describe('the reference runtime against the real platform APIs, through the local provider', () => {
  let db: Database;
  let host: FunctionsHost;
  let provider: LocalProvider;
  let appUrl: string;

  beforeAll(async () => {
    db = await openTestDatabase();
    const config = loadConfig({
      PLATFORM_MODE: 'local',
      BLOB_CONNECTION_STRING: testBlobConnectionString(),
      SEED_TEST_DATA: 'true',
    });
    host = await startFunctionsHost({ config, port: 0, platform: { db, logger: silentLogger } });
    const issuer = host.platform.auth.issuer;
    const ttd = await issuer.orgToken({ org: 'ttd', scopes: ['altinn:appdeploy'] });
    const registered = await fetch(`${host.url}/storage/api/v1/applications/ttd/forms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ttd}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataTypes: [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }] }),
    });
    expect(registered.status).toBe(201);
    // The app's policy, as an Altinn app deploys its policy.xml: the app asks Authorization before instantiating.
    const policy = await fetch(`${host.url}/authorization/api/v1/policies/ttd/forms`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ttd}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        rules: [
          {
            id: 'end-users',
            subjects: ['PRIV', 'DAGL'],
            actions: ['instantiate', 'read', 'write'],
            resources: [{ org: 'ttd', app: 'forms' }],
          },
        ],
      }),
    });
    expect(policy.ok, await policy.text()).toBe(true);

    provider = new LocalProvider({
      platformUrl: host.url,
      accessTokenFor: (org, app) => issuer.accessToken({ org, app }),
      timings: { probePeriodMs: 100, failureThreshold: 2 },
    });
    const cluster = await provider.ensureCluster(
      'ttd',
      { region: 'local', kubernetesVersion: '1.33', nodeCount: 1, vmSize: 'local' },
      undefined,
    );
    if (cluster.kind !== 'done') throw new Error('no cluster');
    appUrl = `${cluster.result.ingressUrl}/ttd/forms`;
    await provider.applyApp('ttd', 'forms', desired(release(1), 1));
    await until(async () => (await provider.rolloutStatus('ttd', 'forms')).complete, 'the app to be ready');
  }, 90_000);

  afterAll(async () => {
    await provider?.close();
    await host?.close();
    await db?.close();
  });

  const userToken = (user: { userId: number; partyId: number }) =>
    host.platform.auth.issuer.userToken({ ...user, authLevel: 2 });

  it('creates an instance, uploads a file to it and reads the user party, as user 1001', async () => {
    const sophie = await userToken(SOPHIE);
    const created = await fetch(`${appUrl}/instances?instanceOwnerPartyId=${SOPHIE.partyId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sophie}` },
    });
    expect(created.status).toBe(201);
    const instance = (await created.json()) as { id: string; appId: string; instanceOwner: { partyId: string } };
    expect(instance).toMatchObject({ appId: 'ttd/forms', instanceOwner: { partyId: String(SOPHIE.partyId) } });

    const uploaded = await fetch(`${appUrl}/instances/${instance.id}/data?dataType=attachment`, {
      method: 'POST',
      headers: {
        cookie: `AltinnStudioRuntime=${sophie}`,
        'content-type': 'text/plain',
        'content-disposition': 'attachment; filename="hello.txt"',
      },
      body: 'hello from the app',
    });
    expect(uploaded.status).toBe(201);
    expect(await uploaded.json()).toMatchObject({ dataType: 'attachment', filename: 'hello.txt', size: 18 });

    const read = await fetch(`${appUrl}/instances/${instance.id}`, { headers: { authorization: `Bearer ${sophie}` } });
    expect(((await read.json()) as { data: { filename: string }[] }).data.map((d) => d.filename)).toEqual([
      'hello.txt',
    ]);

    const party = await fetch(`${appUrl}/api/v1/parties/current`, { headers: { authorization: `Bearer ${sophie}` } });
    expect(party.status).toBe(200);
    expect(await party.json()).toMatchObject({ partyId: SOPHIE.partyId, name: 'Sophie Salt' });
  });

  it('answers 403 problem+json when Authorization does not permit instantiating for the party', async () => {
    const ola = await userToken(OLA);
    const denied = await fetch(`${appUrl}/instances?instanceOwnerPartyId=${SOPHIE.partyId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ola}` },
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 401 problem+json to a caller without a platform token, or with one the platform did not sign', async () => {
    const res = await fetch(`${appUrl}/instances?instanceOwnerPartyId=${SOPHIE.partyId}`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const claims = Buffer.from(JSON.stringify({ 'urn:altinn:userid': '1001', 'urn:altinn:partyid': '510001' }));
    const forged = await fetch(`${appUrl}/instances?instanceOwnerPartyId=${SOPHIE.partyId}`, {
      method: 'POST',
      headers: { authorization: `Bearer e30.${claims.toString('base64url')}.c2ln` },
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('the runtime platform calls', () => {
  let seen: http.IncomingHttpHeaders[] = [];
  let platform: http.Server;
  let platformUrl: string;

  beforeAll(async () => {
    platform = http.createServer((req, res) => {
      req.resume();
      if (req.url?.startsWith('/authorization/')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"Response":[{"Decision":"Permit"}]}');
        return;
      }
      seen.push(req.headers);
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"510001/abc"}');
    });
    await new Promise<void>((resolve) => platform.listen(0, '127.0.0.1', resolve));
    platformUrl = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => platform.close(() => resolve())));

  it("sends the user's token and the app's current PlatformAccessToken to DataServices", async () => {
    seen = [];
    let appToken = 'first';
    const app = createServiceApp({ org: 'ttd', app: 'forms', platformUrl, accessToken: () => appToken });
    await app.request('/ttd/forms/instances?instanceOwnerPartyId=510001', {
      method: 'POST',
      headers: { cookie: 'other=1; AltinnStudioRuntime=user.jwt' },
    });
    appToken = 'refreshed';
    await app.request('/ttd/forms/instances?instanceOwnerPartyId=510001', {
      method: 'POST',
      headers: { authorization: 'Bearer user.jwt' },
    });
    expect(seen.map((h) => [h.authorization, h.platformaccesstoken])).toEqual([
      ['Bearer user.jwt', 'first'],
      ['Bearer user.jwt', 'refreshed'],
    ]);
  });

  it('reads the party id from the token claim', () => {
    const payload = Buffer.from(JSON.stringify({ 'urn:altinn:partyid': 510001 })).toString('base64url');
    expect(partyIdOf(`e30.${payload}.sig`)).toBe('510001');
    expect(partyIdOf('not-a-jwt')).toBeUndefined();
  });
});
