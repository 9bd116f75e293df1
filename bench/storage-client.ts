/** The load generator's side of the storage bench: calls through the HTTP API, generated bodies, direct SDK uploads. */
import { Readable } from 'node:stream';
import { BlobServiceClient } from '@azure/storage-blob';
import { MB } from './load.js';

/** A caller of DataServices at `base` (`.../storage/api/v1`) with one bearer token. */
export interface StorageClient {
  /** Sends `method path` and fails unless the answer has `status`; answers the response. */
  call(
    method: string,
    path: string,
    status: number,
    body?: BodyInit,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** Like call, with a JSON body, answering the JSON of the answer. */
  json<T>(method: string, path: string, status: number, body?: unknown): Promise<T>;
}

/** A client of the Storage API at `base` sending `token`. */
export function storageClient(base: string, token: string): StorageClient {
  const call: StorageClient['call'] = async (method, path, status, body, headers = {}) => {
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(body === undefined ? {} : { body }),
    };
    if (body instanceof ReadableStream) init.duplex = 'half';
    const response = await fetch(`${base}/${path}`, init);
    if (response.status !== status) {
      throw new Error(
        `${method} ${path} answered ${response.status}, expected ${status}: ${(await response.text()).slice(0, 300)}`,
      );
    }
    return response;
  };
  return {
    call,
    async json<T>(method: string, path: string, status: number, body?: unknown) {
      const response = await call(
        method,
        path,
        status,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? {} : { 'content-type': 'application/json' },
      );
      return (await response.json()) as T;
    },
  };
}

/** What the bench reads of an instance and a data element. */
export type InstanceAnswer = { id: string; [field: string]: unknown };
export type ElementAnswer = { id: string; size: number };

/** Creates an instance of `appId` for `partyId` through the API. */
export function createInstance(client: StorageClient, appId: string, partyId: string): Promise<InstanceAnswer> {
  return client.json<InstanceAnswer>('POST', `instances?appId=${appId}`, 201, { instanceOwner: { partyId } });
}

/** Uploads `body` as a data element of `dataType` to the instance `id` through the API. */
export async function uploadElement(
  client: StorageClient,
  id: string,
  dataType: string,
  body: BodyInit,
): Promise<ElementAnswer> {
  const response = await client.call('POST', `instances/${id}/data?dataType=${dataType}`, 201, body, {
    'content-type': 'application/octet-stream',
  });
  return (await response.json()) as ElementAnswer;
}

/** Create an instance, upload `content` to it and read it back, all through the API. */
export async function apiCreateUploadRead(
  client: StorageClient,
  appId: string,
  dataType: string,
  partyId: string,
  content: Uint8Array<ArrayBuffer>,
): Promise<void> {
  const instance = await createInstance(client, appId, partyId);
  const element = await uploadElement(client, instance.id, dataType, content);
  const read = await client.call('GET', `instances/${instance.id}/data/${element.id}`, 200);
  const size = (await read.arrayBuffer()).byteLength;
  if (size !== content.length) throw new Error(`read back ${size} bytes, uploaded ${content.length}`);
}

/** `bytes` as a stream of 1 MB chunks copied from `pattern`, generated as it is read (never held whole). */
function* chunksOf(bytes: number, pattern: Uint8Array): Generator<Uint8Array> {
  for (let sent = 0; sent < bytes; sent += pattern.length) {
    yield pattern.slice(0, Math.min(pattern.length, bytes - sent));
  }
}

/** A web stream of `bytes` generated on demand, for a streamed request body. */
export function generatedWebStream(bytes: number, pattern: Uint8Array): ReadableStream<Uint8Array> {
  const chunks = chunksOf(bytes, pattern);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

/** Block size and parallel blocks of the direct upload: the same as the platform's BlobStore. */
const BLOCK_BYTES = 4 * MB;
const BLOCK_CONCURRENCY = 4;

/** Uploads `bytes` of generated content straight to `container/name` with the SDK's `uploadStream`. */
export async function sdkUpload(
  connectionString: string,
  container: string,
  name: string,
  bytes: number,
  pattern: Uint8Array,
): Promise<void> {
  const client = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container);
  await client.createIfNotExists();
  const source = Readable.from(chunksOf(bytes, pattern), { objectMode: false });
  await client.getBlockBlobClient(name).uploadStream(source, BLOCK_BYTES, BLOCK_CONCURRENCY, {
    blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
  });
  const properties = await client.getBlockBlobClient(name).getProperties();
  if (properties.contentLength !== bytes) throw new Error(`stored ${properties.contentLength} bytes of ${bytes}`);
}
