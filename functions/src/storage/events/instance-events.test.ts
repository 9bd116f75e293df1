import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageHarness, type StorageHarness } from '../../../../test/support/storage.js';

type Problem = { type: string; status: number; detail: string; errors?: { field: string; detail: string }[] };
type Instance = { id: string; lastChanged: string; [field: string]: unknown };
type InstanceEvent = { id: string; instanceId: string; eventType: string; created: string; [field: string]: unknown };

const MISSING_GUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const template = { instanceOwner: { partyId: '510001' } };
const user = { userId: 1337, orgId: null, authenticationLevel: 2 };

let storage: StorageHarness;
beforeEach(async () => {
  storage = await openStorageHarness();
  expect((await storage.call('POST', 'applications/ttd/forms', {})).status).toBe(201);
});
afterEach(async () => {
  await storage.close();
});

const fieldsOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (((await response.json()) as Problem).errors ?? []).map((e) => e.field);
};
const createInstance = async (body: object = template): Promise<Instance> => {
  const response = await storage.call('POST', 'instances?appId=ttd/forms', body);
  expect(response.status).toBe(201);
  return (await response.json()) as Instance;
};
const postEvent = async (instance: Instance, body: object): Promise<InstanceEvent> => {
  const response = await storage.call('POST', `instances/${instance.id}/events`, { instanceId: instance.id, ...body });
  expect(response.status).toBe(201);
  return (await response.json()) as InstanceEvent;
};
const listEvents = async (instance: Instance, query = '') => {
  const response = await storage.call('GET', `instances/${instance.id}/events${query}`);
  expect(response.status).toBe(200);
  // Storage records its own events (Created, Deleted ..., with instanceOwnerPartyId, as Altinn's); these tests are
  // about the events callers post.
  return ((await response.json()) as { instanceEvents: InstanceEvent[] }).instanceEvents.filter(
    (event) => !('instanceOwnerPartyId' in event),
  );
};
const storedEvents = async () =>
  (
    await storage.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM instance_events WHERE NOT event ? 'instanceOwnerPartyId'",
    )
  )[0]?.n;

describe('POST instances/{partyId}/{guid}/events', () => {
  it("stores an event: 201 with a server-set id, the caller's created (as Altinn), user and processInfo as sent", async () => {
    const instance = await createInstance();
    const processInfo = { started: '2026-01-01T00:00:00Z', currentTask: { elementId: 'Task_1' } };
    const response = await storage.call('POST', `instances/${instance.id}/events`, {
      instanceId: instance.id,
      eventType: 'Created',
      user,
      processInfo,
      id: 'ignored',
      created: '1999-01-01T00:00:00+01:00',
    });
    expect(response.status).toBe(201);
    const event = (await response.json()) as InstanceEvent;
    expect(event.id).toMatch(GUID);
    expect(event).toEqual({
      id: event.id,
      instanceId: instance.id,
      eventType: 'Created',
      created: '1998-12-31T23:00:00.000Z',
      user,
      processInfo,
    });
    expect(await listEvents(instance)).toEqual([event]);
  });

  it('stamps created with its clock when the caller sends none', async () => {
    const instance = await createInstance();
    expect(await postEvent(instance, { eventType: 'Saved' })).toMatchObject({ created: '2026-01-01T00:00:02.000Z' });
  });

  it('returns 400 naming instanceId when it is missing (as Altinn) or names another instance, and stores nothing', async () => {
    const instance = await createInstance();
    for (const instanceId of [undefined, `510001/${MISSING_GUID}`, `510002/${instance.id.split('/')[1]}`]) {
      const response = await storage.call('POST', `instances/${instance.id}/events`, {
        instanceId,
        eventType: 'Saved',
      });
      expect(response.status).toBe(400);
      expect(await fieldsOf(response)).toEqual(['instanceId']);
    }
    expect(await storedEvents()).toBe(0);
  });

  it('defaults user and processInfo to null, and accepts a soft-deleted instance and an upper-case guid', async () => {
    const instance = await createInstance();
    await storage.call('DELETE', `instances/${instance.id}`);
    const response = await storage.call('POST', `instances/${instance.id.toUpperCase()}/events`, {
      instanceId: instance.id,
      eventType: 'Saved',
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ instanceId: instance.id, user: null, processInfo: null });
  });

  it('returns 404 for an unknown or hard-deleted instance and stores nothing', async () => {
    const instance = await createInstance();
    await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    for (const id of [`510001/${MISSING_GUID}`, instance.id]) {
      const response = await storage.call('POST', `instances/${id}/events`, { instanceId: id, eventType: 'Saved' });
      expect(response.status).toBe(404);
      expect(((await response.json()) as Problem).type).toBe('urn:altinn-platform:problem:not-found');
    }
    expect(await storedEvents()).toBe(0);
  });

  it.each([
    ['no eventType', {}, 'eventType'],
    ['an empty eventType', { eventType: '' }, 'eventType'],
    ['a non-integer userId', { eventType: 'Saved', user: { userId: 'x' } }, 'user.userId'],
    ['a bad processInfo', { eventType: 'Saved', processInfo: { started: 'yesterday' } }, 'processInfo.started'],
    ['a created that is not a date-time', { eventType: 'Saved', created: 'yesterday' }, 'created'],
  ])('returns 400 naming the field for %s, and stores nothing', async (_, body, field) => {
    const instance = await createInstance();
    const response = await storage.call('POST', `instances/${instance.id}/events`, body);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
    expect(await storedEvents()).toBe(0);
  });

  it('returns 400 for malformed JSON and a bad guid', async () => {
    const instance = await createInstance();
    expect((await storage.call('POST', `instances/${instance.id}/events`, '{"eventType":')).status).toBe(400);
    const badGuid = await storage.call('POST', 'instances/510001/nope/events', { eventType: 'Saved' });
    expect(await fieldsOf(badGuid)).toEqual(['path.instanceGuid']);
    expect(await storedEvents()).toBe(0);
  });
});

describe('GET instances/{partyId}/{guid}/events', () => {
  it('lists events oldest first, filtered by repeated eventTypes and from/to (inclusive)', async () => {
    const instance = await createInstance();
    const other = await createInstance();
    const created = await postEvent(instance, { eventType: 'Created' }); // 00:00:03
    const saved = await postEvent(instance, { eventType: 'Saved' }); // 00:00:04
    await postEvent(other, { eventType: 'Saved' }); // 00:00:05, another instance
    const submited = await postEvent(instance, { eventType: 'Submited' }); // 00:00:06
    expect(await listEvents(instance)).toEqual([created, saved, submited]);
    expect(await listEvents(instance, '?eventTypes=Saved')).toEqual([saved]);
    expect(await listEvents(instance, '?eventTypes=Saved&eventTypes=Created')).toEqual([created, saved]);
    expect(await listEvents(instance, '?from=2026-01-01T00:00:04Z')).toEqual([saved, submited]);
    expect(await listEvents(instance, '?to=2026-01-01T01:00:04%2B01:00')).toEqual([created, saved]);
    expect(await listEvents(instance, '?from=2026-01-01T00:00:04Z&to=2026-01-01T00:00:05Z&eventTypes=Saved')).toEqual([
      saved,
    ]);
    expect(await listEvents(instance, '?eventTypes=Deleted')).toEqual([]);
    // As .NET's DateTime.Parse reads them: no zone is UTC, a date is its midnight; unknown parameters are ignored.
    expect(await listEvents(instance, '?from=2026-01-01T00:00:04&to=2026-01-01%2000:00:05.9999999')).toEqual([saved]);
    expect(await listEvents(instance, '?to=2026-01-01&size=3')).toEqual([]);
  });

  it('answers an empty list for an instance without events', async () => {
    expect(await listEvents(await createInstance())).toEqual([]);
  });

  it('returns 404 for an unknown or hard-deleted instance', async () => {
    const instance = await createInstance();
    await postEvent(instance, { eventType: 'Created' });
    await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    for (const id of [`510001/${MISSING_GUID}`, instance.id]) {
      expect((await storage.call('GET', `instances/${id}/events`)).status).toBe(404);
    }
  });

  it.each([
    ['a bad from', '?from=yesterday', 'query.from'],
    ['a bad to', '?to=2026-13-01T00:00:00Z', 'query.to'],
    ['a date not on the calendar', '?from=2026-02-30', 'query.from'],
  ])('returns 400 naming the parameter for %s', async (_, query, field) => {
    const instance = await createInstance();
    const response = await storage.call('GET', `instances/${instance.id}/events${query}`);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
  });
});

describe('GET instances/{partyId}/{guid}/events/{eventGuid}', () => {
  it('answers one event of the instance', async () => {
    const instance = await createInstance();
    const event = await postEvent(instance, { eventType: 'Created', user });
    const response = await storage.call('GET', `instances/${instance.id}/events/${event.id.toUpperCase()}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(event);
  });

  it('returns 404 for an unknown event, an event of another instance, or an unknown instance', async () => {
    const instance = await createInstance();
    const other = await createInstance();
    const event = await postEvent(other, { eventType: 'Created' });
    for (const path of [
      `instances/${instance.id}/events/${MISSING_GUID}`,
      `instances/${instance.id}/events/${event.id}`,
      `instances/510001/${MISSING_GUID}/events/${event.id}`,
    ]) {
      const response = await storage.call('GET', path);
      expect(response.status).toBe(404);
      expect(((await response.json()) as Problem).type).toBe('urn:altinn-platform:problem:not-found');
    }
  });

  it('returns 400 naming a bad event guid', async () => {
    const instance = await createInstance();
    const response = await storage.call('GET', `instances/${instance.id}/events/nope`);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['path.eventGuid']);
  });
});

describe('process history', () => {
  const task = (elementId: string, started: string) => ({ elementId, started, flow: 2, altinnTaskType: 'data' });
  const started = { started: '2026-01-01T00:00:00Z', startEvent: 'StartEvent_1' };

  it('records process events on PUT process and answers them as the history', async () => {
    const instance = await createInstance(); // no process yet
    const put = async (body: object) => {
      expect((await storage.call('PUT', `instances/${instance.id}/process`, body)).status).toBe(200);
    };
    await put({ ...started, currentTask: task('Task_1', '2026-01-01T00:00:00Z') }); // 00:00:02
    await put({ ...started, currentTask: task('Task_1', '2026-01-01T00:00:00Z') }); // 00:00:03, no change
    await put({ ...started, currentTask: task('Task_2', '2026-01-01T00:00:04Z') }); // 00:00:04
    await put({ ...started, currentTask: null, ended: '2026-01-01T00:00:05Z', endEvent: 'EndEvent_1' }); // 00:00:05
    await postEvent(instance, { eventType: 'Saved' }); // not a process event

    const response = await storage.call('GET', `instances/${instance.id}/process/history`);
    expect(response.status).toBe(200);
    const none = { performedBy: null };
    expect(await response.json()).toEqual({
      processHistory: [
        {
          ...none,
          eventType: 'process_StartEvent',
          elementId: 'StartEvent_1',
          occured: '2026-01-01T00:00:02.000Z',
          started: '2026-01-01T00:00:00Z',
          ended: null,
        },
        {
          ...none,
          eventType: 'process_StartTask',
          elementId: 'Task_1',
          occured: '2026-01-01T00:00:02.000Z',
          started: '2026-01-01T00:00:00Z',
          ended: null,
        },
        {
          ...none,
          eventType: 'process_EndTask',
          elementId: 'Task_1',
          occured: '2026-01-01T00:00:04.000Z',
          started: '2026-01-01T00:00:00Z',
          ended: '2026-01-01T00:00:04.000Z',
        },
        {
          ...none,
          eventType: 'process_StartTask',
          elementId: 'Task_2',
          occured: '2026-01-01T00:00:04.000Z',
          started: '2026-01-01T00:00:04Z',
          ended: null,
        },
        {
          ...none,
          eventType: 'process_EndTask',
          elementId: 'Task_2',
          occured: '2026-01-01T00:00:05.000Z',
          started: '2026-01-01T00:00:04Z',
          ended: '2026-01-01T00:00:05.000Z',
        },
        {
          ...none,
          eventType: 'process_EndEvent',
          elementId: 'EndEvent_1',
          occured: '2026-01-01T00:00:05.000Z',
          started: null,
          ended: '2026-01-01T00:00:05Z',
        },
      ],
    });
    const types = (await listEvents(instance)).map((e) => e.eventType);
    expect(types).toEqual([
      'process_StartEvent',
      'process_StartTask',
      'process_EndTask',
      'process_StartTask',
      'process_EndTask',
      'process_EndEvent',
      'Saved',
    ]);
  });

  it('includes process events posted by callers, with performedBy from their user', async () => {
    const instance = await createInstance();
    await postEvent(instance, {
      eventType: 'process_StartTask',
      user,
      processInfo: { ...started, currentTask: task('Task_1', '2026-01-01T00:00:00Z') },
    });
    const history = await (await storage.call('GET', `instances/${instance.id}/process/history`)).json();
    expect(history).toEqual({
      processHistory: [
        {
          eventType: 'process_StartTask',
          elementId: 'Task_1',
          occured: '2026-01-01T00:00:02.000Z',
          started: '2026-01-01T00:00:00Z',
          ended: null,
          performedBy: '1337',
        },
      ],
    });
  });

  it('answers an empty history for an instance whose process never changed', async () => {
    const instance = await createInstance();
    expect(await (await storage.call('GET', `instances/${instance.id}/process/history`)).json()).toEqual({
      processHistory: [],
    });
  });

  it('records nothing when the process update fails validation', async () => {
    const instance = await createInstance();
    const response = await storage.call('PUT', `instances/${instance.id}/process`, { started: 'yesterday' });
    expect(response.status).toBe(400);
    expect(await storedEvents()).toBe(0);
  });

  it('returns 404 for an unknown or hard-deleted instance and 400 for a bad guid', async () => {
    const instance = await createInstance();
    await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    for (const id of [`510001/${MISSING_GUID}`, instance.id]) {
      expect((await storage.call('GET', `instances/${id}/process/history`)).status).toBe(404);
    }
    const bad = await storage.call('GET', 'instances/510001/nope/process/history');
    expect(await fieldsOf(bad)).toEqual(['path.instanceGuid']);
  });
});
