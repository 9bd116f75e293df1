import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/processes.js';
import { openTestBlobStore, uniqueContainerName } from '../../../test/support/blob.js';
import { generatedBody } from '../../../test/support/streams.js';
import { azuriteConnectionString } from '../config/index.js';
import { createFileBlobStore } from './filesystem.js';
import { type BlobStore, blobServiceClientFromConnectionString, createBlobStore } from './index.js';

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('base64');

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const stores: [string, () => BlobStore][] = [
  ['Azurite', () => openTestBlobStore()],
  ['the filesystem', () => createFileBlobStore(mkdtempSync(join(tmpdir(), 'blobs-')))],
];

describe.each(stores)('BlobStore on %s', (_label, openStore) => {
  const store = openStore();
  const container = uniqueContainerName('blob');

  beforeAll(async () => {
    await store.ensureContainer(container);
  });

  it('creates a container idempotently', async () => {
    await expect(store.ensureContainer(container)).resolves.toBeUndefined();
  });

  it('uploads a multi-block web stream and downloads the same bytes with its content type', async () => {
    const source = generatedBody(9 * 1024 * 1024 + 123);
    const result = await store.upload(container, 'instances/1/large.bin', source.stream, {
      contentType: 'application/pdf',
    });
    expect(result.size).toBe(9 * 1024 * 1024 + 123);
    expect(result.etag).not.toBe('');
    const download = await store.download(container, 'instances/1/large.bin');
    expect(download?.contentType).toBe('application/pdf');
    expect(download?.size).toBe(result.size);
    expect(md5(await readAll(download!.body))).toBe(source.digest());
  });

  it('uploads from a Node stream and replaces an existing blob', async () => {
    await store.upload(container, 'replace.txt', Readable.from([Buffer.from('first')]));
    await store.upload(container, 'replace.txt', Readable.from([Buffer.from('second '), Buffer.from('version')]));
    const download = await store.download(container, 'replace.txt');
    expect((await readAll(download!.body)).toString()).toBe('second version');
  });

  it('fails the upload and stores nothing when the source stream errors midway', async () => {
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2) return controller.error(new Error('client went away'));
        sent += 1;
        controller.enqueue(randomBytes(1024));
      },
    });
    await expect(store.upload(container, 'broken.bin', failing)).rejects.toThrow(/client went away/);
    expect(await store.exists(container, 'broken.bin')).toBe(false);
  });

  it('answers undefined for a missing blob and for a missing container', async () => {
    expect(await store.download(container, 'no-such-blob')).toBeUndefined();
    expect(await store.download(uniqueContainerName('absent'), 'x')).toBeUndefined();
  });

  it('reports existence and deletes, true only when the blob existed', async () => {
    await store.upload(container, 'to-delete.txt', Readable.from([Buffer.from('x')]));
    expect(await store.exists(container, 'to-delete.txt')).toBe(true);
    expect(await store.delete(container, 'to-delete.txt')).toBe(true);
    expect(await store.exists(container, 'to-delete.txt')).toBe(false);
    expect(await store.delete(container, 'to-delete.txt')).toBe(false);
  });

  it("lists a container page by page, in name order, with each blob's etag and last-modified time", async () => {
    const listed = uniqueContainerName('list');
    await store.ensureContainer(listed);
    const written = new Map<string, string>();
    for (const name of ['a/1', 'a/2', 'a/3', 'b/1', 'c']) {
      written.set(name, (await store.upload(listed, name, Readable.from([Buffer.from(name)]))).etag);
    }
    const pages: string[][] = [];
    for await (const page of store.list(listed, { pageSize: 2 })) {
      pages.push(page.map((item) => item.name));
      for (const item of page) {
        expect(item.etag).toBe(written.get(item.name));
        expect(Math.abs(item.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
      }
    }
    expect(pages).toEqual([['a/1', 'a/2'], ['a/3', 'b/1'], ['c']]);
    const prefixed: string[] = [];
    for await (const page of store.list(listed, { prefix: 'a/' })) prefixed.push(...page.map((item) => item.name));
    expect(prefixed).toEqual(['a/1', 'a/2', 'a/3']);
  });

  it('lists a missing container as empty', async () => {
    const pages: unknown[] = [];
    for await (const page of store.list(uniqueContainerName('absent'))) pages.push(page);
    expect(pages).toEqual([]);
  });

  it('deletes conditionally: only the version with the given etag', async () => {
    const first = await store.upload(container, 'conditional.txt', Readable.from([Buffer.from('first')]));
    const second = await store.upload(container, 'conditional.txt', Readable.from([Buffer.from('second')]));
    expect(await store.deleteIfUnchanged(container, 'conditional.txt', first.etag)).toBe(false);
    expect(await store.exists(container, 'conditional.txt')).toBe(true);
    expect(await store.deleteIfUnchanged(container, 'conditional.txt', second.etag)).toBe(true);
    expect(await store.exists(container, 'conditional.txt')).toBe(false);
    expect(await store.deleteIfUnchanged(container, 'conditional.txt', second.etag)).toBe(false);
  });

  it('pings a live store', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('BlobStore on Azurite, unreachable', () => {
  it('fails ping when nothing listens at the configured endpoint', async () => {
    const dead = createBlobStore(blobServiceClientFromConnectionString(azuriteConnectionString(await freePort())));
    await expect(dead.ping(1500)).rejects.toThrow();
  });
});

describe('BlobStore on the filesystem: what only it does', () => {
  const root = mkdtempSync(join(tmpdir(), 'blobs-'));
  const store = createFileBlobStore(root);

  it('leaves an aborted upload only in incoming/, never listed, and removeIncomplete frees it', async () => {
    await store.ensureContainer('aborted');
    const controller = new AbortController();
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(stream) {
        sent += 1;
        if (sent === 3) controller.abort(new Error('client went away'));
        stream.enqueue(randomBytes(64 * 1024));
      },
    });
    await expect(store.upload('aborted', 'x/big.bin', endless, { signal: controller.signal })).rejects.toThrow();
    expect(await store.exists('aborted', 'x/big.bin')).toBe(false);
    // The temporary file is removed at once on an abort; one a crash leaves behind is what removeIncomplete frees.
    expect(readdirSync(join(root, 'aborted', 'incoming'))).toEqual([]);
    const crashed = join(root, 'aborted', 'incoming', 'left-by-a-crash');
    await import('node:fs/promises').then((fs) => fs.writeFile(crashed, randomBytes(1000)));
    expect(await store.incomplete('aborted', 60_000)).toEqual([]);
    const old = new Date(Date.now() - 120_000);
    utimesSync(crashed, old, old);
    expect(await store.incomplete('aborted', 60_000)).toEqual([{ path: crashed, size: 1000 }]);
    expect(await store.removeIncomplete('aborted', 60_000)).toBe(1000);
    expect(readdirSync(join(root, 'aborted', 'incoming'))).toEqual([]);
    const pages: unknown[] = [];
    for await (const page of store.list('aborted')) pages.push(page);
    expect(pages).toEqual([]);
  });

  it('refuses names that would leave the container and invalid container names', async () => {
    await store.ensureContainer('names');
    for (const name of ['../escape', 'a/../../b', 'a//b', '/abs', 'a/./b', 'nul\u0000byte']) {
      await expect(store.upload('names', name, Readable.from([Buffer.from('x')]))).rejects.toThrow(/invalid blob name/);
    }
    await expect(store.ensureContainer('../up')).rejects.toThrow(/invalid blob container/);
    await expect(store.download('Upper', 'x')).rejects.toThrow(/invalid blob container/);
  });

  it('gives every rewrite a new etag and keeps the content type per version', async () => {
    const first = await store.upload('names', 'same', Readable.from([Buffer.from('one')]), {
      contentType: 'text/plain',
    });
    const second = await store.upload('names', 'same', Readable.from([Buffer.from('two')]));
    expect(second.etag).not.toBe(first.etag);
    const download = await store.download('names', 'same');
    expect(download?.etag).toBe(second.etag);
    expect(download?.contentType).toBeUndefined();
    expect((await readAll(download!.body)).toString()).toBe('two');
  });
});
