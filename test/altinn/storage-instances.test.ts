import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonBody, TTD, USERS, useReplayHost } from './harness.js';

// Replays of the Storage calls app-lib v8.12.7 makes on instances, process, locks, data elements and signing
// (src/Altinn.App.Core/Infrastructure/Clients/Storage/*.cs), as raw HTTP against a running host.

const host = useReplayHost();
const S = '/storage/api/v1';
const APP = 'replayb';

/** App-lib's default headers on Storage clients: Accept json and xml, the APIM subscription key. */
const APPLIB = { Accept: 'application/json, application/xml', 'Ocp-Apim-Subscription-Key': 'replay' };

let org: string;
let user: string;

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as app-lib deserializes them
type Json = Record<string, any>;

/** `JsonContent.Create(value)`: System.Text.Json web defaults (camelCase, nulls written), utf-8 JSON. */
const jsonContent = (value: unknown) => ({
  headers: { 'Content-Type': 'application/json; charset=utf-8' },
  body: JSON.stringify(value),
});

const call = (method: string, path: string, token: string, body?: { headers: Record<string, string>; body: string }) =>
  host.send(method, `${S}/${path}`, {
    headers: { ...APPLIB, ...bearer(token), ...(body?.headers ?? {}) },
    ...(body ? { body: body.body } : {}),
  });

/** A new instance of the app for Sophie, created as the app's owner (InstanceClient.CreateInstance). */
async function newInstance(): Promise<Json> {
  const response = await call(
    'POST',
    `instances?appId=${TTD.org}/${APP}`,
    org,
    jsonBody({ instanceOwner: { partyId: String(USERS.sophie.partyId) } }),
  );
  expect(response.status).toBe(201);
  return (await response.json()) as Json;
}

async function eventsOf(instanceId: string): Promise<Json[]> {
  const response = await call('GET', `instances/${instanceId}/events`, org);
  expect(response.status).toBe(200);
  return ((await response.json()) as Json).instanceEvents as Json[];
}

/** DataClient.InsertBinaryData: raw body, Content-Type, Content-Disposition with filename and filename*. */
function upload(instanceId: string, query: string, body: string, filename = 'doc.txt') {
  return host.send('POST', `${S}/instances/${instanceId}/data?${query}`, {
    headers: {
      ...APPLIB,
      ...bearer(org),
      'Content-Type': 'text/plain',
      'Content-Disposition': `attachment; filename=${filename}; filename*=utf-8''${filename}`,
    },
    body,
  });
}

beforeAll(async () => {
  org = await host.orgToken();
  user = await host.userToken(USERS.sophie.ssn);
  const metadata = {
    id: `${TTD.org}/${APP}`,
    org: TTD.org,
    title: { nb: 'Replay B' },
    dataTypes: [
      { id: 'model', allowedContentTypes: ['application/xml'], maxCount: 1, minCount: 1 },
      { id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 },
      { id: 'temp', allowedContentTypes: [], maxCount: 0, minCount: 0, appLogic: { autoDeleteOnProcessEnd: true } },
      { id: 'signature', allowedContentTypes: ['application/json'], maxCount: 0, minCount: 0 },
    ],
    partyTypesAllowed: { person: true, organisation: true, subUnit: false, bankruptcyEstate: false },
  };
  const response = await call('POST', `applications?appId=${TTD.org}/${APP}`, org, jsonBody(metadata));
  expect(response.status).toBe(201);
}, 120_000);

describe('instances', () => {
  // InstanceClient.CreateInstance: POST instances?appId={org}/{app} with the template (Newtonsoft JSON).
  it('creates an instance with absolute selfLinks and records a Created event', async () => {
    const instance = await newInstance();
    expect(instance.selfLinks).toEqual({
      apps: `http://localhost:8787/${TTD.org}/${APP}/instances/${instance.id}`,
      platform: `${host.url}${S}/instances/${instance.id}`,
    });
    const events = await eventsOf(instance.id);
    expect(events.map((event) => event.eventType)).toEqual(['Created']);
    expect(events[0]?.user).toMatchObject({ orgId: TTD.org, userId: null });
  });

  // InstanceClient.DeleteInstance: DELETE instances/{p}/{g}?hard=True (bool formatted by .NET).
  it('hard deletes with hard=True: 200, the deleted instance, then 404', async () => {
    const instance = await newInstance();
    const response = await call('DELETE', `instances/${instance.id}?hard=True`, org);
    expect(response.status).toBe(200);
    const deleted = (await response.json()) as Json;
    expect(deleted.status).toMatchObject({ isSoftDeleted: true, isHardDeleted: true });
    expect(typeof deleted.status.hardDeleted).toBe('string');
    expect((await call('GET', `instances/${instance.id}`, org)).status).toBe(404);
  });

  // InstanceClient.DeleteInstance with hard=False: a soft delete, with a Deleted event.
  it('soft deletes with hard=False and records a Deleted event', async () => {
    const instance = await newInstance();
    const response = await call('DELETE', `instances/${instance.id}?hard=False`, org);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).status).toMatchObject({ isSoftDeleted: true, isHardDeleted: false });
    expect((await eventsOf(instance.id)).map((event) => event.eventType)).toEqual(['Created', 'Deleted']);
  });

  // InstanceClient.UpdatePresentationTexts and UpdateDataValues: PUT .../presentationtexts and .../datavalues.
  it('merges presentation texts and data values; an empty value removes the key', async () => {
    const instance = await newInstance();
    let response = await call(
      'PUT',
      `instances/${instance.id}/presentationtexts`,
      org,
      jsonBody({ texts: { name: 'Sophie', city: 'Oslo' } }),
    );
    expect(response.status).toBe(200);
    response = await call('PUT', `instances/${instance.id}/presentationtexts`, org, jsonBody({ texts: { city: '' } }));
    expect(((await response.json()) as Json).presentationTexts).toEqual({ name: 'Sophie' });
    response = await call('PUT', `instances/${instance.id}/datavalues`, org, jsonBody({ values: { a: '1', b: null } }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).dataValues).toEqual({ a: '1' });
    const bad = await call('PUT', `instances/${instance.id}/datavalues`, org, jsonBody({}));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('read status', () => {
  // InstanceClient.cs UpdateReadStatus: PUT instances/{p}/{g}/readstatus?status={readStatus} with the user's token and
  // no body; app-lib passes the status as the app wrote it, e.g. `read` in lower case (ASP.NET binds enums in any casing).
  it('sets the read status from status=read as app-lib sends it, and refuses an unknown status with 400', async () => {
    const instance = await newInstance();
    const response = await host.send('PUT', `${S}/instances/${instance.id}/readstatus?status=read`, {
      headers: { ...APPLIB, ...bearer(user) },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).status.readStatus).toBe('Read');
    const bad = await host.send('PUT', `${S}/instances/${instance.id}/readstatus?status=seen`, {
      headers: { ...APPLIB, ...bearer(user) },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('process', () => {
  const started = '2026-03-01T10:00:00.1234567Z';
  const state = (task: string | null, ended?: string) => ({
    started,
    startEvent: 'StartEvent_1',
    currentTask: task
      ? {
          flow: 2,
          started,
          elementId: task,
          name: 'Utfylling',
          altinnTaskType: 'data',
          ended: null,
          validated: null,
          flowType: 'CompleteCurrentMoveToNext',
        }
      : null,
    ended: ended ?? null,
    endEvent: ended ? 'EndEvent_1' : null,
  });
  /** An InstanceEvent as app-lib serializes it with Newtonsoft (nulls written). */
  const event = (instanceId: string, eventType: string, processInfo: unknown) => ({
    id: null,
    instanceId,
    dataId: null,
    created: '2026-03-01T10:00:00.5Z',
    eventType,
    instanceOwnerPartyId: String(USERS.sophie.partyId),
    user: { userId: USERS.sophie.userId, authenticationLevel: 2, orgId: null, systemUserId: null },
    processInfo,
    additionalInfo: null,
  });

  // InstanceClient.UpdateProcessAndEvents: PUT .../process/instanceandevents with ProcessStateUpdate { state, events };
  // ProcessClient.GetProcessHistory: GET .../process/history.
  it('stores the state and the events in one call, and serves them as the process history', async () => {
    const instance = await newInstance();
    const body = {
      state: state('Task_1'),
      events: [
        event(instance.id, 'process_StartEvent', state(null)),
        event(instance.id, 'process_StartTask', state('Task_1')),
      ],
    };
    const response = await call('PUT', `instances/${instance.id}/process/instanceandevents`, org, jsonBody(body));
    expect(response.status).toBe(200);
    const updated = (await response.json()) as Json;
    expect(updated.process.currentTask.elementId).toBe('Task_1');
    expect(updated.selfLinks.platform).toBe(`${host.url}${S}/instances/${instance.id}`);
    const history = await call('GET', `instances/${instance.id}/process/history`, user);
    expect(history.status).toBe(200);
    const items = ((await history.json()) as Json).processHistory as Json[];
    expect(items.map((item) => [item.eventType, item.elementId])).toEqual([
      ['process_StartEvent', 'StartEvent_1'],
      ['process_StartTask', 'Task_1'],
    ]);
    expect(items[1]?.performedBy).toBe(String(USERS.sophie.userId));

    const end = {
      state: state(null, '2026-03-01T11:00:00Z'),
      events: [event(instance.id, 'process_EndEvent', state(null, '2026-03-01T11:00:00Z'))],
    };
    const ended = await call('PUT', `instances/${instance.id}/process/instanceandevents`, org, jsonBody(end));
    expect(((await ended.json()) as Json).status).toMatchObject({ isArchived: true, archived: '2026-03-01T11:00:00Z' });
  });

  it('answers 400 and writes nothing for an event of another instance or without a user', async () => {
    const instance = await newInstance();
    const other = `${USERS.sophie.partyId}/00000000-0000-4000-8000-000000000001`;
    for (const events of [
      [event(other, 'process_StartEvent', state(null))],
      [{ ...event(instance.id, 'process_StartEvent', state(null)), user: { authenticationLevel: 2 } }],
    ]) {
      const response = await call(
        'PUT',
        `instances/${instance.id}/process/instanceandevents`,
        org,
        jsonBody({ state: state('Task_1'), events }),
      );
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    const stored = (await (await call('GET', `instances/${instance.id}`, org)).json()) as Json;
    expect(stored.process ?? null).toBeNull();
    expect((await eventsOf(instance.id)).map((item) => item.eventType)).toEqual(['Created']);
  });
});

describe('instance lock', () => {
  // InstanceLockClient.AcquireInstanceLock: POST .../lock with JsonContent { ttlSeconds }; answers { lockToken }.
  // InstanceLockClient.UpdateInstanceLock: PATCH .../lock with the Altinn-Storage-Lock-Token header; 204.
  it('acquires, refuses a second holder with 409, releases with ttl 0, and acquires again', async () => {
    const instance = await newInstance();
    const first = await call('POST', `instances/${instance.id}/lock`, org, jsonContent({ ttlSeconds: 60 }));
    expect(first.status).toBe(200);
    const { lockToken } = (await first.json()) as Json;
    expect(typeof lockToken).toBe('string');

    const second = await call('POST', `instances/${instance.id}/lock`, org, jsonContent({ ttlSeconds: 60 }));
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toContain('application/problem+json');

    const release = await host.send('PATCH', `${S}/instances/${instance.id}/lock`, {
      headers: { ...APPLIB, ...bearer(org), 'Altinn-Storage-Lock-Token': lockToken, ...jsonContent({}).headers },
      body: JSON.stringify({ ttlSeconds: 0 }),
    });
    expect(release.status).toBe(204);

    const again = await call('POST', `instances/${instance.id}/lock`, org, jsonContent({ ttlSeconds: 30 }));
    expect(again.status).toBe(200);
  });

  it('answers 400 for a bad token or a negative ttl, 403 for a forged secret, 422 once expired', async () => {
    const instance = await newInstance();
    const negative = await call('POST', `instances/${instance.id}/lock`, org, jsonContent({ ttlSeconds: -1 }));
    expect(negative.status).toBe(400);
    const acquired = await call('POST', `instances/${instance.id}/lock`, org, jsonContent({ ttlSeconds: 1 }));
    const { lockToken } = (await acquired.json()) as Json;
    const patch = (token: string, ttlSeconds: number) =>
      host.send('PATCH', `${S}/instances/${instance.id}/lock`, {
        headers: { ...APPLIB, ...bearer(org), 'Altinn-Storage-Lock-Token': token, ...jsonContent({}).headers },
        body: JSON.stringify({ ttlSeconds }),
      });
    expect((await patch('not a token!', 10)).status).toBe(400);
    const { id } = JSON.parse(Buffer.from(lockToken, 'base64url').toString('utf8')) as { id: number };
    const forged = Buffer.from(JSON.stringify({ id, secret: Buffer.from('guess').toString('base64') })).toString(
      'base64url',
    );
    expect((await patch(forged, 10)).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await patch(lockToken, 10);
    expect(expired.status).toBe(422);
    expect(expired.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('data elements', () => {
  let instance: Json;
  beforeAll(async () => {
    instance = await newInstance();
  }, 60_000);

  // DataClient.InsertBinaryData: POST .../data?dataType={type}&generatedFromTask={task}, raw body.
  it('stores an upload with generatedFromTask as a reference, unread for the user, and a Created event', async () => {
    const response = await upload(instance.id, 'dataType=attachment&generatedFromTask=Task_1', 'hello');
    expect(response.status).toBe(201);
    const element = (await response.json()) as Json;
    expect(element).toMatchObject({
      dataType: 'attachment',
      filename: 'doc.txt',
      contentType: 'text/plain',
      size: 5,
      isRead: false,
      locked: false,
      refs: [],
      fileScanResult: 'NotApplicable',
      references: [{ relation: 'GeneratedFrom', value: 'Task_1', valueType: 'Task' }],
    });
    expect(element.selfLinks.platform).toBe(`${host.url}${S}/instances/${instance.id}/data/${element.id}`);
    expect(response.headers.get('location')).toBe(element.selfLinks.platform);
    const created = (await eventsOf(instance.id)).filter((event) => event.eventType === 'Created');
    expect(created.map((event) => event.dataId ?? null)).toContain(element.id);

    // DataClient.GetBinaryData as the end user: the content, and the element is read from then on.
    const read = await call('GET', `instances/${instance.id}/data/${element.id}`, user);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('hello');
    const list = await call('GET', `instances/${instance.id}/dataelements`, org);
    const listed = ((await list.json()) as Json).dataElements as Json[];
    expect(listed.find((item) => item.id === element.id)?.isRead).toBe(true);
  });

  it('answers 400 for an empty upload and stores nothing', async () => {
    const before = ((await (await call('GET', `instances/${instance.id}/dataelements`, org)).json()) as Json)
      .dataElements.length;
    const response = await upload(instance.id, 'dataType=attachment', '');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const after = ((await (await call('GET', `instances/${instance.id}/dataelements`, org)).json()) as Json)
      .dataElements.length;
    expect(after).toBe(before);
  });

  // DataClient.Update: PUT .../dataelements/{dataGuid} with the whole DataElement (Newtonsoft).
  it("updates an element's metadata and answers 400 when the body names another element", async () => {
    const element = (await (await upload(instance.id, 'dataType=attachment', 'meta')).json()) as Json;
    const body = {
      ...element,
      tags: ['important'],
      userDefinedMetadata: [{ key: 'k', value: 'v' }],
      metadata: null,
      deleteStatus: null,
      references: null,
    };
    const response = await call('PUT', `instances/${instance.id}/dataelements/${element.id}`, org, jsonBody(body));
    expect(response.status).toBe(200);
    expect((await response.json()) as Json).toMatchObject({
      id: element.id,
      tags: ['important'],
      userDefinedMetadata: [{ key: 'k', value: 'v' }],
      size: 4,
    });
    const mismatch = await call(
      'PUT',
      `instances/${instance.id}/dataelements/${element.id}`,
      org,
      jsonBody({ ...body, id: '00000000-0000-4000-8000-000000000002' }),
    );
    expect(mismatch.status).toBe(400);
  });

  // DataClient.DeleteData: DELETE .../data/{dataGuid}?delay={bool} (True/False as .NET formats it).
  it('deletes with delay=False, marks deleted with delay=True where the data type allows, else 400', async () => {
    const plain = (await (await upload(instance.id, 'dataType=attachment', 'a')).json()) as Json;
    const refused = await call('DELETE', `instances/${instance.id}/data/${plain.id}?delay=True`, org);
    expect(refused.status).toBe(400);
    const removed = await call('DELETE', `instances/${instance.id}/data/${plain.id}?delay=False`, org);
    expect(removed.status).toBe(200);
    expect((await call('GET', `instances/${instance.id}/data/${plain.id}`, org)).status).toBe(404);

    const temp = (await (await upload(instance.id, 'dataType=temp', 'b')).json()) as Json;
    const marked = await call('DELETE', `instances/${instance.id}/data/${temp.id}?delay=True`, org);
    expect(marked.status).toBe(200);
    expect(((await marked.json()) as Json).deleteStatus).toMatchObject({ isHardDeleted: true });
    // Gone for the user, still there for the app's owner.
    expect((await call('GET', `instances/${instance.id}/data/${temp.id}`, user)).status).toBe(404);
    expect((await call('GET', `instances/${instance.id}/data/${temp.id}`, org)).status).toBe(200);
  });

  // SignClient.SignDataElements: POST .../sign with JsonContent(SignRequest).
  it('signs: a locked signature element of the signature type and a Signed event; 400 without a signee', async () => {
    const signed = (await (await upload(instance.id, 'dataType=attachment', 'to sign')).json()) as Json;
    const request = {
      signatureDocumentDataType: 'signature',
      generatedFromTask: 'Task_2',
      dataElementSignatures: [{ dataElementId: signed.id, signed: true }],
      signee: {
        userId: String(USERS.sophie.userId),
        systemUserId: null,
        personNumber: USERS.sophie.ssn,
        organisationNumber: null,
      },
    };
    const response = await call('POST', `instances/${instance.id}/sign`, org, jsonContent(request));
    expect(response.status).toBe(201);
    const again = await call('POST', `instances/${instance.id}/sign`, org, jsonContent(request));
    expect(again.status).toBe(201);
    const elements = ((await (await call('GET', `instances/${instance.id}/dataelements`, org)).json()) as Json)
      .dataElements as Json[];
    const signatures = elements.filter((element) => element.dataType === 'signature');
    expect(signatures).toHaveLength(1); // the signee's earlier signature is replaced
    expect(signatures[0]).toMatchObject({ locked: true, contentType: 'application/json' });
    const document = (await (
      await call('GET', `instances/${instance.id}/data/${signatures[0]?.id}`, org)
    ).json()) as Json;
    expect(document.dataElementSignatures[0]).toMatchObject({ dataElementId: signed.id, signed: true });
    expect((await eventsOf(instance.id)).some((event) => event.eventType === 'Signed')).toBe(true);

    const bad = await call(
      'POST',
      `instances/${instance.id}/sign`,
      org,
      jsonContent({ ...request, signee: { userId: null, systemUserId: null } }),
    );
    expect(bad.status).toBe(400);
  });
});
