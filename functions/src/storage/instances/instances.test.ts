import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fieldsOf, openStorageHarness, problemOf, type StorageHarness } from '../../../../test/support/storage.js';

type Instance = { id: string; lastChanged: string; status: Record<string, unknown>; [field: string]: unknown };

const GUID_PATTERN = /^510001\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING_GUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const template = { instanceOwner: { partyId: '510001', personNumber: '01017512345' } };
const process = {
  started: '2026-01-01T00:00:00Z',
  startEvent: 'StartEvent_1',
  currentTask: {
    flow: 2,
    started: '2026-01-01T00:00:00Z',
    elementId: 'Task_1',
    name: 'Utfylling',
    altinnTaskType: 'data',
  },
};

let storage: StorageHarness;
beforeEach(async () => {
  storage = await openStorageHarness();
  expect((await storage.call('POST', 'applications/ttd/forms', {})).status).toBe(201);
});
afterEach(async () => {
  await storage.close();
});

const createInstance = async (body: object = template): Promise<Instance> => {
  const response = await storage.call('POST', 'instances?appId=ttd/forms', body);
  expect(response.status).toBe(201);
  return (await response.json()) as Instance;
};

describe('POST instances', () => {
  it('creates an instance: 201, Location and the Instance with server-set id, status, data and stamps', async () => {
    const response = await storage.call('POST', 'instances?appId=ttd/forms', {
      ...template,
      dueBefore: '2026-06-01T00:00:00Z',
      process,
      status: { substatus: { label: 'waiting' } },
    });
    expect(response.status).toBe(201);
    const instance = (await response.json()) as Instance;
    expect(instance.id).toMatch(GUID_PATTERN);
    // Absolute, from the configured public URLs (PLATFORM_PUBLIC_URL / APPS_PUBLIC_URL defaults), as Altinn's.
    expect(response.headers.get('location')).toBe(`http://localhost:7071/storage/api/v1/instances/${instance.id}`);
    expect(instance).toEqual({
      id: instance.id,
      instanceOwner: template.instanceOwner,
      appId: 'ttd/forms',
      org: 'ttd',
      selfLinks: {
        apps: `http://localhost:8787/ttd/forms/instances/${instance.id}`,
        platform: `http://localhost:7071/storage/api/v1/instances/${instance.id}`,
      },
      dueBefore: '2026-06-01T00:00:00Z',
      process,
      status: {
        isArchived: false,
        isSoftDeleted: false,
        isHardDeleted: false,
        readStatus: 'Unread',
        substatus: { label: 'waiting' },
      },
      data: [],
      created: '2026-01-01T00:00:01.000Z',
      createdBy: 'ttd',
      lastChanged: '2026-01-01T00:00:01.000Z',
      lastChangedBy: 'ttd',
    });
    expect(await (await storage.call('GET', `instances/${instance.id}`)).json()).toEqual(instance);
  });

  it('ignores server-set fields sent in the template (id, status flags, data, stamps)', async () => {
    const instance = await createInstance({
      ...template,
      id: '1/abc',
      appId: 'ttd/forms',
      org: 'ttd',
      status: { isArchived: true, isSoftDeleted: true },
      data: [{ id: 'x' }],
      created: '1999-01-01T00:00:00Z',
      createdBy: '1337',
    });
    expect(instance).toMatchObject({
      process: null,
      status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false },
      data: [],
      created: '2026-01-01T00:00:01.000Z',
      createdBy: 'ttd',
    });
    expect(instance.id).toMatch(GUID_PATTERN);
  });

  it('returns 404 naming the app when the application does not exist, and stores nothing', async () => {
    const response = await storage.call('POST', 'instances?appId=ttd/unknown', template);
    expect(response.status).toBe(404);
    expect((await problemOf(response)).detail).toBe('Application ttd/unknown does not exist.');
    expect(await storage.storedInstances()).toEqual([]);
  });

  it.each([
    ['no appId', 'instances', template, 'query.appId'],
    ['a bad appId', 'instances?appId=ttd', template, 'query.appId'],
    ['no instanceOwner', 'instances?appId=ttd/forms', {}, 'instanceOwner'],
    ['no partyId', 'instances?appId=ttd/forms', { instanceOwner: {} }, 'instanceOwner.partyId'],
    ['a numeric partyId', 'instances?appId=ttd/forms', { instanceOwner: { partyId: 510001 } }, 'instanceOwner.partyId'],
    [
      'a partyId with letters',
      'instances?appId=ttd/forms',
      { instanceOwner: { partyId: '51a' } },
      'instanceOwner.partyId',
    ],
    ['a bad dueBefore', 'instances?appId=ttd/forms', { ...template, dueBefore: 'tomorrow' }, 'dueBefore'],
    [
      'a process task without elementId',
      'instances?appId=ttd/forms',
      { ...template, process: { currentTask: {} } },
      'process.currentTask.elementId',
    ],
    ['an appId not matching the query', 'instances?appId=ttd/forms', { ...template, appId: 'ttd/other' }, 'appId'],
    ['an org not matching the query', 'instances?appId=ttd/forms', { ...template, org: 'other' }, 'org'],
  ])('returns 400 naming the field for %s, and stores nothing', async (_, path, body, field) => {
    const response = await storage.call('POST', path, body);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
    expect(await storage.storedInstances()).toEqual([]);
  });

  it('returns 400 for malformed JSON and stores nothing', async () => {
    const response = await storage.call('POST', 'instances?appId=ttd/forms', '{"instanceOwner":');
    expect(response.status).toBe(400);
    expect(await storage.storedInstances()).toEqual([]);
  });
});

describe('GET instances/{partyId}/{guid}', () => {
  it('reads an instance also when its guid is written in upper case', async () => {
    const instance = await createInstance();
    const response = await storage.call('GET', `instances/${instance.id.toUpperCase()}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(instance);
  });

  it('returns 404 for an unknown guid and for a known guid under another party', async () => {
    const instance = await createInstance();
    const guid = instance.id.split('/')[1];
    for (const path of [`instances/510001/${MISSING_GUID}`, `instances/510002/${guid}`]) {
      const response = await storage.call('GET', path);
      expect(response.status).toBe(404);
      expect((await problemOf(response)).type).toBe('urn:altinn-platform:problem:not-found');
    }
  });

  it.each([
    ['a bad guid', 'instances/510001/not-a-guid', 'path.instanceGuid'],
    ['a bad partyId', `instances/abc/${MISSING_GUID}`, 'path.instanceOwnerPartyId'],
    ['a partyId with a leading zero', `instances/0510001/${MISSING_GUID}`, 'path.instanceOwnerPartyId'],
  ])('returns 400 naming the path field for %s', async (_, path, field) => {
    const response = await storage.call('GET', path);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
  });
});

describe('DELETE instances/{partyId}/{guid}', () => {
  it('soft deletes: marks the status, stamps softDeleted and lastChanged, and GET still answers it', async () => {
    const instance = await createInstance();
    const response = await storage.call('DELETE', `instances/${instance.id}`);
    expect(response.status).toBe(200);
    const deleted = (await response.json()) as Instance;
    expect(deleted.status).toEqual({
      isArchived: false,
      isSoftDeleted: true,
      softDeleted: '2026-01-01T00:00:02.000Z',
      isHardDeleted: false,
      readStatus: 'Unread',
    });
    expect(deleted.lastChanged).toBe('2026-01-01T00:00:02.000Z');
    expect(await (await storage.call('GET', `instances/${instance.id}`)).json()).toEqual(deleted);
    expect(await storage.storedInstances()).toEqual([{ id: instance.id, isSoftDeleted: true, isHardDeleted: false }]);
  });

  it('answers a second soft delete with the instance unchanged', async () => {
    const instance = await createInstance();
    const first = await (await storage.call('DELETE', `instances/${instance.id}`)).json();
    const second = await storage.call('DELETE', `instances/${instance.id}?hard=false`);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(first);
  });

  it('hard deletes: keeps the row marked, and GET and a second delete answer 404', async () => {
    const instance = await createInstance();
    const response = await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Instance).status).toMatchObject({
      isSoftDeleted: true,
      softDeleted: '2026-01-01T00:00:02.000Z',
      isHardDeleted: true,
      hardDeleted: '2026-01-01T00:00:02.000Z',
    });
    expect((await storage.call('GET', `instances/${instance.id}`)).status).toBe(404);
    expect((await storage.call('DELETE', `instances/${instance.id}`)).status).toBe(404);
    expect(await storage.storedInstances()).toEqual([{ id: instance.id, isSoftDeleted: true, isHardDeleted: true }]);
  });

  it('hard deletes a soft-deleted instance and keeps its softDeleted stamp', async () => {
    const instance = await createInstance();
    await storage.call('DELETE', `instances/${instance.id}`);
    const response = await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    expect(((await response.json()) as Instance).status).toMatchObject({
      softDeleted: '2026-01-01T00:00:02.000Z',
      hardDeleted: '2026-01-01T00:00:03.000Z',
    });
  });

  it('returns 404 for an unknown instance and 400 for a bad guid or hard value', async () => {
    expect((await storage.call('DELETE', `instances/510001/${MISSING_GUID}`)).status).toBe(404);
    const badGuid = await storage.call('DELETE', 'instances/510001/123');
    expect(await fieldsOf(badGuid)).toEqual(['path.instanceGuid']);
    const badHard = await storage.call('DELETE', `instances/510001/${MISSING_GUID}?hard=yes`);
    expect(await fieldsOf(badHard)).toEqual(['query.hard']);
  });
});

describe('PUT instances/{partyId}/{guid}/process', () => {
  it('replaces the process state and moves lastChanged', async () => {
    const instance = await createInstance({ ...template, process });
    const next = { ...process, currentTask: { ...process.currentTask, elementId: 'Task_2' } };
    const response = await storage.call('PUT', `instances/${instance.id}/process`, next);
    expect(response.status).toBe(200);
    const updated = (await response.json()) as Instance;
    expect(updated).toEqual({ ...instance, process: next, lastChanged: '2026-01-01T00:00:02.000Z' });
    expect(await (await storage.call('GET', `instances/${instance.id}`)).json()).toEqual(updated);
  });

  it('archives the instance when the process ends, as Altinn does, and the query finds it archived', async () => {
    const instance = await createInstance({ ...template, process });
    const ended = { ...process, currentTask: null, ended: '2026-01-02T00:00:00Z', endEvent: 'EndEvent_1' };
    const updated = (await (await storage.call('PUT', `instances/${instance.id}/process`, ended)).json()) as Instance;
    expect(updated).toEqual({
      ...instance,
      process: ended,
      status: { ...(instance.status as object), isArchived: true, archived: '2026-01-02T00:00:00Z' },
      lastChanged: '2026-01-01T00:00:02.000Z',
    });
    const page = (await (await storage.call('GET', 'instances?org=ttd&status.isArchived=true')).json()) as {
      instances: Instance[];
    };
    expect(page.instances.map((i) => i.id)).toEqual([instance.id]);
  });

  it('returns 404 for an unknown or hard-deleted instance', async () => {
    const instance = await createInstance();
    await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    for (const id of [`510001/${MISSING_GUID}`, instance.id]) {
      expect((await storage.call('PUT', `instances/${id}/process`, process)).status).toBe(404);
    }
  });

  it('returns 400 naming the field for a bad process state, and keeps the stored one', async () => {
    const instance = await createInstance({ ...template, process });
    const response = await storage.call('PUT', `instances/${instance.id}/process`, { started: 'yesterday' });
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['started']);
    expect(await (await storage.call('GET', `instances/${instance.id}`)).json()).toEqual(instance);
  });
});
