import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fieldsOf, openStorageHarness, problemOf, type StorageHarness } from '../../../../test/support/storage.js';

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
      validFrom: '2026-01-01T00:00:00.000Z',
      created: '2026-01-01T00:00:00.000Z',
      createdBy: 'ttd',
      lastChanged: '2026-01-01T00:00:00.000Z',
      lastChangedBy: 'ttd',
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

  it('takes id and org from the path whatever the body says (as Altinn), and ignores server-set stamps sent', async () => {
    const response = await storage.call('POST', 'applications/ttd/forms', {
      ...form,
      id: 'ttd/other',
      org: 'brg',
      created: '1999-01-01T00:00:00Z',
      createdBy: '1337',
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      id: 'ttd/forms',
      org: 'ttd',
      created: '2026-01-01T00:00:00.000Z',
      createdBy: 'ttd',
    });
    expect(await storage.stored()).toEqual({ applications: ['ttd/forms'], texts: [] });
  });

  it('replaces an existing application (Altinn upsert, 201 again) and keeps when and by whom it was created', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    const again = await storage.call('POST', 'applications?appId=ttd/forms', { title: { nb: 'Annet' } });
    expect(again.status).toBe(201);
    const replaced = await again.json();
    expect(replaced).toMatchObject({ title: { nb: 'Annet' }, dataTypes: [], created: '2026-01-01T00:00:00.000Z' });
    expect(replaced.lastChanged).not.toBe(replaced.created);
    expect(await (await storage.call('GET', 'applications/ttd/forms')).json()).toEqual(replaced);
  });

  it('stores one application when two stores of one app race, both answered 201', async () => {
    const answers = await Promise.all([
      storage.call('POST', 'applications/ttd/forms', { title: { nb: 'A' } }),
      storage.call('POST', 'applications?appId=ttd/forms', { title: { nb: 'B' } }),
    ]);
    expect(answers.map((response) => response.status)).toEqual([201, 201]);
    expect(await storage.stored()).toEqual({ applications: ['ttd/forms'], texts: [] });
  });

  it('ignores query parameters it does not know, as ASP.NET does', async () => {
    expect((await storage.call('POST', 'applications?appId=ttd/forms&x=1', form)).status).toBe(201);
  });

  it.each([
    ['an upper-case org', 'applications/TTD/forms', 'path.org'],
    ['an org with an underscore', 'applications/t_d/forms', 'path.org'],
    ['an app ending in -', 'applications/ttd/forms-', 'path.app'],
    ['an app longer than 63 characters', `applications/ttd/${'a'.repeat(64)}`, 'path.app'],
    ['an appId without an app', 'applications?appId=ttd', 'query.appId'],
    ['an appId with a bad org', 'applications?appId=Ttd/forms', 'query.appId'],
    ['no appId', 'applications', 'query.appId'],
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
    ['a duplicate data type id', { dataTypes: [dataType, { ...dataType }] }, 'dataTypes[1].id'],
    ['a fractional maxCount', { dataTypes: [{ ...dataType, maxCount: 1.5 }] }, 'dataTypes[0].maxCount'],
    ['a missing data type id', { dataTypes: [{ ...dataType, id: undefined }] }, 'dataTypes[0].id'],
    ['a title that is not a string', { title: { nb: 5 } }, 'title.nb'],
    ['a party type that is not a boolean', { partyTypesAllowed: { person: 'yes' } }, 'partyTypesAllowed.person'],
  ])('returns 400 naming %s and stores nothing', async (_, body, field) => {
    const response = await storage.call('POST', 'applications/ttd/forms', body);
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.type).toBe('urn:altinn-platform:problem:validation');
    expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    expect(await storage.stored()).toEqual({ applications: [], texts: [] });
  });

  it("accepts what Altinn's model binding accepts: null or missing lists, counts and party types, any content type", async () => {
    const response = await storage.call('POST', 'applications/ttd/forms', {
      title: null,
      dataTypes: [
        { id: 'ref-data-as-pdf', allowedContentTypes: ['application/pdf'], maxCount: 0, minCount: 0 },
        { id: 'free', allowedContentTypes: null, maxSize: null, taskId: null, appLogic: null },
        { id: 'odd/id', allowedContentTypes: ['pdf'], minCount: -1, maxSize: 0, enablePdfCreation: false },
      ],
      partyTypesAllowed: { person: true, robot: true },
    });
    expect(response.status).toBe(201);
    const stored = await response.json();
    expect(stored.title).toEqual({});
    expect(stored.dataTypes[1]).toEqual({
      id: 'free',
      allowedContentTypes: [],
      maxCount: 0,
      minCount: 0,
      taskId: null,
      appLogic: null,
    });
    expect(stored.dataTypes[2]).toMatchObject({ id: 'odd/id', minCount: -1, maxSize: 0, enablePdfCreation: false });
    expect(stored.partyTypesAllowed).toMatchObject({ person: true, robot: true, subUnit: false });
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

  it("lists every org's applications at GET applications, ordered by org and app, to callers without a token", async () => {
    await storage.call('POST', 'applications/ttd/zeta', {});
    await storage.call('POST', 'applications/brg/alpha', {}, await storage.tokens.org('brg'));
    const response = await storage.call('GET', 'applications', undefined, { authorization: '' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { applications: { id: string }[] };
    expect(body.applications.map((a) => a.id)).toEqual(['brg/alpha', 'ttd/zeta']);
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
  it('soft deletes by default (as Altinn): 200 with the application marked by validTo, still readable', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    for (const query of ['', '?hard=False', '?hard=false']) {
      const response = await storage.call('DELETE', `applications/ttd/forms${query}`);
      expect(response.status).toBe(200);
      const deleted = await response.json();
      expect(deleted.validTo).toBe(deleted.lastChanged);
      expect(await (await storage.call('GET', 'applications/ttd/forms')).json()).toEqual(deleted);
    }
    expect(await storage.stored()).toEqual({ applications: ['ttd/forms'], texts: [] });
  });

  it('returns 400 naming hard when it is not a boolean, and deletes nothing', async () => {
    await storage.call('POST', 'applications/ttd/forms', form);
    const response = await storage.call('DELETE', 'applications/ttd/forms?hard=yes');
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['query.hard']);
    expect((await (await storage.call('GET', 'applications/ttd/forms')).json()).validTo).toBeUndefined();
  });

  it('hard deletes with hard=True (as app-lib and .NET spell it): 200 with the application, removed with its texts', async () => {
    const created = await (await storage.call('POST', 'applications/ttd/forms', form)).json();
    await storage.call('POST', 'applications/ttd/forms/texts/nb', { resources: [{ id: 'a', value: 'A' }] });
    await storage.call('POST', 'applications/ttd/other', {});
    const response = await storage.call('DELETE', 'applications/ttd/forms?hard=True');
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
