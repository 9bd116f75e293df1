import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPolicy } from '../../scripts/demo.js';
import { type LocalPlatform, startLocalPlatform, waitFor } from '../support/platform.js';

/**
 * The whole chain on the real local platform as `npm start` runs it (Azurite, the functions host with
 * the provisioner's local provider, the edge in `wrangler dev`), played through HTTP only, in order:
 * an org deploys an app, an end user signs in, creates an instance and uploads a file through the edge,
 * the org downloads it, the user's plan limits her, the app calls an outside API through egress, a
 * release rolls out and back under load, and a delegation lets a second user act for her.
 */

// Seeded test data (functions/src/register/SEED.md): Sophie Salt (user 1001, party 510001), Ola Nordmann
// (user 1002, party 510002); the service owner ttd is Testdepartementet, organisation number 310500003.
const SOPHIE = { ssn: '01817550181', userId: 1001, partyId: 510001 };
const OLA = { ssn: '02828840048', userId: 1002, partyId: 510002 };
const TTD_SCOPES = 'altinn:appdeploy altinn:serviceowner/instances.read altinn:serviceowner/instances.write';
const EDGE_ADMIN = `journey-edge-admin-${process.pid}`;
const OUTSIDE_KEY = `outside-key-${randomBytes(8).toString('hex')}`;

let platform: LocalPlatform;
/** The outside API the app calls through egress: a loopback server that records what reaches it. */
let outside: http.Server;
let outsidePort = 0;
const outsideSeen: { url: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  outside = http.createServer((req, res) => {
    outsideSeen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outside: true, url: req.url }));
  });
  await new Promise<void>((resolve) => outside.listen(0, '127.0.0.1', resolve));
  outsidePort = (outside.address() as AddressInfo).port;
  platform = await startLocalPlatform({
    EDGE_ADMIN_TOKEN: EDGE_ADMIN,
    EGRESS_DEV_LOOPBACK_PORTS: String(outsidePort),
    PROVISIONER_POLL_MS: '200',
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await new Promise<void>((resolve) => (outside ? outside.close(() => resolve()) : resolve()));
}, 60_000);

const functions = (path: string) => `http://127.0.0.1:${platform.ports.functions}${path}`;
const edge = (path: string) => `http://127.0.0.1:${platform.ports.edge}${path}`;
const appApi = (path = '') => functions(`/provisioner/api/v1/clusters/ttd/apps/journey${path}`);

async function call(token: string, method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const admin = (method: string, path: string, body?: unknown) => call(EDGE_ADMIN, method, edge(path), body);

/** Signs in with the test identity provider (an ID-porten token), then exchanges it for a platform token. */
async function signIn(ssn: string): Promise<{ idPorten: string; platform: string }> {
  const idp = await fetch(functions(`/authentication/api/v1/testidp/token?ssn=${ssn}`));
  expect(idp.status).toBe(200);
  const idPorten = (await idp.text()).trim();
  const exchanged = await call(idPorten, 'GET', functions('/authentication/api/v1/exchange/id-porten'));
  expect(exchanged.status).toBe(200);
  return { idPorten, platform: (await exchanged.text()).trim() };
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A provisioner operation, as much of it as the journey reads. */
interface Operation {
  status: string;
  error?: unknown;
}

/** Waits for a provisioner operation to end; answers it. */
async function operation(location: string, token: string): Promise<Operation> {
  return waitFor(
    async () => (await (await call(token, 'GET', functions(location))).json()) as Operation,
    (op) => ['Succeeded', 'Failed', 'Canceled'].includes(op.status),
    120_000,
  );
}

/** The journey app's release: the image, the replicas, and its config naming the egress proxy and targets. */
function release(image: string, version: string): Record<string, unknown> {
  return {
    image,
    version,
    minReplicas: 2,
    maxReplicas: 2,
    autoscaling: { enabled: false },
    config: {
      egress: {
        base: edge('/_egress'),
        targets: { outside: `http/127.0.0.1:${outsidePort}`, metadata: 'http/169.254.169.254' },
      },
    },
  };
}

/** Which release answered the app's front page through the edge. */
async function releaseAtEdge(): Promise<string> {
  const response = await fetch(edge('/ttd/journey/'));
  expect(response.status).toBe(200);
  return String(((await response.json()) as { release: unknown }).release);
}

let ttd = '';
let sophie = '';
let ola = '';
let instanceId = '';
const upload = randomBytes(6 * 1024);

describe('the end-user journey through the edge, the org cluster, the app and the platform APIs', () => {
  it('1. ttd deploys ttd/journey through the provisioner with its own token, and the edge routes it', async () => {
    ttd = await platform.orgToken(TTD_SCOPES);
    const cluster = await call(ttd, 'GET', functions('/provisioner/api/v1/clusters/ttd'));
    expect(cluster.status).toBe(200);
    expect(((await cluster.json()) as { status: { phase: string } }).status.phase).toBe('Ready');
    // Before the deploy the edge does not list the app.
    expect((await fetch(edge('/ttd/journey/'))).status).toBe(404);

    // What an Altinn app's deploy stores besides the image: its metadata (data types) and its policy.
    const metadata = await call(ttd, 'POST', functions('/storage/api/v1/applications/ttd/journey'), {
      title: { en: 'Journey' },
      dataTypes: [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }],
    });
    expect(metadata.status).toBe(201);
    const policy = await call(ttd, 'PUT', functions('/authorization/api/v1/policies/ttd/journey'), {
      ...appPolicy('ttd', 'journey'),
    });
    expect(policy.ok, await policy.clone().text()).toBe(true);

    const put = await call(ttd, 'PUT', appApi(), release('app-runtime:1.0.0', '1.0.0'));
    expect(put.status, await put.clone().text()).toBe(202);
    const op = await operation(put.headers.get('location') ?? '', ttd);
    expect(op.status, JSON.stringify(op.error)).toBe('Succeeded');

    await waitFor(
      async () => (await fetch(edge('/ttd/journey/'))).status,
      (s) => s === 200,
      30_000,
    );
    const route = await admin('GET', '/_edge/routes/ttd/journey');
    expect(route.status).toBe(200);
    expect(await releaseAtEdge()).toBe('1');
  }, 180_000);

  it('2. Sophie signs in with the local identity provider and exchanges for a platform token', async () => {
    const tokens = await signIn(SOPHIE.ssn);
    sophie = tokens.platform;
    expect(tokens.platform).not.toBe(tokens.idPorten);
    expect(claimsOf(sophie)).toMatchObject({
      'urn:altinn:userid': String(SOPHIE.userId),
      'urn:altinn:partyid': String(SOPHIE.partyId),
    });
    // The ID-porten token itself is not a platform token.
    expect((await call(tokens.idPorten, 'GET', functions('/profile/api/v1/users/current'))).status).toBe(401);
    expect((await call(sophie, 'GET', functions('/profile/api/v1/users/current'))).status).toBe(200);
  });

  it('3. through the edge she creates an instance and uploads a file; the app reads her party and profile', async () => {
    const created = await call(sophie, 'POST', edge(`/ttd/journey/instances?instanceOwnerPartyId=${SOPHIE.partyId}`));
    expect(created.status, await created.clone().text()).toBe(201);
    expect(created.headers.get('via')).toContain('altinn-edge');
    const instance = (await created.json()) as { id: string; appId: string; instanceOwner: { partyId: string } };
    expect(instance).toMatchObject({ appId: 'ttd/journey', instanceOwner: { partyId: String(SOPHIE.partyId) } });
    instanceId = instance.id;

    const uploaded = await fetch(edge(`/ttd/journey/instances/${instanceId}/data?dataType=attachment`), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sophie}`,
        'content-type': 'application/octet-stream',
        'content-disposition': 'attachment; filename="journey.bin"',
      },
      body: upload,
    });
    expect(uploaded.status, await uploaded.clone().text()).toBe(201);
    expect(await uploaded.json()).toMatchObject({
      dataType: 'attachment',
      filename: 'journey.bin',
      size: upload.length,
    });

    const me = await call(sophie, 'GET', edge('/ttd/journey/api/v1/users/current'));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      profile: { userId: SOPHIE.userId, userName: 'sophie', partyId: SOPHIE.partyId },
      party: { partyId: SOPHIE.partyId, name: 'Sophie Salt' },
    });
  });

  it('4. ttd lists its instances with an org token and downloads the file: same bytes, same MD5', async () => {
    const listed = await call(ttd, 'GET', functions('/storage/api/v1/instances?org=ttd&appId=ttd/journey'));
    expect(listed.status).toBe(200);
    const page = (await listed.json()) as {
      instances: { id: string; data: { id: string; filename: string; size: number; contentHash: string }[] }[];
    };
    expect(page.instances.map((i) => i.id)).toEqual([instanceId]);
    const element = page.instances[0]?.data[0];
    expect(element).toMatchObject({ filename: 'journey.bin', size: upload.length });

    const download = await call(ttd, 'GET', functions(`/storage/api/v1/instances/${instanceId}/data/${element?.id}`));
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.equals(upload)).toBe(true);
    const md5 = createHash('md5').update(upload).digest('base64');
    expect(createHash('md5').update(bytes).digest('base64')).toBe(md5);
    expect(element?.contentHash).toBe(md5);
  });

  it("5. Sophie's plan limit is hit: 429 with Retry-After and RateLimit fields", async () => {
    expect((await admin('PUT', '/_edge/plans/journey-tight', { rate: [{ limit: 3, windowSeconds: 10 }] })).ok).toBe(
      true,
    );
    const consumer = `user-${SOPHIE.userId}`;
    expect((await admin('PUT', `/_edge/consumers/${consumer}`, { plan: 'journey-tight' })).ok).toBe(true);

    const answers: Response[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await call(sophie, 'GET', edge('/ttd/journey/'));
      await response.arrayBuffer();
      answers.push(response);
      if (response.status === 429) break;
    }
    const limited = answers.at(-1);
    expect(limited?.status).toBe(429);
    // At most 3 admitted in the window, each telling what is left.
    const admitted = answers.filter((r) => r.status === 200);
    expect(admitted.length).toBeLessThanOrEqual(3);
    for (const response of admitted) {
      expect(response.headers.get('ratelimit-policy')).toContain('q=3;w=10');
      expect(response.headers.get('ratelimit-limit')).toBe('3');
    }
    const headers = limited?.headers;
    expect(Number(headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(headers?.get('ratelimit-policy')).toContain('q=3;w=10');
    expect(headers?.get('ratelimit')).toMatch(/r=0/);
    expect(headers?.get('ratelimit-limit')).toBe('3');
    expect(headers?.get('ratelimit-remaining')).toBe('0');
    expect(Number(headers?.get('ratelimit-reset'))).toBeGreaterThan(0);
    // Other users are not limited by her plan.
    const other = await signIn(OLA.ssn);
    ola = other.platform;
    expect((await call(ola, 'GET', edge('/ttd/journey/'))).status).toBe(200);

    // Lift it, so the later steps are not limited: without a consumer she is back on the default plan.
    expect((await admin('DELETE', `/_edge/consumers/${consumer}`)).status).toBe(204);
    expect((await admin('DELETE', '/_edge/plans/journey-tight')).status).toBe(204);
    await waitFor(
      async () => (await call(sophie, 'GET', edge('/ttd/journey/'))).status,
      (s) => s === 200,
      30_000,
    );
  }, 60_000);

  it('6. the app calls an outside API through egress with an injected credential; a private address is refused', async () => {
    const target = await admin('PUT', '/_edge/egress/ttd/targets/outside', {
      scheme: 'http',
      host: '127.0.0.1',
      ports: [outsidePort],
      methods: ['GET'],
      pathPrefixes: ['/v1/'],
      apps: ['journey'],
    });
    expect(target.ok, await target.clone().text()).toBe(true);
    const credential = await admin('PUT', '/_edge/egress/ttd/targets/outside/credential', {
      type: 'header',
      name: 'X-Api-Key',
      value: OUTSIDE_KEY,
    });
    expect(credential.ok, await credential.clone().text()).toBe(true);

    outsideSeen.length = 0;
    const reached = await call(sophie, 'GET', edge('/ttd/journey/api/outside/outside/v1/weather?city=bergen'));
    expect(reached.status, await reached.clone().text()).toBe(200);
    expect(await reached.json()).toEqual({ outside: true, url: '/v1/weather?city=bergen' });
    expect(outsideSeen).toHaveLength(1);
    const seen = outsideSeen[0]?.headers ?? {};
    expect(seen['x-api-key']).toBe(OUTSIDE_KEY);
    // Neither the user's token nor the app's reaches the outside API.
    expect(seen.authorization).toBeUndefined();
    expect(seen.platformaccesstoken).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(sophie.split('.')[1]);

    const refused = await call(sophie, 'GET', edge('/ttd/journey/api/outside/metadata/latest/meta-data/'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.json()).toMatchObject({ reason: 'forbidden-address' });
    expect(outsideSeen).toHaveLength(1);
  });

  it('7. release 2 rolls out and is rolled back under steady load through the edge with 0 failed requests', async () => {
    let running = true;
    const failures: string[] = [];
    const releases: string[] = [];
    let requests = 0;
    const loops = [0, 1, 2].map(async (loop) => {
      for (let i = 0; running; i++) {
        try {
          if ((i + loop) % 3 === 2) {
            const response = await fetch(edge('/ttd/journey/api/echo'), {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ loop, i }),
            });
            const body = (await response.json()) as { bodyBytes?: number };
            if (response.status !== 200 || !body.bodyBytes) failures.push(`POST ${response.status}`);
          } else {
            const response = await fetch(edge('/ttd/journey/'));
            const text = await response.text();
            if (response.status !== 200) failures.push(`GET ${response.status} ${text.slice(0, 200)}`);
            else releases.push(String((JSON.parse(text) as { release: unknown }).release));
          }
        } catch (error) {
          failures.push(String(error));
        }
        requests++;
      }
    });
    let afterRollout = '';
    try {
      const put = await call(ttd, 'PUT', appApi(), release('app-runtime:2.0.0', '2.0.0'));
      expect(put.status, await put.clone().text()).toBe(202);
      const rolledOut = await operation(put.headers.get('location') ?? '', ttd);
      expect(rolledOut.status, JSON.stringify(rolledOut.error)).toBe('Succeeded');
      afterRollout = await releaseAtEdge();

      const back = await call(ttd, 'POST', appApi('/rollback'));
      expect(back.status, await back.clone().text()).toBe(202);
      const rolledBack = await operation(back.headers.get('location') ?? '', ttd);
      expect(rolledBack.status, JSON.stringify(rolledBack.error)).toBe('Succeeded');
    } finally {
      running = false;
      await Promise.all(loops);
    }
    console.log(`journey load: ${requests} requests through the edge, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(afterRollout).toBe('2');
    expect(await releaseAtEdge()).toBe('1');
    // The answers under load went from release 1 to 2 and back to 1.
    expect(releases.indexOf('2')).toBeGreaterThan(releases.indexOf('1'));
    expect(releases.lastIndexOf('1')).toBeGreaterThan(releases.indexOf('2'));
    const view = (await (await call(ttd, 'GET', appApi())).json()) as { status: { servingRevision: number } };
    expect(view.status.servingRevision).toBe(1);
  }, 300_000);

  it("8. a delegation lets Ola create an instance for Sophie's party through the app, and revoking it stops that", async () => {
    const create = () => call(ola, 'POST', edge(`/ttd/journey/instances?instanceOwnerPartyId=${SOPHIE.partyId}`));
    const before = await create();
    expect(before.status).toBe(403);
    expect(before.headers.get('content-type')).toBe('application/problem+json');
    expect(((await before.json()) as { detail: string }).detail).toContain(
      'Authorization answered Deny to instantiate ttd/journey',
    );

    const delegated = await call(sophie, 'POST', functions('/intermediary/api/v1/delegations'), {
      offeredByPartyId: SOPHIE.partyId,
      coveredByUserId: OLA.userId,
      rights: { org: 'ttd', app: 'journey', actions: ['instantiate', 'read', 'write'] },
    });
    expect(delegated.status, await delegated.clone().text()).toBe(201);
    const { delegationId } = (await delegated.json()) as { delegationId: string };

    const during = await create();
    expect(during.status, await during.clone().text()).toBe(201);
    expect(await during.json()).toMatchObject({
      appId: 'ttd/journey',
      instanceOwner: { partyId: String(SOPHIE.partyId) },
    });

    expect((await call(sophie, 'DELETE', functions(`/intermediary/api/v1/delegations/${delegationId}`))).status).toBe(
      200,
    );
    const after = await create();
    expect(after.status).toBe(403);
    expect(after.headers.get('content-type')).toBe('application/problem+json');
  });
});
