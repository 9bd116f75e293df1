import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fieldsOf, openStorageHarness, problemOf, type StorageHarness } from '../../../test/support/storage.js';

const form = {
  title: { nb: 'Skjema', en: 'Form' },
  dataTypes: [
    {
      id: 'model',
      allowedContentTypes: ['application/xml'],
      maxCount: 1,
      minCount: 1,
      appLogic: { autoCreate: true, classRef: 'App.Models.Model' },
    },
    { id: 'attachment', allowedContentTypes: ['application/pdf', 'image/png'], maxSize: 25, maxCount: 0, minCount: 0 },
  ],
  partyTypesAllowed: { person: true, organisation: true },
};

let storage: StorageHarness;
beforeEach(async () => {
  storage = await openStorageHarness();
});
afterEach(async () => {
  await storage.close();
});

describe('POST applications', () => {
  it('creates an application named by ?appId (Altinn shape): 201, Location and the stored Application', async () => {
    const response = await storage.call('POST', 'applications?appId=ttd/forms', form);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/storage/api/v1/applications/ttd/forms');
    const created = await response.json();
    expect(created).toEqual({
      id: 'ttd/forms',
      org: 'ttd',
      title: form.title,
      dataTypes: form.dataTypes,
      partyTypesAllowed: { bankruptcyEstate: false, organisation: true, person: true, subUnit: false },
      created: '2026-01-01T00:00:00.000Z',
      createdBy: null,
      lastChanged: '2026-01-01T00:00:00.000Z',
      lastChangedBy: null,
    });
    const read = await storage.call('GET', 'applications/ttd/forms');
    expect(await read.json()).toEqual(created);
  });

  it('creates an application named by the path', async () => {
    const response = await storage.call('POST', 'applications/ttd/forms', form);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/storage/api/v1/applications/ttd/forms');
    expect(await storage.stored()).toEqual({ applications: ['ttd/forms'], texts: [] });
  });

  it('fills defaults for an empty body: no title, no data types, no party types', async () => {
    const response = await storage.call('POST', 'applications/ttd/empty', {});
    expect(await response.json()).toMatchObject({
      title: {},
      dataTypes: [],
      partyTypesAllowed: { bankruptcyEstate: false, organisation: false, person: false, subUnit: false },
    });
  });

  it('accepts the body echoing its own id and org, and ignores server-set stamps sent by the caller', async () => {
    const response = await storage.call('POST', 'applications/ttd/forms', {
      ...form,
      id: 'ttd/forms',
      org: 'ttd',
      created: '1999-01-01T00:00:00Z',
      createdBy: '1337',
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ created: '2026-01-01T00:00:00.000Z', createdBy: null });
  });

  it('returns 409 when the application exists, for both shapes, and keeps the stored one', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    for (const path of ['applications/ttd/forms', 'applications?appId=ttd/forms']) {
      const response = await storage.call('POST', path, { title: { nb: 'Annet' } });
      expect(response.status).toBe(409);
      expect(await problemOf(response)).toMatchObject({
        type: 'urn:altinn-platform:problem:conflict',
        detail: 'Application ttd/forms already exists.',
      });
    }
    expect(await (await storage.call('GET', 'applications/ttd/forms')).json()).toMatchObject({ title: form.title });
  });

  it('answers exactly one 201 and one 409 when two creates of one app race', async () => {
    const answers = await Promise.all([
      storage.call('POST', 'applications/ttd/forms', { title: { nb: 'A' } }),
      storage.call('POST', 'applications?appId=ttd/forms', { title: { nb: 'B' } }),
    ]);
    expect(answers.map((response) => response.status).sort()).toEqual([201, 409]);
    expect(await storage.stored()).toEqual({ applications: ['ttd/forms'], texts: [] });
  });

  it.each([
    ['an upper-case org', 'applications/TTD/forms', 'path.org'],
    ['an org with an underscore', 'applications/t_d/forms', 'path.org'],
    ['an app ending in -', 'applications/ttd/forms-', 'path.app'],
    ['an app longer than 63 characters', `applications/ttd/${'a'.repeat(64)}`, 'path.app'],
    ['an appId without an app', 'applications?appId=ttd', 'query.appId'],
    ['an appId with a bad org', 'applications?appId=Ttd/forms', 'query.appId'],
    ['no appId', 'applications', 'query.appId'],
    ['an unknown query parameter', 'applications?appId=ttd/forms&x=1', 'query.x'],
  ])('returns 400 naming %s and stores nothing', async (_, path, field) => {
    const response = await storage.call('POST', path, form);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
    expect(await storage.stored()).toEqual({ applications: [], texts: [] });
  });

  const dataType = form.dataTypes[1];
  it("keeps fields of Altinn's Application that the schema does not name, as sent, on create and update", async () => {
    const altinnMetadata = {
      ...form,
      processId: 'Process_1',
      onEntry: { show: 'select-instance' },
      dataTypes: form.dataTypes.map((d) => ({
        ...d,
        enablePdfCreation: false,
        appLogic: { shadowFields: { prefix: 'x' } },
      })),
    };
    const created = await storage.call('POST', 'applications/ttd/altinnmeta', altinnMetadata);
    expect(created.status).toBe(201);
    const read = (await (await storage.call('GET', 'applications/ttd/altinnmeta')).json()) as Record<string, unknown>;
    expect(read).toMatchObject({
      processId: 'Process_1',
      onEntry: { show: 'select-instance' },
      dataTypes: altinnMetadata.dataTypes.map((d) =>
        expect.objectContaining({ id: d.id, enablePdfCreation: false, appLogic: { shadowFields: { prefix: 'x' } } }),
      ),
    });
    const updated = await storage.call('PUT', 'applications/ttd/altinnmeta', {
      ...altinnMetadata,
      processId: 'Process_2',
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ processId: 'Process_2', onEntry: { show: 'select-instance' } });
  });

  it.each([
    ['an unknown party type', { partyTypesAllowed: { robot: true } }, 'partyTypesAllowed.robot'],
    ['a duplicate data type id', { dataTypes: [dataType, { ...dataType }] }, 'dataTypes[1].id'],
    [
      'minCount above a positive maxCount',
      { dataTypes: [{ ...dataType, maxCount: 2, minCount: 3 }] },
      'dataTypes[0].minCount',
    ],
    ['a negative minCount', { dataTypes: [{ ...dataType, minCount: -1 }] }, 'dataTypes[0].minCount'],
    [
      'a content type without subtype',
      { dataTypes: [{ ...dataType, allowedContentTypes: ['pdf'] }] },
      'dataTypes[0].allowedContentTypes[0]',
    ],
    ['a zero maxSize', { dataTypes: [{ ...dataType, maxSize: 0 }] }, 'dataTypes[0].maxSize'],
    ['a fractional maxCount', { dataTypes: [{ ...dataType, maxCount: 1.5 }] }, 'dataTypes[0].maxCount'],
    ['a missing data type id', { dataTypes: [{ ...dataType, id: undefined }] }, 'dataTypes[0].id'],
    ['a data type id with a slash', { dataTypes: [{ ...dataType, id: 'a/b' }] }, 'dataTypes[0].id'],
    ['a title that is not a string', { title: { nb: 5 } }, 'title.nb'],
    ['a party type that is not a boolean', { partyTypesAllowed: { person: 'yes' } }, 'partyTypesAllowed.person'],
    ['an id naming another app', { id: 'ttd/other' }, 'id'],
    ['an org naming another org', { org: 'brg' }, 'org'],
  ])('returns 400 naming %s and stores nothing', async (_, body, field) => {
    const response = await storage.call('POST', 'applications/ttd/forms', body);
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.type).toBe('urn:altinn-platform:problem:validation');
    expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    expect(await storage.stored()).toEqual({ applications: [], texts: [] });
  });

  it('allows any minCount when maxCount is 0 or less (unlimited)', async () => {
    const body = { dataTypes: [{ ...dataType, maxCount: -1, minCount: 5 }] };
    expect((await storage.call('POST', 'applications/ttd/forms', body)).status).toBe(201);
  });

  it('returns 400 problem+json for malformed JSON and stores nothing', async () => {
    const response = await storage.call('POST', 'applications/ttd/forms', '{"title":');
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ status: 400, detail: 'Malformed JSON in request body' });
    expect(await storage.stored()).toEqual({ applications: [], texts: [] });
  });

  it('returns 400 for a body that is not an object and stores nothing', async () => {
    const response = await storage.call('POST', 'applications/ttd/forms', '[1]');
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['body']);
    expect(await storage.stored()).toEqual({ applications: [], texts: [] });
  });
});

describe('GET applications', () => {
  it('returns 404 problem+json for an unknown application', async () => {
    const response = await storage.call('GET', 'applications/ttd/nothing');
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({
      type: 'urn:altinn-platform:problem:not-found',
      detail: 'Application ttd/nothing does not exist.',
      instance: '/storage/api/v1/applications/ttd/nothing',
    });
  });

  it('returns 400 naming a bad org on read', async () => {
    const response = await storage.call('GET', 'applications/Ttd/forms');
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['path.org']);
  });

  it("lists only that org's applications, ordered by app", async () => {
    await storage.call('POST', 'applications/ttd/zeta', {});
    await storage.call('POST', 'applications/ttd/alpha', {});
    await storage.call('POST', 'applications/brg/alpha', {}, await storage.tokens.org('brg'));
    const response = await storage.call('GET', 'applications/ttd');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { applications: { id: string }[] };
    expect(body.applications.map((a) => a.id)).toEqual(['ttd/alpha', 'ttd/zeta']);
  });

  it('lists no applications for an org without any', async () => {
    expect(await (await storage.call('GET', 'applications/skd')).json()).toEqual({ applications: [] });
  });

  it('returns 400 naming a bad org on list', async () => {
    const response = await storage.call('GET', 'applications/-ttd');
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['path.org']);
  });
});

describe('PUT applications/{org}/{app}', () => {
  it('replaces the metadata, keeps created and advances lastChanged', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    const response = await storage.call('PUT', 'applications/ttd/forms', { title: { nb: 'Nytt' }, dataTypes: [] });
    expect(response.status).toBe(200);
    const updated = await response.json();
    expect(updated).toMatchObject({
      id: 'ttd/forms',
      title: { nb: 'Nytt' },
      dataTypes: [],
      created: '2026-01-01T00:00:00.000Z',
      lastChanged: '2026-01-01T00:00:01.000Z',
    });
    expect(await (await storage.call('GET', 'applications/ttd/forms')).json()).toEqual(updated);
  });

  it('accepts the Application as read back from GET (round trip)', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    const read = (await (await storage.call('GET', 'applications/ttd/forms')).json()) as Record<string, unknown>;
    const response = await storage.call('PUT', 'applications/ttd/forms', { ...read, title: { en: 'Renamed' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: { en: 'Renamed' }, dataTypes: form.dataTypes });
  });

  it('returns 404 for an unknown application and stores nothing', async () => {
    const response = await storage.call('PUT', 'applications/ttd/nothing', form);
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ detail: 'Application ttd/nothing does not exist.' });
    expect(await storage.stored()).toEqual({ applications: [], texts: [] });
  });

  it('returns 400 for a bad body and leaves the stored application unchanged', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    const before = await (await storage.call('GET', 'applications/ttd/forms')).json();
    const response = await storage.call('PUT', 'applications/ttd/forms', {
      title: { nb: 'Nytt' },
      dataTypes: [form.dataTypes[1], form.dataTypes[1]],
    });
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['dataTypes[1].id']);
    expect(await (await storage.call('GET', 'applications/ttd/forms')).json()).toEqual(before);
  });

  it('returns 400 when the body id names another app', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    const response = await storage.call('PUT', 'applications/ttd/forms', { id: 'ttd/other' });
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['id']);
  });
});

describe('DELETE applications/{org}/{app}', () => {
  it('returns 200 with the deleted application (as Altinn Storage does) and removes it with its texts', async () => {
    const created = await (await storage.call('POST', 'applications/ttd/forms', form)).json();
    await storage.call('POST', 'applications/ttd/forms/texts/nb', { resources: [{ id: 'a', value: 'A' }] });
    await storage.call('POST', 'applications/ttd/other', {});
    const response = await storage.call('DELETE', 'applications/ttd/forms');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(created);
    expect((await storage.call('GET', 'applications/ttd/forms')).status).toBe(404);
    expect(await storage.stored()).toEqual({ applications: ['ttd/other'], texts: [] });
  });

  it('returns 404 for an unknown application', async () => {
    const response = await storage.call('DELETE', 'applications/ttd/nothing');
    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ status: 404 });
  });

  it('returns 400 naming a bad app name', async () => {
    const response = await storage.call('DELETE', 'applications/ttd/Forms');
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['path.app']);
  });
});
