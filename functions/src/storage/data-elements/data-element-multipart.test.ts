import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DataElementFixture,
  md5,
  openDataElementFixture,
  type TestElement,
} from '../../../../test/support/data-elements.js';
import {
  fieldPart,
  filePart,
  type MultipartOptions,
  multipartBytes,
  multipartStream,
  multipartType,
  type TestPart,
} from '../../../../test/support/multipart.js';
import { fieldsOf, problemOf } from '../../../../test/support/storage.js';
import { generatedBody } from '../../../../test/support/streams.js';

let fixture: DataElementFixture;

beforeEach(async () => {
  fixture = await openDataElementFixture();
});

afterEach(async () => {
  await fixture.storage.close();
});

/** POSTs a multipart body (streamed, no Content-Length) as a new element of `dataType`. */
const uploadParts = (dataType: string, parts: TestPart[], options: MultipartOptions = {}, type = multipartType()) =>
  fixture.send('POST', `data?dataType=${dataType}`, multipartStream(parts, options), { 'content-type': type });
const download = (element: TestElement) => fixture.storage.call('GET', `${fixture.instancePath}/data/${element.id}`);

describe('POST data with multipart/form-data', () => {
  it('stores the first file part: its content, filename and Content-Type, and adds it to the instance', async () => {
    const response = await uploadParts('attachment', [
      fieldPart('description', 'not stored'),
      filePart('report.csv', 'text/csv', 'a,b\r\n1,2\r\n'),
      filePart('other.txt', 'text/plain', 'not stored either'),
    ]);
    expect(response.status).toBe(201);
    const element = (await response.json()) as TestElement;
    expect(element).toMatchObject({
      dataType: 'attachment',
      filename: 'report.csv',
      contentType: 'text/csv',
      size: 10,
      contentHash: md5('a,b\r\n1,2\r\n'),
    });
    expect((await fixture.readInstance()).data).toEqual([element]);
    expect(await fixture.storage.blobNames()).toEqual([element.blobStoragePath]);
    expect(await fixture.storage.storedDataElements()).toEqual([element.id]);
    const content = await download(element);
    expect(content.headers.get('content-type')).toBe('text/csv');
    expect(await content.text()).toBe('a,b\r\n1,2\r\n');
  });

  it('streams a multi-MB file part cut in odd chunks, with the right MD5 and size', async () => {
    const file = generatedBody(5 * 1024 * 1024 + 7);
    const response = await uploadParts(
      'attachment',
      [fieldPart('a', 'b'), filePart('big.bin', 'application/octet-stream', file.stream)],
      { chunkSize: 7 },
    );
    expect(response.status).toBe(201);
    const element = (await response.json()) as TestElement;
    expect(element.size).toBe(5 * 1024 * 1024 + 7);
    expect(element.contentHash).toBe(file.digest());
    expect(md5(Buffer.from(await (await download(element)).arrayBuffer()))).toBe(file.digest());
  });

  it('reads a body arriving one byte per chunk', async () => {
    const response = await uploadParts('attachment', [filePart('a.txt', 'text/plain', 'one byte at a time')], {
      chunkSize: 1,
    });
    expect(response.status).toBe(201);
    expect(await (await download((await response.json()) as TestElement)).text()).toBe('one byte at a time');
  });

  it('takes filename*= from the part over filename=', async () => {
    const part = {
      headers: { 'Content-Disposition': `form-data; name="f"; filename="x.txt"; filename*=UTF-8''s%C3%B8knad.txt` },
      content: 'x',
    };
    const response = await uploadParts('attachment', [part]);
    expect(((await response.json()) as TestElement).filename).toBe('søknad.txt');
  });

  it('stops reading at the closing boundary: an 8 MB epilogue is not read', async () => {
    const epilogue = generatedBody(8 * 1024 * 1024);
    const response = await uploadParts('attachment', [filePart('a.txt', 'text/plain', 'x')], {
      epilogue: epilogue.stream,
    });
    expect(response.status).toBe(201);
    expect(epilogue.sent()).toBeLessThan(1024 * 1024);
  });

  it("returns 415 when the part's Content-Type is not allowed, whatever the request's, storing nothing", async () => {
    const response = await uploadParts('pdf', [filePart('a.png', 'image/png', 'png')]);
    expect(response.status).toBe(415);
    await problemOf(response);
    await fixture.expectNothingStored();
    const allowed = await uploadParts('pdf', [filePart('a.pdf', 'application/pdf', '%PDF')]);
    expect(allowed.status).toBe(201);
  });

  it('returns 413 once the file part passes maxSize, stops reading, and stores nothing', async () => {
    const file = generatedBody(8 * 1024 * 1024);
    const response = await uploadParts('small', [filePart('big.bin', 'application/octet-stream', file.stream)]);
    expect(response.status).toBe(413);
    await problemOf(response);
    expect(file.sent()).toBeLessThan(4 * 1024 * 1024);
    await fixture.expectNothingStored();
  });

  it('accepts a file part of exactly maxSize (the framing does not count)', async () => {
    const file = generatedBody(1024 * 1024);
    const response = await uploadParts('small', [filePart('one.bin', 'application/octet-stream', file.stream)]);
    expect(response.status).toBe(201);
    expect(((await response.json()) as TestElement).size).toBe(1024 * 1024);
  });

  it('returns 413 when other parts push the body far past maxSize, storing nothing', async () => {
    const field = generatedBody(3 * 1024 * 1024);
    const response = await uploadParts('small', [
      { headers: { 'Content-Disposition': 'form-data; name="junk"' }, content: field.stream },
      filePart('a.txt', 'text/plain', 'x'),
    ]);
    expect(response.status).toBe(413);
    expect(field.sent()).toBeLessThan(3 * 1024 * 1024);
    await fixture.expectNothingStored();
  });

  it('returns 400 problem+json when the closing boundary is missing, removing the blob already written', async () => {
    const file = generatedBody(2 * 1024 * 1024);
    const response = await uploadParts('attachment', [filePart('a.bin', 'application/octet-stream', file.stream)], {
      close: false,
    });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).type).toContain('malformed-multipart');
    expect(file.sent()).toBe(2 * 1024 * 1024);
    await fixture.expectNothingStored();
  });

  it('returns 400 when a part after the file is cut off, storing nothing', async () => {
    const response = await uploadParts('attachment', [filePart('a.txt', 'text/plain', 'x'), fieldPart('b', 'c')], {
      close: false,
    });
    expect(response.status).toBe(400);
    await fixture.expectNothingStored();
  });

  it('returns 400 when no part is a file, storing nothing', async () => {
    const response = await uploadParts('attachment', [fieldPart('a', 'b'), fieldPart('c', 'd')]);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('no file part');
    await fixture.expectNothingStored();
  });

  it('returns 400 for a body that is not multipart at all, storing nothing', async () => {
    const response = await fixture.send('POST', 'data?dataType=attachment', 'plain text', {
      'content-type': multipartType(),
    });
    expect(response.status).toBe(400);
    await fixture.expectNothingStored();
  });

  it('returns 400 naming Content-Type when the boundary is missing, storing nothing', async () => {
    const response = await uploadParts('attachment', [filePart('a.txt', 'text/plain', 'x')], {}, 'multipart/form-data');
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['Content-Type']);
    await fixture.expectNothingStored();
  });

  it.each([
    ['a parent path', '../../etc/passwd'],
    ['a Windows path', 'C:\\\\temp\\\\a.txt'],
    ['an empty name', '  '],
    ['a name over 255 characters', `${'a'.repeat(252)}.txt`],
  ])('returns 400 naming part.Content-Disposition for %s, storing nothing', async (_, filename) => {
    const response = await uploadParts('attachment', [filePart(filename, 'text/plain', 'x')]);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['part.Content-Disposition']);
    await fixture.expectNothingStored();
  });

  it('returns 400 for a control character in filename*= of a part, storing nothing', async () => {
    const part = {
      headers: { 'Content-Disposition': `form-data; name="f"; filename*=UTF-8''a%0Ab.txt` },
      content: 'x',
    };
    const response = await uploadParts('attachment', [part]);
    expect(await fieldsOf(response)).toEqual(['part.Content-Disposition']);
    await fixture.expectNothingStored();
  });

  it('accepts a body with a declared Content-Length (bytes, not a stream)', async () => {
    const bytes = multipartBytes([filePart('a.txt', 'text/plain', 'sized')]);
    const response = await fixture.send('POST', 'data?dataType=attachment', bytes, {
      'content-type': multipartType(),
      'content-length': String(bytes.length),
    });
    expect(response.status).toBe(201);
    expect(((await response.json()) as TestElement).size).toBe(5);
  });
});

describe('PUT data/{dataGuid} with multipart/form-data', () => {
  it('replaces the content, filename and content type from the part, and removes the old blob', async () => {
    const created = (await (
      await fixture.send('POST', 'data?dataType=attachment', 'first', { 'content-type': 'text/plain' })
    ).json()) as TestElement;
    const response = await fixture.send(
      'PUT',
      `data/${created.id}`,
      multipartStream([filePart('second.csv', 'text/csv', 'second version')], { chunkSize: 3 }),
      { 'content-type': multipartType() },
    );
    expect(response.status).toBe(200);
    const updated = (await response.json()) as TestElement;
    expect(updated).toMatchObject({ id: created.id, filename: 'second.csv', contentType: 'text/csv', size: 14 });
    expect(await fixture.storage.blobNames()).toEqual([updated.blobStoragePath]);
    expect(await (await download(updated)).text()).toBe('second version');
  });

  it('keeps the old content when the replacement multipart is malformed', async () => {
    const created = (await (
      await fixture.send('POST', 'data?dataType=attachment', 'first', { 'content-type': 'text/plain' })
    ).json()) as TestElement;
    const response = await fixture.send(
      'PUT',
      `data/${created.id}`,
      multipartStream([filePart('a.txt', 'text/plain', 'half')], { close: false }),
      { 'content-type': multipartType() },
    );
    expect(response.status).toBe(400);
    expect(await fixture.storage.blobNames()).toEqual([created.blobStoragePath]);
    expect((await fixture.readInstance()).data).toEqual([created]);
    expect(await (await download(created)).text()).toBe('first');
  });
});
