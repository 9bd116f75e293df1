import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFormsInstance, openStorageHarness, type StorageHarness } from '../../../../test/support/storage.js';

type Problem = { type: string; errors?: { field: string; detail: string }[] };
type Instance = { id: string; lastChanged: string; status: Record<string, unknown>; [field: string]: unknown };

const MISSING_GUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

let storage: StorageHarness;
let instance: Instance;
beforeEach(async () => {
  storage = await openStorageHarness();
  const response = await createFormsInstance(storage);
  instance = (await response.json()) as Instance;
});
afterEach(async () => {
  await storage.close();
});

const fieldsOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (((await response.json()) as Problem).errors ?? []).map((e) => e.field);
};
const read = async () => (await (await storage.call('GET', `instances/${instance.id}`)).json()) as Instance;

describe('PUT instances/{partyId}/{guid}/readstatus', () => {
  it.each(['Read', 'UpdatedSinceLastReview', 'Unread'])('sets readStatus %s and moves lastChanged', async (status) => {
    const response = await storage.call('PUT', `instances/${instance.id}/readstatus?status=${status}`);
    expect(response.status).toBe(200);
    const updated = (await response.json()) as Instance;
    expect(updated).toEqual({
      ...instance,
      status: { ...instance.status, readStatus: status },
      lastChanged: '2026-01-01T00:00:02.000Z',
    });
    expect(await read()).toEqual(updated);
  });

  it.each([
    ['an unknown status', '?status=Seen'],
    ['a number', '?status=1'],
    ['no status', ''],
  ])('returns 400 naming query.status for %s, and changes nothing', async (_, query) => {
    const response = await storage.call('PUT', `instances/${instance.id}/readstatus${query}`);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['query.status']);
    expect(await read()).toEqual(instance);
  });

  it('returns 404 for an unknown or hard-deleted instance', async () => {
    await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    for (const id of [`510001/${MISSING_GUID}`, instance.id]) {
      expect((await storage.call('PUT', `instances/${id}/readstatus?status=Read`)).status).toBe(404);
    }
  });
});

describe('PUT instances/{partyId}/{guid}/substatus', () => {
  it('sets the substatus and moves lastChanged', async () => {
    const substatus = { label: 'waiting', description: 'Waiting for the bank' };
    const response = await storage.call('PUT', `instances/${instance.id}/substatus`, substatus);
    expect(response.status).toBe(200);
    const updated = (await response.json()) as Instance;
    expect(updated).toEqual({
      ...instance,
      status: { ...instance.status, substatus },
      lastChanged: '2026-01-01T00:00:02.000Z',
    });
    expect(await read()).toEqual(updated);
  });

  it('replaces an earlier substatus; description defaults to null', async () => {
    await storage.call('PUT', `instances/${instance.id}/substatus`, { label: 'a', description: 'first' });
    const response = await storage.call('PUT', `instances/${instance.id}/substatus`, { label: 'b' });
    expect(((await response.json()) as Instance).status.substatus).toEqual({ label: 'b', description: null });
  });

  it.each([
    ['no label', { description: 'x' }, 'label'],
    ['an empty label', { label: '' }, 'label'],
    ['a numeric description', { label: 'a', description: 3 }, 'description'],
    ['an unknown field', { label: 'a', colour: 'red' }, 'colour'],
  ])('returns 400 naming the field for %s, and changes nothing', async (_, body, field) => {
    const response = await storage.call('PUT', `instances/${instance.id}/substatus`, body);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
    expect(await read()).toEqual(instance);
  });

  it('returns 400 for malformed JSON and 404 for an unknown or hard-deleted instance', async () => {
    expect((await storage.call('PUT', `instances/${instance.id}/substatus`, '{"label":')).status).toBe(400);
    await storage.call('DELETE', `instances/${instance.id}?hard=true`);
    for (const id of [`510001/${MISSING_GUID}`, instance.id]) {
      expect((await storage.call('PUT', `instances/${id}/substatus`, { label: 'a' })).status).toBe(404);
    }
  });
});
