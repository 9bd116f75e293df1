import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageHarness, problemOf, type StorageHarness } from '../../../../test/support/storage.js';
import { SCOPES } from './access.js';

type Instance = { id: string; createdBy: string | null; completeConfirmations?: { stakeholderId: string }[] };
type Page = { instances: Instance[] };

// User 1001 is party 510001; user 1002 is party 510002.
const ALICE = { userId: 1001, partyId: 510001 };
const BOB = { userId: 1002, partyId: 510002 };

let storage: StorageHarness;
let instance: Instance;

const asAlice = () => storage.tokens.user(ALICE.userId, ALICE.partyId);
const aliceViaApp = (org = 'ttd', app = 'forms') => storage.tokens.userViaApp(ALICE.userId, ALICE.partyId, org, app);
const template = (partyId: number) => ({ instanceOwner: { partyId: String(partyId) } });

async function expectStatus(response: Response, status: number): Promise<void> {
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${await response.text()}`);
}

beforeEach(async () => {
  storage = await openStorageHarness();
  await expectStatus(
    await storage.call('POST', 'applications/ttd/forms', {
      dataTypes: [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }],
    }),
    201,
  );
  await expectStatus(await storage.call('POST', 'applications/ttd/other', {}), 201);
  const created = await storage.call('POST', 'instances?appId=ttd/forms', template(ALICE.partyId), await aliceViaApp());
  await expectStatus(created, 201);
  instance = (await created.json()) as Instance;
});
afterEach(() => storage.close());

describe('authentication', () => {
  it('answers 401 with a Bearer challenge without a token, and for a tampered one', async () => {
    const none = await storage.call('GET', `instances/${instance.id}`, undefined, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="platform"');
    expect((await problemOf(none)).type).toBe('urn:altinn-platform:problem:unauthorized');
    const token = (await asAlice()).authorization ?? '';
    const tampered = await storage.call('GET', `instances/${instance.id}`, undefined, {
      authorization: `${token.slice(0, -4)}AAAA`,
    });
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('accepts the token in the AltinnStudioRuntime cookie', async () => {
    const token = ((await asAlice()).authorization ?? '').replace('Bearer ', '');
    const response = await storage.call('GET', `instances/${instance.id}`, undefined, {
      authorization: '',
      cookie: `AltinnStudioRuntime=${token}`,
    });
    expect(response.status).toBe(200);
  });
});

describe('end users', () => {
  it('create through their app for their own party, recorded as created by them', async () => {
    expect(instance.createdBy).toBe('1001');
    expect(await storage.storedInstances()).toHaveLength(1);
  });

  it('create with their own token alone (as app-lib does), not through another app or for another party', async () => {
    const alone = await storage.call('POST', 'instances?appId=ttd/forms', template(ALICE.partyId), await asAlice());
    expect(alone.status).toBe(201);
    const cases: [Record<string, string>, number][] = [
      [await aliceViaApp('ttd', 'other'), ALICE.partyId],
      [await aliceViaApp(), BOB.partyId],
      [await asAlice(), BOB.partyId],
    ];
    for (const [headers, partyId] of cases) {
      const response = await storage.call('POST', 'instances?appId=ttd/forms', template(partyId), headers);
      expect(response.status).toBe(403);
      expect((await problemOf(response)).type).toBe('urn:altinn-platform:problem:forbidden');
    }
    expect(await storage.storedInstances()).toHaveLength(2);
  });

  it('read their own instances, also without the app, and not another party’s', async () => {
    expect((await storage.call('GET', `instances/${instance.id}`, undefined, await asAlice())).status).toBe(200);
    const bob = await storage.tokens.user(BOB.userId, BOB.partyId);
    const denied = await storage.call('GET', `instances/${instance.id}`, undefined, bob);
    expect(denied.status).toBe(403);
    expect((await problemOf(denied)).detail).toBe('User 1002 may not act for party 510001.');
    // Another party's instance that does not exist answers 403 too: a user learns nothing of other parties.
    const unknown = `instances/${ALICE.partyId}/00000000-0000-4000-8000-000000000000`;
    expect((await storage.call('GET', unknown, undefined, bob)).status).toBe(403);
  });

  it('query any party but see only instances of parties they may act for (as Altinn), always naming one', async () => {
    const own = await storage.call(
      'GET',
      `instances?instanceOwner.partyId=${ALICE.partyId}`,
      undefined,
      await asAlice(),
    );
    expect(((await own.json()) as Page).instances.map((i) => i.id)).toEqual([instance.id]);
    const other = await storage.call(
      'GET',
      `instances?instanceOwner.partyId=${BOB.partyId}`,
      undefined,
      await asAlice(),
    );
    expect(other.status).toBe(200);
    expect(await other.json()).toMatchObject({ count: 0, instances: [] });
    const level1 = await storage.tokens.user(ALICE.userId, ALICE.partyId, 1);
    const low = await storage.call('GET', `instances?instanceOwner.partyId=${ALICE.partyId}`, undefined, level1);
    expect(await low.json()).toMatchObject({ count: 0, instances: [] });
    const noParty = await storage.call('GET', 'instances?org=ttd', undefined, await asAlice());
    expect(noParty.status).toBe(400);
    expect((await problemOf(noParty)).errors?.map((e) => e.field)).toEqual(['query.instanceOwner.partyId']);
  });

  it('need authentication level 2 or more', async () => {
    const level1 = await storage.tokens.user(ALICE.userId, ALICE.partyId, 1);
    const response = await storage.call('GET', `instances/${instance.id}`, undefined, level1);
    expect(response.status).toBe(403);
    expect((await problemOf(response)).detail).toMatch(/authentication level 2/);
  });

  it('change process and data with their own token, as app-lib writes (Altinn); never complete or substatus', async () => {
    const process = { started: '2026-01-01T00:00:00Z', currentTask: { elementId: 'Task_1' } };
    expect((await storage.call('PUT', `instances/${instance.id}/process`, process, await asAlice())).status).toBe(200);
    const uploaded = await storage.send('POST', `instances/${instance.id}/data?dataType=attachment`, 'hi', {
      'content-type': 'text/plain',
      ...(await asAlice()),
    });
    expect(uploaded.status).toBe(201);
    const event = { instanceId: instance.id, eventType: 'Saved' };
    expect((await storage.call('POST', `instances/${instance.id}/events`, event, await asAlice())).status).toBe(201);
    const viaOther = await storage.call(
      'PUT',
      `instances/${instance.id}/process`,
      process,
      await aliceViaApp('ttd', 'other'),
    );
    expect(viaOther.status).toBe(403);
    const completed = await storage.call('POST', `instances/${instance.id}/complete`, undefined, await asAlice());
    expect(completed.status).toBe(403);
  });

  it('with STORAGE_REQUIRE_APP_TOKEN: create, change process and data only through their app; read status directly; never complete or substatus', async () => {
    await storage.close();
    storage = await openStorageHarness({ requireAppToken: true });
    await expectStatus(
      await storage.call('POST', 'applications/ttd/forms', {
        dataTypes: [{ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 }],
      }),
      201,
    );
    const alone = await storage.call('POST', 'instances?appId=ttd/forms', template(ALICE.partyId), await asAlice());
    expect(alone.status).toBe(403);
    const created = await storage.call(
      'POST',
      'instances?appId=ttd/forms',
      template(ALICE.partyId),
      await aliceViaApp(),
    );
    await expectStatus(created, 201);
    instance = (await created.json()) as Instance;
    const process = { started: '2026-01-01T00:00:00Z', currentTask: { elementId: 'Task_1' } };
    expect((await storage.call('PUT', `instances/${instance.id}/process`, process, await asAlice())).status).toBe(403);
    expect((await storage.call('PUT', `instances/${instance.id}/process`, process, await aliceViaApp())).status).toBe(
      200,
    );
    const upload = (headers: Record<string, string>) =>
      storage.send('POST', `instances/${instance.id}/data?dataType=attachment`, 'hello', {
        'content-type': 'text/plain',
        ...headers,
      });
    expect((await upload(await asAlice())).status).toBe(403);
    expect(await storage.blobNames()).toEqual([]);
    const uploaded = await upload(await aliceViaApp());
    expect(uploaded.status).toBe(201);
    const element = (await uploaded.json()) as { id: string; createdBy: string };
    expect(element.createdBy).toBe('1001');
    const download = await storage.call(
      'GET',
      `instances/${instance.id}/data/${element.id}`,
      undefined,
      await asAlice(),
    );
    expect(await download.text()).toBe('hello');
    const read = await storage.call(
      'PUT',
      `instances/${instance.id}/readstatus?status=Read`,
      undefined,
      await asAlice(),
    );
    expect(read.status).toBe(200);
    const completed = await storage.call('POST', `instances/${instance.id}/complete`, undefined, await aliceViaApp());
    expect(completed.status).toBe(403);
    const substatus = await storage.call(
      'PUT',
      `instances/${instance.id}/substatus`,
      { label: 'x' },
      await aliceViaApp(),
    );
    expect(substatus.status).toBe(403);
  });

  it('reach more parties when the party access says so (as Authorization will)', async () => {
    await storage.close();
    storage = await openStorageHarness({
      partyAccess: { mayRepresent: async (user, partyId) => user.partyId === partyId || partyId === 510002 },
    });
    await expectStatus(await storage.call('POST', 'applications/ttd/forms', {}), 201);
    const created = await storage.call('POST', 'instances?appId=ttd/forms', template(BOB.partyId), await aliceViaApp());
    expect(created.status).toBe(201);
  });
});

describe('orgs', () => {
  it('reach their own apps’ instances and not another org’s', async () => {
    expect((await storage.call('GET', `instances/${instance.id}`)).status).toBe(200);
    const skd = await storage.tokens.org('skd');
    const denied = await storage.call('GET', `instances/${instance.id}`, undefined, skd);
    expect(denied.status).toBe(403);
    expect((await problemOf(denied)).detail).toBe('Org skd may not reach instances of ttd/forms.');
    expect((await storage.call('GET', 'instances?org=ttd', undefined, skd)).status).toBe(403);
    expect((await storage.call('GET', 'instances?appId=ttd/forms', undefined, skd)).status).toBe(403);
    const create = await storage.call('POST', 'instances?appId=ttd/forms', template(BOB.partyId), skd);
    expect(create.status).toBe(403);
    expect(await storage.storedInstances()).toHaveLength(1);
  });

  it('need the service-owner scopes: read to read and record events, write to write', async () => {
    const readOnly = await storage.tokens.org('ttd', [SCOPES.instancesRead]);
    expect((await storage.call('GET', `instances/${instance.id}`, undefined, readOnly)).status).toBe(200);
    expect((await storage.call('GET', 'instances?org=ttd', undefined, readOnly)).status).toBe(200);
    const write = await storage.call('PUT', `instances/${instance.id}/substatus`, { label: 'x' }, readOnly);
    expect(write.status).toBe(403);
    expect((await problemOf(write)).detail).toBe(`This call needs the scope ${SCOPES.instancesWrite}.`);
    // Events are recorded with read rights, as Altinn's InstanceRead policy on POST events.
    const event = { instanceId: instance.id, eventType: 'Saved' };
    expect((await storage.call('POST', `instances/${instance.id}/events`, event, readOnly)).status).toBe(201);
    const none = await storage.tokens.org('ttd', []);
    expect((await storage.call('GET', 'instances?org=ttd', undefined, none)).status).toBe(403);
  });

  it('must name org or appId in a query (400)', async () => {
    const response = await storage.call('GET', `instances?instanceOwner.partyId=${ALICE.partyId}`);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).errors?.map((e) => e.field)).toEqual(['query.org']);
  });

  it('confirm completion: once per org, idempotent, and excludeConfirmedBy then hides the instance', async () => {
    const first = await storage.call('POST', `instances/${instance.id}/complete`);
    expect(first.status).toBe(200);
    const confirmed = (await first.json()) as Instance;
    expect(confirmed.completeConfirmations?.map((c) => c.stakeholderId)).toEqual(['ttd']);
    const again = await storage.call('POST', `instances/${instance.id}/complete`);
    expect(await again.json()).toEqual(confirmed);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    const page = await storage.call('GET', 'instances?org=ttd&excludeConfirmedBy=ttd');
    expect(((await page.json()) as Page).instances).toEqual([]);
    const skd = await storage.call(
      'POST',
      `instances/${instance.id}/complete`,
      undefined,
      await storage.tokens.org('skd'),
    );
    expect(skd.status).toBe(403);
  });

  it('with If-Match: a stale ETag answers 412 and adds no confirmation', async () => {
    const response = await storage.call('POST', `instances/${instance.id}/complete`, undefined, {
      'if-match': '"999"',
    });
    expect(response.status).toBe(412);
    expect((await storage.storedInstance(instance.id))?.instance.completeConfirmations ?? []).toEqual([]);
  });
});

describe('application metadata', () => {
  it('is read by any caller and written only by its own org deploying it', async () => {
    expect((await storage.call('GET', 'applications/ttd/forms', undefined, await asAlice())).status).toBe(200);
    const cases: Record<string, string>[] = [
      await asAlice(),
      await storage.tokens.org('skd'),
      await storage.tokens.org('ttd', [SCOPES.instancesWrite]),
    ];
    for (const headers of cases) {
      expect((await storage.call('PUT', 'applications/ttd/forms', { title: { nb: 'x' } }, headers)).status).toBe(403);
      expect((await storage.call('POST', 'applications?appId=ttd/new', {}, headers)).status).toBe(403);
      expect((await storage.call('POST', 'applications/ttd/forms/texts/nb', { resources: [] }, headers)).status).toBe(
        403,
      );
    }
    expect((await storage.stored()).applications).toEqual(['ttd/forms', 'ttd/other']);
  });
});
