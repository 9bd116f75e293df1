import { randomUUID } from 'node:crypto';
import { type BigIntStats, constants, type Dirent } from 'node:fs';
import { access, type FileHandle, link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Readable } from 'node:stream';
import type {
  BlobBody,
  BlobDownload,
  BlobListing,
  BlobStore,
  ListOptions,
  UploadOptions,
  UploadResult,
} from './index.js';

/**
 * A BlobStore on the local filesystem, for the local platform: an upload is written to a temporary file, fsynced,
 * and renamed into place (the directory fsynced too) before it is acknowledged, so a blob whose upload was answered
 * survives `kill -9` of any process and a power cut. Azurite, by contrast, keeps its blob index in memory and saves it
 * every few seconds: acknowledged blobs were lost when it was killed.
 *
 * Layout under `root`: `{container}/blobs/{name}` (a `/` in a name is a directory), `{container}/meta/{name}.json`
 * (the content type), `{container}/incoming/` (uploads in progress; what a crash leaves there is never listed and is
 * removed by `incompleteUploads`). Names are Storage's (`org/app/instance/data/guid`): a name may not also be a
 * directory of another name, and segments may not be empty, `.` or `..`.
 */
export interface FileBlobStore extends BlobStore {
  /** The directory the store lives in. */
  readonly root: string;
  /** Uploads a crash or an abort left behind in `container`, older than `olderThanMs`: their paths and sizes. */
  incomplete(container: string, olderThanMs: number): Promise<{ path: string; size: number }[]>;
}

const CONTAINER = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?$/;

function checkContainer(container: string): void {
  if (!CONTAINER.test(container)) throw new Error(`invalid blob container name '${container}'`);
}

function checkName(name: string): string[] {
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('\0') || segment.includes(sep)) {
      throw new Error(`invalid blob name '${name}': empty, '.' or '..' segment, NUL or '${sep}'`);
    }
  }
  return segments;
}

const isMissing = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  'code' in error &&
  (error.code === 'ENOENT' || error.code === 'ENOTDIR');

/** The ETag of a stored version: its inode and modification time, so every rename into place gives a new one. */
function etagOf(stats: BigIntStats): string {
  return `"${stats.ino.toString(16)}-${stats.mtimeNs.toString(16)}"`;
}

/** fsyncs a directory, so the entries created, renamed or removed in it are on disk. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `path` and any missing parents, fsyncing the parent of each directory it made. */
async function makeDirectories(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return;
  for (let dir = path; dir.length >= first.length; dir = dirname(dir)) await syncDirectory(dirname(dir));
}

function toNodeStream(body: BlobBody): Readable {
  return body instanceof Readable ? body : Readable.fromWeb(body as never);
}

/** Writes `body` into `handle` chunk by chunk (never the whole body in memory), honouring `signal`. */
async function writeAll(handle: FileHandle, body: BlobBody, signal: AbortSignal | undefined): Promise<number> {
  let size = 0;
  const source = toNodeStream(body);
  const abort = () => source.destroy(signal?.reason ?? new Error('upload aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    if (signal?.aborted) abort();
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
      await handle.write(bytes);
      size += bytes.length;
    }
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  return size;
}

/** Where a store's files live under its root. */
class Layout {
  constructor(readonly root: string) {}
  blobsOf(container: string): string {
    return join(this.root, container, 'blobs');
  }
  pathOf(container: string, name: string): string {
    checkContainer(container);
    return join(this.blobsOf(container), ...checkName(name));
  }
  metaOf(container: string, name: string): string {
    return `${join(this.root, container, 'meta', ...checkName(name))}.json`;
  }
  incomingOf(container: string): string {
    return join(this.root, container, 'incoming');
  }
}

/** Writes a file durably to `target` through a temporary file in the container's incoming folder. */
async function putFile(
  layout: Layout,
  container: string,
  target: string,
  write: (handle: FileHandle) => Promise<number>,
): Promise<number> {
  const temporary = join(layout.incomingOf(container), randomUUID());
  await makeDirectories(layout.incomingOf(container));
  const handle = await open(temporary, 'wx');
  let size: number;
  try {
    size = await write(handle);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await makeDirectories(dirname(target));
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(target));
  return size;
}

/** Removes a file and syncs its directory; false when there was none. */
async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  await syncDirectory(dirname(path)).catch(() => undefined);
  return true;
}

/** Every blob name under `dir` (relative, `/`-separated), depth first; the caller sorts. */
async function namesUnder(dir: string, prefix: string, into: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  for (const entry of entries) {
    const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) await namesUnder(join(dir, entry.name), name, into);
    else if (entry.isFile()) into.push(name);
  }
}

/** Files in the container's incoming folder older than `olderThanMs`. */
async function incompleteIn(layout: Layout, container: string, olderThanMs: number) {
  checkContainer(container);
  let names: string[];
  try {
    names = await readdir(layout.incomingOf(container));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const cutoff = Date.now() - olderThanMs;
  const found: { path: string; size: number }[] = [];
  for (const name of names) {
    const path = join(layout.incomingOf(container), name);
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isFile() && stats.mtimeMs <= cutoff) found.push({ path, size: stats.size });
  }
  return found;
}

async function download(
  layout: Layout,
  container: string,
  name: string,
  signal: AbortSignal | undefined,
): Promise<BlobDownload | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(layout.pathOf(container, name), 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const stats = await handle.stat({ bigint: true });
  const meta = await readFile(layout.metaOf(container, name), 'utf8').then(
    (text) => JSON.parse(text) as { contentType: string | null },
    () => ({ contentType: null }),
  );
  const stream = handle.createReadStream({ autoClose: true });
  signal?.addEventListener('abort', () => stream.destroy(signal.reason), { once: true });
  return {
    body: Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>,
    contentType: meta.contentType ?? undefined,
    size: Number(stats.size),
    etag: etagOf(stats),
  };
}

async function* listPages(layout: Layout, container: string, options: ListOptions): AsyncIterable<BlobListing[]> {
  checkContainer(container);
  const names: string[] = [];
  await namesUnder(layout.blobsOf(container), '', names);
  const wanted = names.filter((name) => name.startsWith(options.prefix ?? '')).sort();
  const pageSize = Math.min(Math.max(options.pageSize ?? 5000, 1), 5000);
  for (let start = 0; start < wanted.length; start += pageSize) {
    const page: BlobListing[] = [];
    for (const name of wanted.slice(start, start + pageSize)) {
      const stats = await stat(layout.pathOf(container, name), { bigint: true }).catch(() => undefined);
      if (stats) {
        page.push({
          name,
          etag: etagOf(stats),
          lastModified: new Date(Number(stats.mtimeMs)),
          size: Number(stats.size),
        });
      }
    }
    if (page.length > 0) yield page;
  }
}

/** Deletes `name` only while its ETag is `etag`, never a newer version written meanwhile. */
async function deleteIfUnchanged(layout: Layout, container: string, name: string, etag: string): Promise<boolean> {
  const path = layout.pathOf(container, name);
  // Moved aside atomically first, so an upload renaming a new version into place meanwhile is never removed.
  const aside = join(layout.incomingOf(container), `deleting-${randomUUID()}`);
  await makeDirectories(layout.incomingOf(container));
  try {
    await rename(path, aside);
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  if (etagOf(await stat(aside, { bigint: true })) === etag) {
    await unlink(aside);
    await syncDirectory(dirname(path)).catch(() => undefined);
    await removeFile(layout.metaOf(container, name));
    return true;
  }
  // A newer version: put it back unless an even newer one has arrived since (that one wins).
  await link(aside, path).catch((error: unknown) => {
    if (!(typeof error === 'object' && error !== null && 'code' in error && error.code === 'EEXIST')) throw error;
  });
  await unlink(aside);
  await syncDirectory(dirname(path)).catch(() => undefined);
  return false;
}

/** Creates (or opens) a filesystem BlobStore in `root`. */
export function createFileBlobStore(root: string): FileBlobStore {
  const layout = new Layout(root);
  return {
    root,

    async ensureContainer(container) {
      checkContainer(container);
      await makeDirectories(layout.blobsOf(container));
    },

    async upload(container, name, body, options: UploadOptions = {}): Promise<UploadResult> {
      const target = layout.pathOf(container, name);
      // The content type first: a crash between the two leaves a harmless record, never a blob without its type.
      const meta = JSON.stringify({ contentType: options.contentType ?? null });
      const writeMeta = async (handle: FileHandle) => (await handle.write(meta)).bytesWritten;
      await putFile(layout, container, layout.metaOf(container, name), writeMeta);
      const size = await putFile(layout, container, target, (handle) => writeAll(handle, body, options.signal));
      return { etag: etagOf(await stat(target, { bigint: true })), size };
    },

    download: (container, name, signal) => download(layout, container, name, signal),

    async delete(container, name) {
      const existed = await removeFile(layout.pathOf(container, name));
      await removeFile(layout.metaOf(container, name));
      return existed;
    },

    list: (container, options = {}) => listPages(layout, container, options),

    deleteIfUnchanged: (container, name, etag) => deleteIfUnchanged(layout, container, name, etag),

    async exists(container, name) {
      try {
        return (await stat(layout.pathOf(container, name))).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
    },

    async ping() {
      await mkdir(root, { recursive: true });
      await access(root, constants.W_OK);
    },

    incomplete: (container, olderThanMs) => incompleteIn(layout, container, olderThanMs),

    async incompleteUploads(container, olderThanMs, remove) {
      const found = { files: 0, bytes: 0 };
      for (const { path, size } of await incompleteIn(layout, container, olderThanMs)) {
        if (remove && !(await removeFile(path))) continue;
        found.files += 1;
        found.bytes += size;
      }
      return found;
    },
  };
}
