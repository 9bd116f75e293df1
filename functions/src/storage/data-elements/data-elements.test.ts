import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../../../platform/src/blob/index.js';
import { openTestBlobStore } from '../../../../test/support/blob.js';
import {
  type DataElementFixture,
  type TestElement as Element,
  type TestInstance as Instance,
  md5,
  openDataElementFixture,
} from '../../../../test/support/data-elements.js';
import { fieldsOf, type StorageHarness } from '../../../../test/support/storage.js';
import { generatedBody } from '../../../../test/support/streams.js';

const MISSING_GUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

let fixture: DataElementFixture;
let storage: StorageHarness;
let instance: Instance;

async function open(blob?: BlobStore) {
  fixture = await openDataElementFixture(blob ? { blob } : {});
  storage = fixture.storage;
  instance = fixture.instance;
}

afterEach(async () => {
  await storage.close();
});

const upload = (dataType: string, body: BodyInit, headers: Record<string, string> = {}) =>
  storage.send('POST', `instances/${instance.id}/data?dataType=${dataType}`, body, {
    'content-type': 'text/plain',
    ...headers,
  });
const uploaded = async (dataType = 'attachment', body: BodyInit = 'hello', headers: Record<string, string> = {}) => {
  const response = await upload(dataType, body, headers);
  expect(response.status).toBe(201);
  return (await response.json()) as Element;
};
const readInstance = () => fixture.readInstance();
const expectNothingStored = () => fixture.expectNothingStored();

describe('with a working blob store', () => {
  beforeEach(() => open());

  describe('POST instances/{partyId}/{guid}/data', () => {
    it('stores a raw body: 201, Location, the DataElement, and adds it to the instance', async () => {
      const response = await upload('attachment', 'hello world', {
        'content-disposition': 'attachment; filename="report.txt"',
      });
      expect(response.status).toBe(201);
      const element = (await response.json()) as Element;
      const guid = instance.id.split('/')[1];
      // Absolute links from the configured public URLs (deliberate change: Altinn's are absolute too).
      const platform = `http://localhost:7071/storage/api/v1/instances/${instance.id}/data/${element.id}`;
      expect(response.headers.get('location')).toBe(platform);
      expect(element).toEqual({
        id: element.id,
        instanceGuid: guid,
        dataType: 'attachment',
        filename: 'report.txt',
        contentType: 'text/plain',
        blobStoragePath: `ttd/forms/${guid}/data/${element.id}`,
        selfLinks: { apps: `http://localhost:8787/ttd/forms/instances/${instance.id}/data/${element.id}`, platform },
        size: 11,
        contentHash: md5(Buffer.from('hello world')),
        locked: false,
        refs: [],
        isRead: false,
        tags: [],
        fileScanResult: 'NotApplicable',
        created: '2026-01-01T00:00:02.000Z',
        createdBy: 'ttd',
        lastChanged: '2026-01-01T00:00:02.000Z',
        lastChangedBy: 'ttd',
      });
      const after = await readInstance();
      expect(after.data).toEqual([element]);
      expect(after.lastChanged).toBe(element.lastChanged);
      expect(await storage.blobNames()).toEqual([element.blobStoragePath]);
    });

    it('takes the filename from filename*= over filename=', async () => {
      const element = await uploaded('attachment', 'x', {
        'content-disposition': `attachment; filename="plain.txt"; filename*=UTF-8''s%C3%B8knad.txt`,
      });
      expect(element.filename).toBe('søknad.txt');
    });

    it.each([
      ['a parent path', 'attachment; filename="../x"'],
      ['a bare ..', 'attachment; filename=".."'],
      ['a backslash path', 'attachment; filename="..\\\\x"'],
      ['a slash in filename*', "attachment; filename*=UTF-8''a%2Fb.txt"],
      ['a NUL in filename*', "attachment; filename*=UTF-8''a%00b.txt"],
      ['a C1 control character in filename*', "attachment; filename*=UTF-8''a%C2%85b.txt"],
      ['a tab in filename', 'attachment; filename="a\tb.txt"'],
      ['an empty filename', 'attachment; filename=""'],
      ['a filename of spaces', 'attachment; filename="   "'],
      ['a filename of 256 characters', `attachment; filename="${'a'.repeat(252)}.txt"`],
      ['invalid percent-encoding', "attachment; filename*=UTF-8''a%ZZ.txt"],
      ['invalid UTF-8', "attachment; filename*=UTF-8''a%FF.txt"],
      ['an unterminated quoted string', 'attachment; filename="a.txt'],
      ['a repeated parameter', 'attachment; filename="a.txt"; filename="b.txt"'],
      ['no disposition type', 'filename=a.txt'],
    ])('returns 400 naming Content-Disposition for %s, storing nothing', async (_, header) => {
      const response = await upload('attachment', 'x', { 'content-disposition': header });
      expect(response.status).toBe(400);
      expect(await fieldsOf(response)).toEqual(['Content-Disposition']);
      await expectNothingStored();
    });

    it('accepts a filename of 255 characters, trims surrounding spaces, and decodes ISO-8859-1 filename*', async () => {
      const long = `${'a'.repeat(251)}.txt`;
      expect(
        (await uploaded('attachment', 'x', { 'content-disposition': `attachment; filename="${long}"` })).filename,
      ).toBe(long);
      const spaced = await uploaded('attachment', 'x', { 'content-disposition': 'attachment; filename=" a b.txt "' });
      expect(spaced.filename).toBe('a b.txt');
      const latin = await uploaded('attachment', 'x', {
        'content-disposition': "attachment; filename*=iso-8859-1'no'%F8l.txt",
      });
      expect(latin.filename).toBe('øl.txt');
      const unknownCharset = await uploaded('attachment', 'x', {
        'content-disposition': `attachment; filename="fallback.txt"; filename*=x-unknown''a.txt`,
      });
      expect(unknownCharset.filename).toBe('fallback.txt');
      const unquoted = await uploaded('attachment', 'x', { 'content-disposition': 'inline;filename=plain.txt' });
      expect(unquoted.filename).toBe('plain.txt');
      const none = await uploaded('attachment', 'x', { 'content-disposition': 'attachment' });
      expect(none.filename).toBeNull();
    });

    it('keeps the old filename when a replacement names an unsafe one, and changes nothing', async () => {
      const before = await uploaded('attachment', 'first', { 'content-disposition': 'attachment; filename=a.txt' });
      const response = await storage.send('PUT', `instances/${instance.id}/data/${before.id}`, 'second', {
        'content-disposition': 'attachment; filename="../b.txt"',
      });
      expect(await fieldsOf(response)).toEqual(['Content-Disposition']);
      expect(await storage.blobNames()).toEqual([before.blobStoragePath]);
      expect((await readInstance()).data).toEqual([before]);
    });

    it('returns 400 naming dataType when the app has no such data type', async () => {
      const response = await upload('nope', 'x');
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { errors: { field: string }[] };
      expect(problem.errors.map((e) => e.field)).toEqual(['dataType']);
      await expectNothingStored();
    });

    it('returns 404 for a missing instance', async () => {
      const response = await storage.send('POST', `instances/510001/${MISSING_GUID}/data?dataType=attachment`, 'x');
      expect(response.status).toBe(404);
    });

    it('returns 415 when the content type is not allowed, storing nothing', async () => {
      const response = await upload('pdf', 'x', { 'content-type': 'image/png' });
      expect(response.status).toBe(415);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      await expectNothingStored();
      expect((await upload('pdf', 'x', { 'content-type': 'application/pdf; charset=binary' })).status).toBe(201);
    });

    it('returns 413 up front when Content-Length exceeds maxSize, storing nothing', async () => {
      const response = await upload('small', 'x', { 'content-length': String(2 * 1024 * 1024) });
      expect(response.status).toBe(413);
      await expectNothingStored();
    });

    it('returns 413 while streaming a body without Content-Length once maxSize is passed, and stops reading', async () => {
      const body = generatedBody(8 * 1024 * 1024);
      const response = await upload('small', body.stream);
      expect(response.status).toBe(413);
      expect(body.sent()).toBeLessThan(4 * 1024 * 1024);
      await expectNothingStored();
    });

    it('accepts a body of exactly maxSize', async () => {
      const bytes = randomBytes(1024 * 1024);
      const element = await uploaded('small', bytes);
      expect(element.size).toBe(1024 * 1024);
    });

    it('returns 409 when the data type already holds maxCount elements, storing nothing more', async () => {
      const first = await uploaded('single');
      const response = await upload('single', 'again');
      expect(response.status).toBe(409);
      expect(await storage.blobNames()).toEqual([first.blobStoragePath]);
      expect(await storage.storedDataElements()).toEqual([first.id]);
    });
  });

  describe('GET data and dataelements', () => {
    it('round-trips a multi-MB streamed body with the same MD5, size and headers', async () => {
      const body = generatedBody(9 * 1024 * 1024 + 321);
      const element = await uploaded('attachment', body.stream, {
        'content-type': 'application/octet-stream',
        'content-disposition': 'attachment; filename="big.bin"',
      });
      expect(element.size).toBe(9 * 1024 * 1024 + 321);
      expect(element.contentHash).toBe(body.digest());
      const response = await storage.call('GET', `instances/${instance.id}/data/${element.id}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(response.headers.get('content-length')).toBe(String(element.size));
      expect(response.headers.get('etag')).toMatch(/^".+"$/);
      expect(response.headers.get('content-disposition')).toContain('filename="big.bin"');
      expect(md5(Buffer.from(await response.arrayBuffer()))).toBe(body.digest());
    });

    it('returns 404 for a missing data element', async () => {
      const response = await storage.call('GET', `instances/${instance.id}/data/${MISSING_GUID}`);
      expect(response.status).toBe(404);
    });

    it('lists the instance data elements', async () => {
      const a = await uploaded();
      const b = await uploaded('pdf', 'y', { 'content-type': 'application/pdf' });
      const response = await storage.call('GET', `instances/${instance.id}/dataelements`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ dataElements: [a, b] });
    });

    it('returns 404 listing a missing instance', async () => {
      expect((await storage.call('GET', `instances/510001/${MISSING_GUID}/dataelements`)).status).toBe(404);
    });
  });

  describe('PUT data/{dataGuid}', () => {
    it('replaces the content, updates the element and the instance, and removes the old blob', async () => {
      const before = await uploaded('attachment', 'first', { 'content-disposition': 'attachment; filename=a.txt' });
      const response = await storage.send('PUT', `instances/${instance.id}/data/${before.id}`, 'second version', {
        'content-type': 'text/csv',
      });
      expect(response.status).toBe(200);
      const after = (await response.json()) as Element;
      expect(after).toMatchObject({
        id: before.id,
        filename: 'a.txt',
        contentType: 'text/csv',
        size: 14,
        contentHash: md5(Buffer.from('second version')),
      });
      expect(await storage.blobNames()).toEqual([after.blobStoragePath]);
      const download = await storage.call('GET', `instances/${instance.id}/data/${before.id}`);
      expect(await download.text()).toBe('second version');
      expect((await readInstance()).data).toEqual([after]);
    });

    it('returns 413 for an oversized replacement and keeps the old content', async () => {
      const before = await uploaded('small', 'small');
      const response = await storage.send(
        'PUT',
        `instances/${instance.id}/data/${before.id}`,
        generatedBody(3e6).stream,
      );
      expect(response.status).toBe(413);
      expect(await storage.blobNames()).toEqual([before.blobStoragePath]);
      const download = await storage.call('GET', `instances/${instance.id}/data/${before.id}`);
      expect(await download.text()).toBe('small');
    });

    it('returns 415 for a refused content type', async () => {
      const before = await uploaded('pdf', 'x', { 'content-type': 'application/pdf' });
      const response = await storage.send('PUT', `instances/${instance.id}/data/${before.id}`, 'y', {
        'content-type': 'text/plain',
      });
      expect(response.status).toBe(415);
      expect(await storage.blobNames()).toEqual([before.blobStoragePath]);
    });

    it('returns 409 for a locked element and 404 for a missing one', async () => {
      const element = await uploaded();
      expect((await storage.call('PUT', `instances/${instance.id}/data/${element.id}/lock`)).status).toBe(201);
      expect((await storage.send('PUT', `instances/${instance.id}/data/${element.id}`, 'y')).status).toBe(409);
      expect(await storage.blobNames()).toEqual([element.blobStoragePath]);
      expect((await storage.send('PUT', `instances/${instance.id}/data/${MISSING_GUID}`, 'y')).status).toBe(404);
    });
  });

  describe('DELETE data/{dataGuid}', () => {
    it('removes the row, the instance entry and the blob', async () => {
      const element = await uploaded();
      const response = await storage.call('DELETE', `instances/${instance.id}/data/${element.id}`);
      expect(response.status).toBe(200);
      await expectNothingStored();
      expect((await storage.call('GET', `instances/${instance.id}/data/${element.id}`)).status).toBe(404);
    });

    it('returns 409 for a locked element and 404 for a missing one', async () => {
      const element = await uploaded();
      await storage.call('PUT', `instances/${instance.id}/data/${element.id}/lock`);
      expect((await storage.call('DELETE', `instances/${instance.id}/data/${element.id}`)).status).toBe(409);
      expect(await storage.storedDataElements()).toEqual([element.id]);
      expect((await storage.call('DELETE', `instances/${instance.id}/data/${MISSING_GUID}`)).status).toBe(404);
    });
  });

  describe('lock', () => {
    it('locks (201 first time, 200 again) and unlocks (locked false)', async () => {
      const element = await uploaded();
      const path = `instances/${instance.id}/data/${element.id}/lock`;
      const first = await storage.call('PUT', path);
      expect(first.status).toBe(201);
      expect(((await first.json()) as Element).locked).toBe(true);
      const again = await storage.call('PUT', path);
      expect(again.status).toBe(200);
      expect(((await again.json()) as Element).locked).toBe(true);
      expect((await readInstance()).data[0]?.locked).toBe(true);
      const unlocked = await storage.call('DELETE', path);
      expect(unlocked.status).toBe(200);
      expect(((await unlocked.json()) as Element).locked).toBe(false);
      expect((await storage.call('DELETE', `instances/${instance.id}/data/${element.id}`)).status).toBe(200);
    });

    it('returns 404 locking a missing element', async () => {
      expect((await storage.call('PUT', `instances/${instance.id}/data/${MISSING_GUID}/lock`)).status).toBe(404);
    });
  });
});

describe('with failures', () => {
  it('removes the blob when the database write fails', async () => {
    await open();
    await storage.db.exec('ALTER TABLE data_elements ADD CONSTRAINT refuse_all CHECK (false)');
    const response = await upload('attachment', 'x');
    expect(response.status).toBe(500);
    expect(await storage.blobNames()).toEqual([]);
    expect(await storage.storedDataElements()).toEqual([]);
    expect((await readInstance()).data).toEqual([]);
  });

  it('keeps the old content and removes the new blob when the database write of a replacement fails', async () => {
    await open();
    const before = await uploaded('attachment', 'first');
    await storage.db.exec('ALTER TABLE data_elements ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
    const response = await storage.send('PUT', `instances/${instance.id}/data/${before.id}`, 'second');
    expect(response.status).toBe(500);
    expect(await storage.blobNames()).toEqual([before.blobStoragePath]);
    const download = await storage.call('GET', `instances/${instance.id}/data/${before.id}`);
    expect(await download.text()).toBe('first');
    expect((await readInstance()).data).toEqual([before]);
  });

  it('writes no row when the blob store fails', async () => {
    const real = openTestBlobStore();
    await open({ ...real, upload: () => Promise.reject(new Error('blob store down')) });
    const response = await upload('attachment', 'x');
    expect(response.status).toBe(500);
    await expectNothingStored();
  });
});
