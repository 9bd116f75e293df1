import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { openStorageHarness, type StorageHarness, type StorageHarnessOptions } from './storage.js';

/** A data element as the tests read it. */
export type TestElement = {
  id: string;
  size: number;
  contentHash: string;
  locked: boolean;
  filename: string | null;
  contentType: string;
  blobStoragePath: string;
  [field: string]: unknown;
};
/** An instance as the data element tests read it. */
export type TestInstance = { id: string; lastChanged: string; data: TestElement[] };

/** Data types of the test app `ttd/forms`. */
export const TEST_DATA_TYPES = [
  { id: 'attachment', allowedContentTypes: [], maxCount: 0, minCount: 0 },
  { id: 'pdf', allowedContentTypes: ['application/pdf'], maxCount: 0, minCount: 0 },
  { id: 'small', allowedContentTypes: [], maxSize: 1, maxCount: 0, minCount: 0 },
  { id: 'single', allowedContentTypes: [], maxCount: 1, minCount: 0 },
];

/** Base64 MD5, as `contentHash` holds it. */
export const md5 = (data: Uint8Array | string) => createHash('md5').update(data).digest('base64');

/** A Storage harness with the app `ttd/forms` and one instance of it, and helpers for its data elements. */
export interface DataElementFixture {
  storage: StorageHarness;
  instance: TestInstance;
  /** `instances/{partyId}/{guid}`, relative to the API prefix. */
  instancePath: string;
  /** Sends `method instances/{id}/{path}` with a raw body. */
  send(method: string, path: string, body: BodyInit | null, headers?: Record<string, string>): Promise<Response>;
  /** The instance as GET answers it now. */
  readInstance(): Promise<TestInstance>;
  /** Fails unless no blob, no data element row and no instance data entry exists. */
  expectNothingStored(): Promise<void>;
}

/** Opens a harness, stores `ttd/forms` with `dataTypes` and creates one instance of it. */
export async function openDataElementFixture(
  options: StorageHarnessOptions = {},
  dataTypes = TEST_DATA_TYPES,
): Promise<DataElementFixture> {
  const storage = await openStorageHarness(options);
  expect((await storage.call('POST', 'applications/ttd/forms', { dataTypes })).status).toBe(201);
  const response = await storage.call('POST', 'instances?appId=ttd/forms', { instanceOwner: { partyId: '510001' } });
  expect(response.status).toBe(201);
  const instance = (await response.json()) as TestInstance;
  const instancePath = `instances/${instance.id}`;
  const readInstance = async () => (await (await storage.call('GET', instancePath)).json()) as TestInstance;
  return {
    storage,
    instance,
    instancePath,
    send: (method, path, body, headers) => storage.send(method, `${instancePath}/${path}`, body, headers),
    readInstance,
    async expectNothingStored() {
      expect(await storage.blobNames()).toEqual([]);
      expect(await storage.storedDataElements()).toEqual([]);
      expect((await readInstance()).data).toEqual([]);
    },
  };
}
