import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { BlobServiceClient, RestError, type StoragePipelineOptions } from '@azure/storage-blob';

/** A blob body to store: a Node stream or a web stream, consumed in blocks and never buffered whole. */
export type BlobBody = Readable | ReadableStream<Uint8Array>;

/** Options of BlobStore.upload. */
export interface UploadOptions {
  /** Stored as the blob's Content-Type. */
  contentType?: string;
  /** Aborts the upload (e.g. when the caller disconnects). */
  signal?: AbortSignal;
}

/** What was stored. */
export interface UploadResult {
  /** The blob's new ETag. */
  etag: string;
  /** Number of bytes read from the body and stored. */
  size: number;
}

/** A blob being downloaded. */
export interface BlobDownload {
  /** The content, streamed from the store. */
  body: ReadableStream<Uint8Array>;
  /** Stored Content-Type, if any. */
  contentType: string | undefined;
  /** Length in bytes. */
  size: number;
  /** The blob's ETag. */
  etag: string;
}

/** One blob as a listing names it. */
export interface BlobListing {
  name: string;
  /** The ETag of the listed version (quoted, as upload answers it), for a conditional delete of that version. */
  etag: string;
  /** When the listed version was last written. */
  lastModified: Date;
  /** Length in bytes. */
  size: number;
}

/** Options of BlobStore.list. */
export interface ListOptions {
  /** Only blobs whose names start with this. */
  prefix?: string;
  /** Most blobs per page (the service caps it at 5000). */
  pageSize?: number;
}

/** The platform's blob storage (data elements), over Azure Blob Storage or Azurite. */
export interface BlobStore {
  /** Creates the container unless it exists. */
  ensureContainer(container: string): Promise<void>;
  /** Streams `body` into `container/name`, replacing any existing blob, in bounded-size blocks. */
  upload(container: string, name: string, body: BlobBody, options?: UploadOptions): Promise<UploadResult>;
  /** Streams `container/name` out, or answers undefined when there is no such blob (or container). */
  download(container: string, name: string, signal?: AbortSignal): Promise<BlobDownload | undefined>;
  /** Deletes `container/name`; true when it existed. */
  delete(container: string, name: string): Promise<boolean>;
  /**
   * Lists `container` one page at a time, in name order, so a caller holds at most one page in memory; a missing
   * container lists as empty.
   */
  list(container: string, options?: ListOptions): AsyncIterable<BlobListing[]>;
  /** Deletes `container/name` only while its ETag is still `etag`; false when it was rewritten since, or is gone. */
  deleteIfUnchanged(container: string, name: string, etag: string): Promise<boolean>;
  /** True when `container/name` exists. */
  exists(container: string, name: string): Promise<boolean>;
  /**
   * What uploads cut short left behind in `container`, older than `olderThanMs`, removed when `remove` is true;
   * stores that keep nothing of their own (Azure discards uncommitted blocks itself after a week) answer zeros.
   */
  incompleteUploads(container: string, olderThanMs: number, remove: boolean): Promise<{ files: number; bytes: number }>;
  /** Resolves when the storage account answers within `timeoutMs`, for readiness checks. */
  ping(timeoutMs?: number): Promise<void>;
}

/** Block size and parallel blocks of uploads: at most 4 x 4 MiB are held in memory per upload. */
const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;

/** Creates the BlobServiceClient for a connection string (Azurite's or a real account's); inject it into createBlobStore. */
export function blobServiceClientFromConnectionString(
  connectionString: string,
  options: StoragePipelineOptions = { retryOptions: { maxTries: 3 } },
): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(connectionString, options);
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

/** An ETag in the quoted form response headers carry (listings leave the quotes off). */
function quoted(etag: string): string {
  return etag === '' || etag.startsWith('"') ? etag : `"${etag}"`;
}

function toNodeStream(body: BlobBody): Readable {
  return body instanceof Readable ? body : Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>);
}

/** Creates a BlobStore over an injected BlobServiceClient. */
export function createBlobStore(service: BlobServiceClient): BlobStore {
  const blob = (container: string, name: string) => service.getContainerClient(container).getBlockBlobClient(name);

  return {
    async ensureContainer(container) {
      await service.getContainerClient(container).createIfNotExists();
    },

    async upload(container, name, body, options = {}) {
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          done(null, chunk);
        },
      });
      const source = toNodeStream(body);
      source.on('error', (error) => counter.destroy(error));
      const response = await blob(container, name).uploadStream(
        source.pipe(counter),
        UPLOAD_BLOCK_BYTES,
        UPLOAD_CONCURRENCY,
        {
          ...(options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
          ...(options.signal ? { abortSignal: options.signal } : {}),
        },
      );
      return { etag: response.etag ?? '', size };
    },

    async download(container, name, signal) {
      try {
        const response = await blob(container, name).download(0, undefined, signal ? { abortSignal: signal } : {});
        const stream = response.readableStreamBody;
        if (!stream) throw new Error('blob download returned no body stream (browser build?)');
        return {
          body: Readable.toWeb(Readable.from(stream)) as unknown as ReadableStream<Uint8Array>,
          contentType: response.contentType,
          size: response.contentLength ?? 0,
          etag: response.etag ?? '',
        };
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    },

    async delete(container, name) {
      try {
        const response = await blob(container, name).deleteIfExists();
        return response.succeeded;
      } catch (error) {
        if (isStatus(error, 404)) return false;
        throw error;
      }
    },

    async *list(container, options = {}) {
      const pages = service
        .getContainerClient(container)
        .listBlobsFlat(options.prefix ? { prefix: options.prefix } : {})
        .byPage(options.pageSize ? { maxPageSize: options.pageSize } : {});
      try {
        for await (const page of pages) {
          yield page.segment.blobItems.map((item) => ({
            name: item.name,
            etag: quoted(item.properties.etag ?? ''),
            lastModified: item.properties.lastModified,
            size: item.properties.contentLength ?? 0,
          }));
        }
      } catch (error) {
        if (isStatus(error, 404)) return;
        throw error;
      }
    },

    async deleteIfUnchanged(container, name, etag) {
      try {
        await blob(container, name).delete({ conditions: { ifMatch: etag } });
        return true;
      } catch (error) {
        // 412: the ETag no longer matches (or, on Azurite, the blob is gone); 404: the blob is gone.
        if (isStatus(error, 412) || isStatus(error, 404)) return false;
        throw error;
      }
    },

    async exists(container, name) {
      return blob(container, name).exists();
    },

    async incompleteUploads() {
      // Uncommitted blocks belong to no blob yet; Azure Storage (and Azurite) garbage-collect them after 7 days.
      return { files: 0, bytes: 0 };
    },

    async ping(timeoutMs = 2000) {
      await service.getProperties({ abortSignal: AbortSignal.timeout(timeoutMs) });
    },
  };
}
