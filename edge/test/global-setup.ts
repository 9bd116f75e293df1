import type { TestProject } from 'vitest/node';
import { startEgressTarget } from './egress-target';
import { deadPort, startUpstream } from './upstream';

declare module 'vitest' {
  export interface ProvidedContext {
    upstreamPort: number;
    deadPort: number;
    egressTargetPort: number;
    egressSigningJwk: import('jose').JWK;
  }
}

/** Starts the loopback upstream for the workers project and tells the tests its port. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { server, port } = await startUpstream();
  project.provide('upstreamPort', port);
  project.provide('deadPort', await deadPort());
  const egress = await startEgressTarget();
  project.provide('egressTargetPort', egress.port);
  project.provide('egressSigningJwk', egress.signingJwk);
  return async () => {
    await new Promise<void>((resolve) => egress.server.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
