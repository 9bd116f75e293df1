import type { TestProject } from 'vitest/node';
import { deadPort, startUpstream } from './upstream';

declare module 'vitest' {
  export interface ProvidedContext {
    upstreamPort: number;
    deadPort: number;
  }
}

/** Starts the loopback upstream for the workers project and tells the tests its port. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { server, port } = await startUpstream();
  project.provide('upstreamPort', port);
  project.provide('deadPort', await deadPort());
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
