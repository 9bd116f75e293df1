import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DataElementFixture,
  openDataElementFixture,
  type TestElement,
} from '../../../../test/support/data-elements.js';
import { fieldPart, filePart, multipartStream, multipartType } from '../../../../test/support/multipart.js';
import { problemOf } from '../../../../test/support/storage.js';

let fixture: DataElementFixture;
let element: TestElement;
let etag: string;

beforeEach(async () => {
  fixture = await openDataElementFixture();
  const response = await fixture.send('POST', 'data?dataType=attachment', 'first', {
    'content-type': 'text/plain',
    'content-disposition': 'attachment; filename=a.txt',
  });
  expect(response.status).toBe(201);
  element = (await response.json()) as TestElement;
  etag = response.headers.get('etag') ?? '';
});

afterEach(async () => {
  await fixture.storage.close();
});

const elementPath = () => `data/${element.id}`;
const call = (method: string, path: string, headers: Record<string, string> = {}) =>
  fixture.send(method, path, null, headers);
const replace = (body: string, headers: Record<string, string> = {}) =>
  fixture.send('PUT', elementPath(), body, { 'content-type': 'text/plain', ...headers });
/** Proves the element, its row, its blob and the instance copy are as they were after the upload. */
const expectUnchanged = async () => {
  expect(await fixture.storage.storedDataElements()).toEqual([element.id]);
  expect(await fixture.storage.blobNames()).toEqual([element.blobStoragePath]);
  expect((await fixture.readInstance()).data).toEqual([element]);
  const download = await call('GET', elementPath());
  expect(download.headers.get('etag')).toBe(etag);
  expect(await download.text()).toBe('first');
};
const expect412 = async (response: Response) => {
  expect(response.status).toBe(412);
  expect((await problemOf(response)).type).toContain('precondition-failed');
  expect(response.headers.get('etag')).toBe(etag);
};

/** A request body that is held open until `finish`; `reading` resolves once the server starts reading it. */
function heldBody() {
  let started: () => void = () => undefined;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const reading = new Promise<void>((resolve) => {
    started = resolve;
  });
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      started();
    },
  });
  return {
    stream,
    reading,
    finish(text: string) {
      controller?.enqueue(new TextEncoder().encode(text));
      controller?.close();
    },
  };
}

/** A 412 answer, without comparing its ETag to the first one. */
const expect412Against = async (response: Response) => {
  expect(response.status).toBe(412);
  expect((await problemOf(response)).type).toContain('precondition-failed');
};

describe('ETag', () => {
  it('is strong and the same on the upload answer, the download and a 200 lock answer', async () => {
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect((await call('GET', elementPath())).headers.get('etag')).toBe(etag);
    const locked = await call('PUT', `${elementPath()}/lock`);
    const lockedTag = locked.headers.get('etag');
    expect((await call('PUT', `${elementPath()}/lock`)).headers.get('etag')).toBe(lockedTag);
    expect((await call('GET', elementPath())).headers.get('etag')).toBe(lockedTag);
  });

  it('changes on content replace, on lock and on unlock, and always matches the download', async () => {
    const seen = [etag];
    const replaced = await replace('second');
    seen.push(replaced.headers.get('etag') ?? '');
    const locked = await call('PUT', `${elementPath()}/lock`);
    seen.push(locked.headers.get('etag') ?? '');
    expect((await call('GET', elementPath())).headers.get('etag')).toBe(seen[2]);
    const unlocked = await call('DELETE', `${elementPath()}/lock`);
    seen.push(unlocked.headers.get('etag') ?? '');
    expect((await call('GET', elementPath())).headers.get('etag')).toBe(seen[3]);
    expect(new Set(seen.slice(0, 3)).size).toBe(3);
    expect(seen[3]).not.toBe(seen[2]);
  });

  it('changes when a replacement has the very same bytes (a new version is a new element state)', async () => {
    const replaced = await replace('first');
    expect(replaced.status).toBe(200);
    expect(replaced.headers.get('etag')).not.toBe(etag);
  });

  it('changes when only metadata changes (filename by a multipart replace)', async () => {
    const replaced = await fixture.send(
      'PUT',
      elementPath(),
      multipartStream([fieldPart('x', 'y'), filePart('renamed.txt', 'text/plain', 'first')]),
      { 'content-type': multipartType() },
    );
    expect(replaced.status).toBe(200);
    const tag = replaced.headers.get('etag');
    expect(tag).not.toBe(etag);
    expect((await call('GET', elementPath())).headers.get('etag')).toBe(tag);
  });
});

describe('If-Match', () => {
  it('PUT replaces when If-Match names the current ETag, and answers the new one', async () => {
    const response = await replace('second', { 'if-match': etag });
    expect(response.status).toBe(200);
    const download = await call('GET', elementPath());
    expect(await download.text()).toBe('second');
    expect(download.headers.get('etag')).toBe(response.headers.get('etag'));
  });

  it('PUT with a stale, weak or malformed If-Match answers 412 and changes nothing', async () => {
    const stale = `"${'A'.repeat(43)}"`;
    for (const header of [stale, `W/${etag}`, etag.slice(1, -1), '']) {
      await expect412(await replace('second', { 'if-match': header }));
      await expectUnchanged();
    }
  });

  it('PUT with a list holding the current ETag, or *, matches', async () => {
    const listed = await replace('second', { 'if-match': `"other", ${etag}` });
    expect(listed.status).toBe(200);
    const star = await replace('third', { 'if-match': '*' });
    expect(star.status).toBe(200);
    expect(await (await call('GET', elementPath())).text()).toBe('third');
  });

  it('a writer holding the ETag of an older version gets 412 after another writer replaced it', async () => {
    expect((await replace('second', { 'if-match': etag })).status).toBe(200);
    const late = await replace('third', { 'if-match': etag });
    expect(late.status).toBe(412);
    expect(await (await call('GET', elementPath())).text()).toBe('second');
    expect(await fixture.storage.blobNames()).toHaveLength(1);
  });

  it('of two concurrent replacements with the same If-Match, the one committing second gets 412', async () => {
    const first = heldBody();
    const second = heldBody();
    const headers = { 'content-type': 'text/plain', 'if-match': etag };
    const firstAnswer = fixture.send('PUT', elementPath(), first.stream, headers);
    const secondAnswer = fixture.send('PUT', elementPath(), second.stream, headers);
    await Promise.all([first.reading, second.reading]); // both passed the early If-Match check
    first.finish('from first');
    expect((await firstAnswer).status).toBe(200);
    second.finish('from second');
    await expect412Against(await secondAnswer);
    expect(await (await call('GET', elementPath())).text()).toBe('from first');
    expect(await fixture.storage.blobNames()).toHaveLength(1);
  });

  it('a multipart PUT with a stale If-Match answers 412 and stores nothing new', async () => {
    const response = await fixture.send(
      'PUT',
      elementPath(),
      multipartStream([filePart('b.txt', 'text/plain', 'second')]),
      { 'content-type': multipartType(), 'if-match': '"stale"' },
    );
    await expect412(response);
    await expectUnchanged();
  });

  it('DELETE with a stale If-Match answers 412 and keeps the element; with the current ETag deletes it', async () => {
    await expect412(await call('DELETE', elementPath(), { 'if-match': '"stale"' }));
    await expectUnchanged();
    expect((await call('DELETE', elementPath(), { 'if-match': etag })).status).toBe(200);
    await fixture.expectNothingStored();
  });

  it('DELETE with If-Match * deletes an existing element, and a missing one still answers 404', async () => {
    expect((await call('DELETE', elementPath(), { 'if-match': '*' })).status).toBe(200);
    await fixture.expectNothingStored();
    expect((await call('DELETE', elementPath(), { 'if-match': '*' })).status).toBe(404);
  });

  it('lock and unlock with a stale If-Match answer 412 and leave the lock as it was', async () => {
    await expect412(await call('PUT', `${elementPath()}/lock`, { 'if-match': '"stale"' }));
    await expectUnchanged();
    const locked = await call('PUT', `${elementPath()}/lock`, { 'if-match': etag });
    expect(locked.status).toBe(201);
    const lockedTag = locked.headers.get('etag') ?? '';
    const staleUnlock = await call('DELETE', `${elementPath()}/lock`, { 'if-match': etag });
    expect(staleUnlock.status).toBe(412);
    expect(staleUnlock.headers.get('etag')).toBe(lockedTag);
    expect((await fixture.readInstance()).data[0]?.locked).toBe(true);
    const unlocked = await call('DELETE', `${elementPath()}/lock`, { 'if-match': lockedTag });
    expect(unlocked.status).toBe(200);
    expect(((await unlocked.json()) as TestElement).locked).toBe(false);
  });

  it('a locked element answers 409 (not 412) to PUT and DELETE, whatever If-Match says', async () => {
    const lockedTag = (await call('PUT', `${elementPath()}/lock`)).headers.get('etag') ?? '';
    expect((await replace('x', { 'if-match': lockedTag })).status).toBe(409);
    expect((await call('DELETE', elementPath(), { 'if-match': '"stale"' })).status).toBe(409);
  });
});

describe('If-None-Match on GET data/{dataGuid}', () => {
  it('answers 304 with the ETag and no body when it names the current ETag (or *)', async () => {
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const response = await call('GET', elementPath(), { 'if-none-match': header });
      expect(response.status, header).toBe(304);
      expect(response.headers.get('etag')).toBe(etag);
      expect(response.headers.get('content-length') ?? '0').toBe('0');
      expect(await response.text()).toBe('');
    }
  });

  it('answers 200 with the content once the element changed', async () => {
    await replace('second');
    const response = await call('GET', elementPath(), { 'if-none-match': etag });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('second');
  });

  it('answers 404 for a missing element whatever If-None-Match says', async () => {
    const missing = 'instances/510001/0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(
      (await fixture.storage.call('GET', `${missing}/data/${element.id}`, undefined, { 'if-none-match': '*' })).status,
    ).toBe(404);
  });
});

describe('openapi.json', () => {
  it('documents If-Match and 412 on the changing routes, If-None-Match and 304 on the download', async () => {
    const doc = (await (await fixture.storage.call('GET', 'openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: object }>>;
    };
    const path = '/storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}';
    const headersOf = (operation: { parameters?: { name: string; in: string }[] } | undefined) =>
      (operation?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
    for (const [route, method] of [
      [path, 'put'],
      [path, 'delete'],
      [`${path}/lock`, 'put'],
      [`${path}/lock`, 'delete'],
    ] as const) {
      const operation = doc.paths[route]?.[method];
      expect(headersOf(operation), `${method} ${route}`).toEqual(['if-match']);
      expect(Object.keys(operation?.responses ?? {}), `${method} ${route}`).toContain('412');
    }
    expect(headersOf(doc.paths[path]?.get)).toEqual(['if-none-match']);
    expect(Object.keys(doc.paths[path]?.get?.responses ?? {})).toContain('304');
  });
});
