import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import {
  type BlobStore,
  blobServiceClientFromConnectionString,
  createBlobStore,
} from '../../platform/src/blob/index.js';

/** Connection string of the Azurite server started by global-setup.ts. */
export function testBlobConnectionString(): string {
  return inject('blobConnectionString');
}

/** A BlobStore on the test run's Azurite. */
export function openTestBlobStore(): BlobStore {
  return createBlobStore(blobServiceClientFromConnectionString(testBlobConnectionString()));
}

/** A container name no other test uses (Azure rules: 3-63 lowercase letters, digits and hyphens). */
export function uniqueContainerName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().replaceAll('-', '')}`.slice(0, 63);
}
