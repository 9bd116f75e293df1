import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonBody, USERS, useReplayHost } from './harness.js';

/**
 * Replays of the Storage calls Altinn's app library (v8.12.7) makes for application metadata, texts, instance
 * queries and instance events, as raw HTTP against a running host; and of the Storage calls Altinn Studio makes to
 * deploy an app (Altinn Storage's ApplicationsController and TextsController, as its tests call them).
 */
const host = useReplayHost();

const STORAGE = '/storage/api/v1';
/** What app-lib's Storage HttpClients send on every call (PlatformSettings.SubscriptionKey, Accept). */
const APP_LIB_HEADERS = {
  'Ocp-Apim-Subscription-Key': 'replay-subscription-key',
  Accept: 'application/json, application/xml',
};
const APP = `replay-${randomUUID().slice(0, 8)}`;
const APP_ID = `ttd/${APP}`;

/** applicationmetadata.json as an app carries it (fields Storage does not name, nulls and omitted counts included). */
const metadata = {
  id: APP_ID,
  org: 'ttd',
  title: { nb: 'Replay-skjema', en: 'Replay form' },
  dataTypes: [
    {
      id: 'ref-data-as-pdf',
      allowedContentTypes: ['application/pdf'],
      maxCount: 0,
      minCount: 0,
      enablePdfCreation: true,
    },
    {
      id: 'model',
      allowedContentTypes: ['application/xml'],
      appLogic: { autoCreate: true, classRef: 'Altinn.App.Models.Model', allowAnonymousOnStateless: false },
      taskId: 'Task_1',
      maxCount: 1,
      minCount: 1,
    },
    { id: 'attachment', allowedContentTypes: null, maxSize: null, description: null },
  ],
  partyTypesAllowed: { bankruptcyEstate: false, organisation: false, person: true, subUnit: false },
  autoDeleteOnProcessEnd: false,
  onEntry: { show: 'new-instance' },
  processId: null,
};

let orgToken: string;
let sophie: string;
let instanceId: string;

beforeAll(async () => {
  orgToken = await host.orgToken();
  sophie = await host.userToken(USERS.sophie.ssn);
  // Altinn Studio's deploy: POST applications?appId={org}/{app} with the org's appdeploy token.
  const stored = await host.send('POST', `${STORAGE}/applications?appId=${APP_ID}`, {
    ...jsonBody(metadata),
    headers: { ...jsonBody(metadata).headers, ...bearer(orgToken) },
  });
  expect(stored.status).toBe(201);
  // InstanceClient.CreateInstance (part B's call), to have an instance to query and record events on.
  const template = { instanceOwner: { partyId: String(USERS.sophie.partyId) } };
  const created = await host.send('POST', `${STORAGE}/instances?appId=${APP_ID}`, {
    body: JSON.stringify(template),
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...APP_LIB_HEADERS, ...bearer(sophie) },
  });
  expect(created.status).toBe(201);
  instanceId = ((await created.json()) as { id: string }).id;
});

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;
const expectProblem = async (response: Response, status: number) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return json<{ status: number; detail: string; errors?: { field: string }[] }>(response);
};

describe('application metadata', () => {
  // src/Altinn.App.Core/Infrastructure/Clients/Storage/ApplicationClient.cs, GetApplication: GET applications/{org}/{app}
  // with no token at all (Storage serves it [AllowAnonymous]); Newtonsoft reads Application.
  it('GetApplication: 200 to a caller without a token, with the fields app-lib reads', async () => {
    const response = await host.send('GET', `${STORAGE}/applications/${APP_ID}`, { headers: APP_LIB_HEADERS });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const application = await json<Record<string, unknown> & { dataTypes: Record<string, unknown>[] }>(response);
    expect(application).toMatchObject({
      id: APP_ID,
      org: 'ttd',
      title: metadata.title,
      partyTypesAllowed: metadata.partyTypesAllowed,
      autoDeleteOnProcessEnd: false,
      onEntry: { show: 'new-instance' },
      createdBy: expect.any(String),
    });
    expect(typeof application.created).toBe('string');
    expect(typeof application.validFrom).toBe('string');
    // .NET ints stay ints; a null list is read by app-lib as no restriction, as an empty one.
    const [pdf, model, attachment] = application.dataTypes;
    expect(pdf).toMatchObject({ id: 'ref-data-as-pdf', maxCount: 0, minCount: 0, enablePdfCreation: true });
    expect(model).toMatchObject({ id: 'model', maxCount: 1, minCount: 1, appLogic: { autoCreate: true } });
    expect(attachment).toMatchObject({ id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 });
    expect(attachment).not.toHaveProperty('maxSize');
  });

  // ApplicationClient.cs, GetApplication: a missing app is logged and read as null (any status but 200).
  it('GetApplication: 404 problem+json for an unknown app', async () => {
    const response = await host.send('GET', `${STORAGE}/applications/ttd/no-such-app-${APP}`, {
      headers: APP_LIB_HEADERS,
    });
    await expectProblem(response, 404);
  });

  // Altinn Storage ApplicationsController.GetAll and GetMany ([AllowAnonymous]); ApplicationsControllerTests.
  it('GET applications and applications/{org}: every app, to a caller without a token', async () => {
    const all = await json<{ applications: { id: string }[] }>(await host.send('GET', `${STORAGE}/applications`));
    expect(all.applications.map((application) => application.id)).toContain(APP_ID);
    const ttd = await json<{ applications: { id: string }[] }>(await host.send('GET', `${STORAGE}/applications/ttd`));
    expect(ttd.applications.map((application) => application.id)).toContain(APP_ID);
  });

  // ApplicationsController.Post (Altinn Studio's deploy): an upsert answering 201 again, keeping created.
  it('POST applications?appId= again replaces the metadata: 201, created kept', async () => {
    const before = await json<{ created: string }>(await host.send('GET', `${STORAGE}/applications/${APP_ID}`));
    const body = jsonBody({ ...metadata, title: { nb: 'Nytt navn' } });
    const response = await host.send('POST', `${STORAGE}/applications?appId=${APP_ID}`, {
      ...body,
      headers: { ...body.headers, ...bearer(orgToken) },
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ title: { nb: 'Nytt navn' }, created: before.created });
  });

  // ApplicationsController.Post: [Authorize(StudioDesigner)]: an end user or no token may not deploy.
  it('POST applications?appId=: 401 without a token, 403 for an end user; nothing changes', async () => {
    const body = jsonBody({ title: { nb: 'Kapret' } });
    await expectProblem(await host.send('POST', `${STORAGE}/applications?appId=${APP_ID}`, body), 401);
    const asUser = await host.send('POST', `${STORAGE}/applications?appId=${APP_ID}`, {
      ...body,
      headers: { ...body.headers, ...bearer(sophie) },
    });
    await expectProblem(asUser, 403);
    const read = await json<{ title: Record<string, string> }>(
      await host.send('GET', `${STORAGE}/applications/${APP_ID}`),
    );
    expect(read.title).not.toEqual({ nb: 'Kapret' });
  });

  // ApplicationsController.Delete(org, app, bool? hard): soft (validTo) unless hard=True; ApplicationsControllerTests.
  it('DELETE applications/{org}/{app}: soft by default, hard with hard=True', async () => {
    const other = `ttd/${APP}-gone`;
    const body = jsonBody({ title: { nb: 'Borte' } });
    const headers = { ...body.headers, ...bearer(orgToken) };
    expect((await host.send('POST', `${STORAGE}/applications?appId=${other}`, { ...body, headers })).status).toBe(201);
    const soft = await host.send('DELETE', `${STORAGE}/applications/${other}`, { headers: bearer(orgToken) });
    expect(soft.status).toBe(200);
    const softly = await json<{ validTo?: string }>(soft);
    expect(typeof softly.validTo).toBe('string');
    expect((await host.send('GET', `${STORAGE}/applications/${other}`)).status).toBe(200);
    const hard = await host.send('DELETE', `${STORAGE}/applications/${other}?hard=True`, { headers: bearer(orgToken) });
    expect(hard.status).toBe(200);
    await expectProblem(await host.send('GET', `${STORAGE}/applications/${other}`), 404);
    const bad = await host.send('DELETE', `${STORAGE}/applications/${APP_ID}?hard=maybe`, {
      headers: bearer(orgToken),
    });
    expect((await expectProblem(bad, 400)).errors?.map((error) => error.field)).toEqual(['query.hard']);
  });
});

describe('texts', () => {
  const texts = { language: 'nb', resources: [{ id: 'appName', value: 'Replay-skjema' }] };

  beforeAll(async () => {
    // TextsController.Create (Altinn Studio's deploy): POST applications/{org}/{app}/texts, 200, an upsert.
    const body = jsonBody(texts);
    const response = await host.send('POST', `${STORAGE}/applications/${APP_ID}/texts`, {
      ...body,
      headers: { ...body.headers, ...bearer(orgToken) },
    });
    expect(response.status).toBe(200);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Storage/TextClient.cs, GetText: GET applications/{org}/{app}/texts/{language}
  // with the user's token; JsonSerializerPermissive reads TextResource.
  it('GetText: 200 with the TextResource app-lib reads', async () => {
    const response = await host.send('GET', `${STORAGE}/applications/${APP_ID}/texts/nb`, {
      headers: { ...APP_LIB_HEADERS, ...bearer(sophie) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: `ttd-${APP}-nb`,
      org: 'ttd',
      language: 'nb',
      resources: texts.resources,
    });
  });

  // TextClient.cs, GetText: any other status is logged and read as null. TextsController.Get is [Authorize].
  it('GetText: 404 for a language without texts, 401 without a token', async () => {
    const headers = { ...APP_LIB_HEADERS, ...bearer(sophie) };
    await expectProblem(await host.send('GET', `${STORAGE}/applications/${APP_ID}/texts/en`, { headers }), 404);
    await expectProblem(
      await host.send('GET', `${STORAGE}/applications/${APP_ID}/texts/nb`, { headers: APP_LIB_HEADERS }),
      401,
    );
  });

  // TextsController.Create then Delete (Altinn Studio): POST replaces, DELETE answers 200 with no body.
  it('POST texts again replaces them; DELETE removes them (200), then 404', async () => {
    const body = jsonBody({ language: 'en', resources: [{ id: 'appName', value: 'Replay form' }] });
    const headers = { ...body.headers, ...bearer(orgToken) };
    expect((await host.send('POST', `${STORAGE}/applications/${APP_ID}/texts`, { ...body, headers })).status).toBe(200);
    const again = jsonBody({ language: 'en', resources: [{ id: 'appName', value: 'Replayed' }] });
    const replaced = await host.send('POST', `${STORAGE}/applications/${APP_ID}/texts`, { ...again, headers });
    expect(await replaced.json()).toMatchObject({ resources: [{ id: 'appName', value: 'Replayed' }] });
    const deleted = await host.send('DELETE', `${STORAGE}/applications/${APP_ID}/texts/en`, {
      headers: bearer(orgToken),
    });
    expect(deleted.status).toBe(200);
    expect(await deleted.text()).toBe('');
    await expectProblem(
      await host.send('DELETE', `${STORAGE}/applications/${APP_ID}/texts/en`, { headers: bearer(orgToken) }),
      404,
    );
  });

  // TextsController.Create: the language must be two letters (400); an end user may not deploy texts (403).
  it('POST texts: 400 for a bad language, 403 for an end user; nothing stored', async () => {
    const bad = jsonBody({ language: 'norsk', resources: [] });
    const badResponse = await host.send('POST', `${STORAGE}/applications/${APP_ID}/texts`, {
      ...bad,
      headers: { ...bad.headers, ...bearer(orgToken) },
    });
    await expectProblem(badResponse, 400);
    const body = jsonBody({ language: 'nn', resources: [] });
    await expectProblem(
      await host.send('POST', `${STORAGE}/applications/${APP_ID}/texts`, {
        ...body,
        headers: { ...body.headers, ...bearer(sophie) },
      }),
      403,
    );
    const read = await host.send('GET', `${STORAGE}/applications/${APP_ID}/texts/nn`, { headers: bearer(sophie) });
    expect(read.status).toBe(404);
  });
});

type QueryResponse = { count: number; self: string; next?: string | null; instances: { id: string; appId: string }[] };

describe('instance queries', () => {
  /** src/Altinn.App.Api/Controllers/InstancesController.cs GetActiveInstances: QueryHelpers.AddQueryString encodes `/`. */
  const activeQuery = (partyId: number) =>
    `${STORAGE}/instances?appId=ttd%2F${APP}&instanceOwner.partyId=${partyId}&status.isArchived=false&status.isSoftDeleted=false`;

  // src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceClient.cs, GetInstances / QueryInstances: the user's
  // token; JsonSerializerPermissive reads QueryResponse<Instance>: count, next, instances.
  it('GetInstances (active instances of a party): 200 with count, absolute self and the instances', async () => {
    const response = await host.send('GET', activeQuery(USERS.sophie.partyId), {
      headers: { ...APP_LIB_HEADERS, ...bearer(sophie) },
    });
    expect(response.status).toBe(200);
    const page = await json<QueryResponse>(response);
    expect(page.count).toBe(page.instances.length);
    expect(Number.isInteger(page.count)).toBe(true);
    expect(page.instances.map((instance) => instance.id)).toContain(instanceId);
    expect(page.self).toMatch(/^http:\/\/[^/]+\/storage\/api\/v1\/instances\?/);
    expect(page.next ?? undefined).toBeUndefined();
  });

  // InstanceClient.cs, GetInstances: follows `next` (a URL given to HttpClient as is) until it is empty.
  it('GetInstances: follows absolute next links page by page (size=1, True as .NET spells booleans)', async () => {
    const second = await host.send('POST', `${STORAGE}/instances?appId=${APP_ID}`, {
      body: JSON.stringify({ instanceOwner: { partyId: String(USERS.sophie.partyId) } }),
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...bearer(sophie) },
    });
    expect(second.status).toBe(201);
    const seen: string[] = [];
    let url: string | undefined = `${host.url}${activeQuery(USERS.sophie.partyId)}&size=1`;
    for (let pages = 0; url && pages < 5; pages += 1) {
      const response: Response = await fetch(url, { headers: { ...APP_LIB_HEADERS, ...bearer(sophie) } });
      expect(response.status).toBe(200);
      const page = await json<QueryResponse>(response);
      seen.push(...page.instances.map((instance) => instance.id));
      url = page.next ?? undefined;
      if (url) expect(url.startsWith('http://')).toBe(true);
    }
    expect(seen).toHaveLength(2);
    expect(new Set(seen).size).toBe(2);
  });

  // InstancesController.GetInstances (Storage): an end user's query for a party they may not read answers the
  // instances they may see (none), not 403; InstancesControllerTests.
  it('GetInstances for a party the user may not represent: 200 with no instances', async () => {
    const ola = await host.userToken(USERS.ola.ssn);
    const response = await host.send('GET', activeQuery(USERS.sophie.partyId), {
      headers: { ...APP_LIB_HEADERS, ...bearer(ola) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ count: 0, instances: [] });
  });

  // InstancesController.GetInstances: parameters Storage binds are honoured, never refused; unknown ones ignored.
  it('GetInstances with every parameter Storage binds, in .NET spelling: 200', async () => {
    const query = [
      `appId=ttd%2F${APP}`,
      `instanceOwner.partyId=${USERS.sophie.partyId}`,
      'status.isArchived=False',
      'status.isSoftDeleted=False',
      'status.isHardDeleted=False',
      'process.isComplete=False',
      'process.endEvent=EndEvent_1',
      'process.ended=gt:2020-01-01',
      'excludeConfirmedBy=ttd',
      'visibleAfter=lt:2100-01-01T00:00:00',
      'dueBefore=gt:2020-01-01',
      'lastChanged=gte:2020-01-01T00:00:00Z',
      'created=lte:2100-01-01T00:00:00.0000000Z',
      'mainVersionInclude=3',
      'language=nb',
      'order=desc:lastChanged',
      'size=10',
    ].join('&');
    const response = await host.send('GET', `${STORAGE}/instances?${query}`, { headers: bearer(sophie) });
    expect(response.status).toBe(200);
  });

  // InstancesController.GetInstances: an end user names the owner (400 otherwise); the org's read scope is needed.
  it('GetInstances: 400 without an owner for a user, 401 without a token', async () => {
    const noOwner = await host.send('GET', `${STORAGE}/instances?appId=ttd%2F${APP}`, { headers: bearer(sophie) });
    await expectProblem(noOwner, 400);
    await expectProblem(await host.send('GET', activeQuery(USERS.sophie.partyId)), 401);
    const bad = await host.send(
      'GET',
      `${STORAGE}/instances?appId=ttd%2F${APP}&instanceOwner.partyId=${USERS.sophie.partyId}&status.isArchived=maybe`,
      { headers: bearer(sophie) },
    );
    expect((await expectProblem(bad, 400)).errors?.map((error) => error.field)).toEqual(['query.status.isArchived']);
  });

  // The service owner's query (e.g. app-lib with the app's org token, StorageAuthenticationMethod.ServiceOwner).
  it('GetInstances by the owning org (app-lib with the service owner token): 200 with its instances', async () => {
    const response = await host.send('GET', `${STORAGE}/instances?appId=ttd%2F${APP}&size=100`, {
      headers: { ...APP_LIB_HEADERS, ...bearer(orgToken) },
    });
    expect(response.status).toBe(200);
    expect((await json<QueryResponse>(response)).instances.map((instance) => instance.id)).toContain(instanceId);
  });
});

type InstanceEvent = { id: string; instanceId: string; eventType: string; created: string; user?: unknown };

describe('instance events', () => {
  /** InstanceEvent as Newtonsoft serializes it (InstanceEvent.ToString(): nulls left out, DateTime with 7 digits). */
  const event = (eventType: string, created: string) => ({
    instanceId,
    created,
    eventType,
    instanceOwnerPartyId: String(USERS.sophie.partyId),
    user: { userId: USERS.sophie.userId, authenticationLevel: 2 },
  });
  let saved: InstanceEvent;

  // src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceEventClient.cs, SaveInstanceEvent: POST
  // instances/{instanceId}/events with the user's token, StringContent UTF-8 application/json; reads InstanceEvent.Id.
  it('SaveInstanceEvent: 201 with the stored event and its id', async () => {
    const body = JSON.stringify(event('Saved', '2026-03-01T10:00:00.1234567Z'));
    const response = await host.send('POST', `${STORAGE}/instances/${instanceId}/events`, {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...APP_LIB_HEADERS, ...bearer(sophie) },
    });
    expect(response.status).toBe(201);
    saved = await json<InstanceEvent>(response);
    expect(saved.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(saved).toMatchObject({
      instanceId,
      eventType: 'Saved',
      created: '2026-03-01T10:00:00.123Z',
      instanceOwnerPartyId: String(USERS.sophie.partyId),
      user: { userId: USERS.sophie.userId, authenticationLevel: 2 },
    });
  });

  // InstanceEventClient.cs, GetInstanceEvents: repeated eventTypes, then from and to (only when both are given).
  it('GetInstanceEvents: 200 with instanceEvents filtered by eventTypes and from/to', async () => {
    const body = JSON.stringify(event('Created', '2026-02-01T10:00:00Z'));
    const created = await host.send('POST', `${STORAGE}/instances/${instanceId}/events`, {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...bearer(sophie) },
    });
    expect(created.status).toBe(201);
    const path = `${STORAGE}/instances/${instanceId}/events`;
    const headers = { ...APP_LIB_HEADERS, ...bearer(sophie) };
    const list = async (query: string) =>
      (await json<{ instanceEvents: InstanceEvent[] }>(await host.send('GET', `${path}${query}`, { headers })))
        .instanceEvents;
    expect((await list('?eventTypes=Saved&eventTypes=Created')).map((e) => e.eventType)).toEqual(['Created', 'Saved']);
    expect((await list('?eventTypes=Saved')).map((e) => e.id)).toEqual([saved.id]);
    expect((await list('?from=2026-02-15T00:00:00Z&to=2026-03-15T00:00:00Z')).map((e) => e.id)).toEqual([saved.id]);
    expect((await list('?eventTypes=Saved&from=2026-01-01&to=2026-02-15')).map((e) => e.id)).toEqual([]);
  });

  // Altinn Storage InstanceEventsController.GetOne: GET events/{eventGuid}; 404 for another instance's event.
  it('GET events/{eventGuid}: 200 with the event; 404 problem+json for an unknown one', async () => {
    const headers = bearer(sophie);
    const one = await host.send('GET', `${STORAGE}/instances/${instanceId}/events/${saved.id}`, { headers });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(saved);
    await expectProblem(
      await host.send('GET', `${STORAGE}/instances/${instanceId}/events/${randomUUID()}`, { headers }),
      404,
    );
  });

  // InstanceEventsController.Post: instanceId must be set (400); the caller needs read access to the instance.
  it('SaveInstanceEvent: 400 without instanceId, 403 for another user, 401 without a token; nothing stored', async () => {
    const before = await host.db.query<{ n: number }>('SELECT count(*)::int AS n FROM instance_events');
    const path = `${STORAGE}/instances/${instanceId}/events`;
    const contentType = { 'Content-Type': 'application/json; charset=utf-8' };
    const { instanceId: _omitted, ...noInstance } = event('Saved', '2026-03-02T00:00:00Z');
    const missing = await host.send('POST', path, {
      body: JSON.stringify(noInstance),
      headers: { ...contentType, ...bearer(sophie) },
    });
    expect((await expectProblem(missing, 400)).errors?.map((error) => error.field)).toEqual(['instanceId']);
    const ola = await host.userToken(USERS.ola.ssn);
    const body = JSON.stringify(event('Saved', '2026-03-02T00:00:00Z'));
    await expectProblem(await host.send('POST', path, { body, headers: { ...contentType, ...bearer(ola) } }), 403);
    await expectProblem(await host.send('POST', path, { body, headers: contentType }), 401);
    const after = await host.db.query<{ n: number }>('SELECT count(*)::int AS n FROM instance_events');
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});
