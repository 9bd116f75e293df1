import type { TestProject } from 'vitest/node';
import { startAzuriteBlob } from './azurite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the Azurite blob server started for this test run. */
    blobConnectionString: string;
  }
}

/** Vitest globalSetup of the node project: one in-memory Azurite for the whole run, stopped at teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzuriteBlob();
  project.provide('blobConnectionString', azurite.connectionString);
  return () => azurite.stop();
}
