import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFormsInstance,
  openStorageHarness,
  problemOf,
  type StorageHarness,
} from '../../../../test/support/storage.js';
import type { Instance as StoredInstance } from '../models/instance-schemas.js';
import { instanceRepository } from '../repositories/instance-repository.js';
import { ifMatchHolds, ifNoneMatchFails } from './instance-etag.js';

type Instance = { id: string; lastChanged: string; status: Record<string, unknown>; [field: string]: unknown };

const MISSING_GUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const STRONG_ETAG = /^"[^"]+"$/;

describe('ifMatchHolds and ifNoneMatchFails', () => {
  it.each([
    ['"3"', '"3"', true],
    ['"1", "3"', '"3"', true],
    ['*', '"3"', true],
    ['"4"', '"3"', false],
    ['W/"3"', '"3"', false],
    ['3', '"3"', false],
    ['', '"3"', false],
  ])('If-Match: %s against %s holds: %s (strong comparison)', (header, etag, holds) => {
    expect(ifMatchHolds(header, etag)).toBe(holds);
  });

  it.each([
    ['"3"', '"3"', true],
    ['W/"3"', '"3"', true],
    ['"1","3"', '"3"', true],
    ['*', '"3"', true],
    ['"4"', '"3"', false],
    ['3', '"3"', false],
  ])('If-None-Match: %s against %s fails: %s (weak comparison)', (header, etag, fails) => {
    expect(ifNoneMatchFails(header, etag)).toBe(fails);
  });
});

describe('instance ETags over HTTP', () => {
  let storage: StorageHarness;
  let instance: Instance;
  let etag: string;
  beforeEach(async () => {
    storage = await openStorageHarness();
    const response = await createFormsInstance(storage);
    instance = (await response.json()) as Instance;
    etag = response.headers.get('etag') ?? '';
  });
  afterEach(async () => {
    await storage.close();
  });

  const get = (headers: Record<string, string> = {}) =>
    storage.call('GET', `instances/${instance.id}`, undefined, headers);
  /** The instance's stored row: its JSON and version. */
  const stored = async () => {
    const row = await storage.storedInstance(instance.id);
    if (!row) throw new Error(`no row for ${instance.id}`);
    return { instance: row.instance as Instance, version: row.version };
  };

  /** Each conditional write, as a request built from an If-Match value. */
  const writes: [string, (ifMatch: string) => Promise<Response>][] = [
    ['DELETE', (ifMatch) => storage.call('DELETE', `instances/${instance.id}`, undefined, { 'If-Match': ifMatch })],
    [
      'DELETE ?hard=true',
      (ifMatch) => storage.call('DELETE', `instances/${instance.id}?hard=true`, undefined, { 'If-Match': ifMatch }),
    ],
    [
      'PUT process',
      (ifMatch) =>
        storage.call(
          'PUT',
          `instances/${instance.id}/process`,
          { started: '2026-01-01T00:00:00Z', currentTask: { elementId: 'Task_1' } },
          { 'If-Match': ifMatch },
        ),
    ],
    [
      'PUT readstatus',
      (ifMatch) =>
        storage.call('PUT', `instances/${instance.id}/readstatus?status=Read`, undefined, { 'If-Match': ifMatch }),
    ],
    [
      'PUT substatus',
      (ifMatch) => storage.call('PUT', `instances/${instance.id}/substatus`, { label: 'x' }, { 'If-Match': ifMatch }),
    ],
  ];

  it('answers a strong ETag on create and GET, the same until the instance changes', async () => {
    expect(etag).toMatch(STRONG_ETAG);
    const first = await get();
    expect(first.headers.get('etag')).toBe(etag);
    expect((await get()).headers.get('etag')).toBe(etag);
  });

  it.each(writes.map(([name, send]) => [name, send] as const))(
    '%s with If-Match naming the current ETag answers a new ETag, which GET then answers too',
    async (name, send) => {
      const response = await send(etag);
      expect(response.status).toBe(200);
      const next = response.headers.get('etag');
      expect(next).toMatch(STRONG_ETAG);
      expect(next).not.toBe(etag);
      const read = await get();
      if (name === 'DELETE ?hard=true') expect(read.status).toBe(404);
      else expect(read.headers.get('etag')).toBe(next);
    },
  );

  it.each(writes.map(([name, send]) => [name, send] as const))(
    '%s with a stale or weak If-Match answers 412 problem+json and changes nothing',
    async (_, send) => {
      const before = await stored();
      for (const stale of ['"999"', `W/${etag}`, '"0", "998"']) {
        const response = await send(stale);
        expect(response.status).toBe(412);
        expect((await problemOf(response)).type).toBe('urn:altinn-platform:problem:precondition-failed');
        expect(await stored()).toEqual(before);
      }
    },
  );

  it.each(writes.map(([name, send]) => [name, send] as const))('%s with If-Match * writes', async (_, send) => {
    const before = await stored();
    expect((await send('*')).status).toBe(200);
    expect(await stored()).not.toEqual(before);
  });

  it.each(writes.map(([name, send]) => [name, send] as const))(
    '%s with an If-Match list that names the current ETag among others writes',
    async (_, send) => {
      const before = await stored();
      expect((await send(`"nope", ${etag}, W/"x"`)).status).toBe(200);
      expect(await stored()).not.toEqual(before);
    },
  );

  it('checks If-Match against the ETag of the latest write, so a write between read and write is caught', async () => {
    expect((await storage.call('PUT', `instances/${instance.id}/readstatus?status=Read`)).status).toBe(200);
    const response = await storage.call(
      'PUT',
      `instances/${instance.id}/substatus`,
      { label: 'late' },
      { 'If-Match': etag },
    );
    expect(response.status).toBe(412);
    expect((await stored()).instance.status).toMatchObject({ readStatus: 'Read' });
    expect((await stored()).instance.status).not.toHaveProperty('substatus');
  });

  it('lets exactly one of several concurrent writes with the same If-Match through', async () => {
    const before = await stored();
    const responses = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((label) =>
        storage.call('PUT', `instances/${instance.id}/substatus`, { label }, { 'If-Match': etag }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([200, 412, 412, 412, 412]);
    const after = await stored();
    expect(Number(after.version)).toBe(Number(before.version) + 1);
    const winner = responses.find((response) => response.status === 200);
    expect(winner).toBeDefined();
    const answered = (await winner!.json()) as Instance;
    expect(answered.status.substatus).toEqual(after.instance.status.substatus);
  });

  it('checks the version in the UPDATE itself: a write with a stale expected version changes nothing', async () => {
    const before = await stored();
    const repository = instanceRepository(storage.db);
    const changed = { ...before.instance, lastChanged: '2030-01-01T00:00:00.000Z' } as unknown as StoredInstance;
    const stale = String(Number(before.version) + 7);
    expect(await repository.updateInstance(changed, stale)).toBeUndefined();
    expect(await stored()).toEqual(before);
    expect(await repository.updateInstance(changed, before.version)).toBe(String(Number(before.version) + 1));
  });

  it('answers 404, not 412, for an unknown or hard-deleted instance whatever If-Match says', async () => {
    expect((await storage.call('DELETE', `instances/${instance.id}?hard=true`)).status).toBe(200);
    for (const id of [`510001/${MISSING_GUID}`, instance.id]) {
      for (const ifMatch of ['*', '"1"']) {
        const response = await storage.call('PUT', `instances/${id}/readstatus?status=Read`, undefined, {
          'If-Match': ifMatch,
        });
        expect(response.status).toBe(404);
      }
    }
  });

  it('GET with If-None-Match naming the current ETag (or *) answers 304 without a body', async () => {
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const response = await get({ 'If-None-Match': ifNoneMatch });
      expect(response.status).toBe(304);
      expect(response.headers.get('etag')).toBe(etag);
      expect(await response.text()).toBe('');
    }
  });

  it('GET with If-None-Match naming an old ETag answers 200 with the instance and its new ETag', async () => {
    const write = await storage.call('PUT', `instances/${instance.id}/readstatus?status=Read`);
    const response = await get({ 'If-None-Match': etag });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(write.headers.get('etag'));
    expect(((await response.json()) as Instance).status.readStatus).toBe('Read');
  });

  it('GET with If-None-Match of an unknown instance answers 404', async () => {
    const response = await storage.call('GET', `instances/510001/${MISSING_GUID}`, undefined, { 'If-None-Match': '*' });
    expect(response.status).toBe(404);
  });

  it('a soft delete of an already soft-deleted instance keeps its ETag (nothing changed)', async () => {
    const first = await storage.call('DELETE', `instances/${instance.id}`);
    const second = await storage.call('DELETE', `instances/${instance.id}`, undefined, {
      'If-Match': first.headers.get('etag') ?? '',
    });
    expect(second.status).toBe(200);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
  });
});
