import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fieldsOf, openStorageHarness, problemOf, type StorageHarness } from '../../../../test/support/storage.js';

const nb = {
  resources: [
    { id: 'appName', value: 'Skjema' },
    { id: 'greeting', value: 'Hei {0}', variables: [{ key: 'name', dataSource: 'dataModel.default' }] },
  ],
};

let storage: StorageHarness;
beforeEach(async () => {
  storage = await openStorageHarness();
  await storage.call('POST', 'applications/ttd/forms', { title: { nb: 'Skjema' } });
});
afterEach(async () => {
  await storage.close();
});

describe('POST texts', () => {
  it("stores texts for the language in the path: 200 (as Altinn's POST) and the stored TextResource", async () => {
    const response = await storage.call('POST', 'applications/ttd/forms/texts/nb', nb);
    expect(response.status).toBe(200);
    const created = await response.json();
    expect(created).toEqual({
      id: 'ttd-forms-nb',
      org: 'ttd',
      language: 'nb',
      resources: nb.resources,
      created: '2026-01-01T00:00:01.000Z',
      createdBy: 'ttd',
      lastChanged: '2026-01-01T00:00:01.000Z',
      lastChangedBy: 'ttd',
    });
    expect(await (await storage.call('GET', 'applications/ttd/forms/texts/nb')).json()).toEqual(created);
  });

  it("stores texts for the body's language (Altinn shape: POST .../texts), id and org from the path", async () => {
    const response = await storage.call('POST', 'applications/ttd/forms/texts', {
      language: 'en',
      id: 'whatever',
      org: 'brg',
      ...nb,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'ttd-forms-en', org: 'ttd', language: 'en' });
    expect(await storage.stored()).toEqual({ applications: ['ttd/forms'], texts: ['ttd/forms/en'] });
  });

  it('replaces texts the language already has (Altinn upsert), keeping when they were created', async () => {
    await storage.call('POST', 'applications/ttd/forms/texts/nb', nb);
    const response = await storage.call('POST', 'applications/ttd/forms/texts', {
      language: 'nb',
      resources: [{ id: 'x', value: 'y' }],
    });
    expect(response.status).toBe(200);
    const replaced = await response.json();
    expect(replaced).toMatchObject({ resources: [{ id: 'x', value: 'y' }], created: '2026-01-01T00:00:01.000Z' });
    expect(replaced.lastChanged).toBe('2026-01-01T00:00:02.000Z');
    expect(await (await storage.call('GET', 'applications/ttd/forms/texts/nb')).json()).toEqual(replaced);
  });

  it('returns 404 when the application does not exist, and stores nothing', async () => {
    for (const [path, body] of [
      ['applications/ttd/nothing/texts/nb', nb],
      ['applications/ttd/nothing/texts', { language: 'nb', ...nb }],
    ] as const) {
      const response = await storage.call('POST', path, body);
      expect(response.status).toBe(404);
      expect(await problemOf(response)).toMatchObject({ detail: 'Application ttd/nothing does not exist.' });
    }
    expect((await storage.stored()).texts).toEqual([]);
  });

  it.each([
    ['a three-letter language', 'applications/ttd/forms/texts/nob', nb, 'path.language'],
    ['an upper-case language', 'applications/ttd/forms/texts/NB', nb, 'path.language'],
    ['a bad org', 'applications/TTD/forms/texts/nb', nb, 'path.org'],
    ['a bad body language', 'applications/ttd/forms/texts', { language: 'norsk', ...nb }, 'language'],
    ['a missing body language', 'applications/ttd/forms/texts', nb, 'language'],
    ['a body language other than the path', 'applications/ttd/forms/texts/nb', { language: 'en', ...nb }, 'language'],
    ['resources that are not a list', 'applications/ttd/forms/texts/nb', { resources: {} }, 'resources'],
    [
      'a duplicate resource id',
      'applications/ttd/forms/texts/nb',
      {
        resources: [
          { id: 'a', value: '1' },
          { id: 'a', value: '2' },
        ],
      },
      'resources[1].id',
    ],
    [
      'an empty resource id',
      'applications/ttd/forms/texts/nb',
      { resources: [{ id: '', value: '1' }] },
      'resources[0].id',
    ],
    [
      'a value that is not a string',
      'applications/ttd/forms/texts/nb',
      { resources: [{ id: 'a', value: 1 }] },
      'resources[0].value',
    ],
  ])('returns 400 naming %s and stores nothing', async (_, path, body, field) => {
    const response = await storage.call('POST', path, body);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
    expect((await storage.stored()).texts).toEqual([]);
  });

  it('returns 400 problem+json for malformed JSON and stores nothing', async () => {
    const response = await storage.call('POST', 'applications/ttd/forms/texts/nb', '{"resources": [');
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ status: 400 });
    expect((await storage.stored()).texts).toEqual([]);
  });
});

describe('GET texts', () => {
  it('returns 404 naming the language when the app has no texts in it', async () => {
    const response = await storage.call('GET', 'applications/ttd/forms/texts/en');
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ detail: "Application ttd/forms has no texts in 'en'." });
  });

  it('returns 404 naming the application when it does not exist', async () => {
    const response = await storage.call('GET', 'applications/ttd/nothing/texts/nb');
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ detail: 'Application ttd/nothing does not exist.' });
  });

  it('returns 400 naming a bad language', async () => {
    const response = await storage.call('GET', 'applications/ttd/forms/texts/n1');
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['path.language']);
  });
});

describe('PUT texts', () => {
  it('replaces the texts, keeps created and advances lastChanged', async () => {
    await storage.call('POST', 'applications/ttd/forms/texts/nb', nb);
    const resources = [{ id: 'appName', value: 'Nytt navn' }];
    const response = await storage.call('PUT', 'applications/ttd/forms/texts/nb', { resources });
    expect(response.status).toBe(200);
    const updated = await response.json();
    expect(updated).toMatchObject({
      id: 'ttd-forms-nb',
      resources,
      created: '2026-01-01T00:00:01.000Z',
      lastChanged: '2026-01-01T00:00:02.000Z',
    });
    expect(await (await storage.call('GET', 'applications/ttd/forms/texts/nb')).json()).toEqual(updated);
  });

  it('accepts the TextResource as read back from GET (round trip)', async () => {
    await storage.call('POST', 'applications/ttd/forms/texts/nb', nb);
    const read = (await (await storage.call('GET', 'applications/ttd/forms/texts/nb')).json()) as object;
    const response = await storage.call('PUT', 'applications/ttd/forms/texts/nb', { ...read, resources: [] });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ resources: [] });
  });

  it('returns 404 when the language has no texts, and stores nothing', async () => {
    const response = await storage.call('PUT', 'applications/ttd/forms/texts/en', nb);
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ detail: "Application ttd/forms has no texts in 'en'." });
    expect((await storage.stored()).texts).toEqual([]);
  });

  it('returns 404 when the application does not exist', async () => {
    const response = await storage.call('PUT', 'applications/ttd/nothing/texts/nb', nb);
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ detail: 'Application ttd/nothing does not exist.' });
  });

  it('returns 400 for a bad body and leaves the stored texts unchanged', async () => {
    await storage.call('POST', 'applications/ttd/forms/texts/nb', nb);
    const before = await (await storage.call('GET', 'applications/ttd/forms/texts/nb')).json();
    const response = await storage.call('PUT', 'applications/ttd/forms/texts/nb', {
      resources: [
        { id: 'a', value: '1' },
        { id: 'a', value: '2' },
      ],
    });
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['resources[1].id']);
    expect(await (await storage.call('GET', 'applications/ttd/forms/texts/nb')).json()).toEqual(before);
  });
});

describe('DELETE texts', () => {
  it('removes the texts of one language: 200 with no body (as Altinn), then 404', async () => {
    await storage.call('POST', 'applications/ttd/forms/texts/nb', nb);
    await storage.call('POST', 'applications/ttd/forms/texts/en', nb);
    const response = await storage.call('DELETE', 'applications/ttd/forms/texts/nb');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect((await storage.call('GET', 'applications/ttd/forms/texts/nb')).status).toBe(404);
    expect((await storage.stored()).texts).toEqual(['ttd/forms/en']);
  });

  it('returns 404 when the language has no texts', async () => {
    const response = await storage.call('DELETE', 'applications/ttd/forms/texts/nb');
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ detail: "Application ttd/forms has no texts in 'nb'." });
  });

  it("returns 403 to an org deleting another org's texts, and keeps them", async () => {
    await storage.call('POST', 'applications/ttd/forms/texts/nb', nb);
    const response = await storage.call(
      'DELETE',
      'applications/ttd/forms/texts/nb',
      undefined,
      await storage.tokens.org('brg'),
    );
    expect(response.status).toBe(403);
    expect((await storage.stored()).texts).toEqual(['ttd/forms/nb']);
  });
});
