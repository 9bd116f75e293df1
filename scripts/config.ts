import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DNS_LABEL } from '../edge/src/routing/schema.js';
import { TEST_SERVICE_OWNERS } from '../functions/src/register/service-owners.js';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);
const label = (fallback: string) => z.string().regex(DNS_LABEL, 'must be a DNS-1123 label').default(fallback);

const schema = z.object({
  EDGE_PORT: port(8787),
  FUNCTIONS_PORT: port(7071),
  AZURITE_PORT: port(10000),
  DATA_DIR: z.string().min(1).default('.data'),
  BLOB_STORE: z.enum(['filesystem', 'azurite']).optional(),
  EDGE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  PROVISIONER_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  DEMO_ORG: label('ttd').refine(
    (org) => TEST_SERVICE_OWNERS.some((owner) => owner.org === org),
    `must be a seeded service owner (${TEST_SERVICE_OWNERS.map((o) => o.org).join(', ')})`,
  ),
  DEMO_APP: label('demo'),
  START_VERBOSE: z.enum(['0', '1', 'true', 'false']).default('0'),
  EGRESS_DEV_LOOPBACK_PORTS: z
    .string()
    .regex(/^\s*(\d{1,5}\s*(,\s*\d{1,5}\s*)*)?$/, 'must be a comma-separated list of ports')
    .optional(),
});

/** Settings of the local platform launcher. */
export interface LauncherConfig {
  edgePort: number;
  functionsPort: number;
  azuritePort: number;
  dataDir: string;
  /**
   * Where blobs live (`BLOB_STORE`): `filesystem` (`{dataDir}/blobs`, acknowledged uploads fsynced) or `azurite`.
   * Unset: the filesystem, unless the data folder already holds Azurite's blobs from an earlier version.
   */
  blobStore: 'filesystem' | 'azurite' | undefined;
  edgeAdminToken: string | undefined;
  provisionerAdminToken: string | undefined;
  demoOrg: string;
  /** The demo org's organisation number, for its Maskinporten-style sign-in. */
  demoOrgNumber: string;
  demoApp: string;
  verbose: boolean;
  /** Development only: loopback ports the edge's egress may reach (`EGRESS_DEV_LOOPBACK_PORTS`); off when unset. */
  egressDevLoopbackPorts: string | undefined;
}

/** Reads the launcher's settings from the environment, failing with one line per bad variable. */
export function loadLauncherConfig(env: NodeJS.ProcessEnv): LauncherConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid launcher settings:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    edgePort: e.EDGE_PORT,
    functionsPort: e.FUNCTIONS_PORT,
    azuritePort: e.AZURITE_PORT,
    dataDir: e.DATA_DIR,
    blobStore: e.BLOB_STORE,
    edgeAdminToken: e.EDGE_ADMIN_TOKEN,
    provisionerAdminToken: e.PROVISIONER_ADMIN_TOKEN,
    demoOrg: e.DEMO_ORG,
    demoOrgNumber: TEST_SERVICE_OWNERS.find((o) => o.org === e.DEMO_ORG)?.orgNumber ?? '',
    demoApp: e.DEMO_APP,
    verbose: e.START_VERBOSE === '1' || e.START_VERBOSE === 'true',
    egressDevLoopbackPorts: e.EGRESS_DEV_LOOPBACK_PORTS?.trim() || undefined,
  };
}

/**
 * The local blob store of the data folder `dataDir`: `setting` (BLOB_STORE) when given; else the filesystem (uploads
 * fsynced before they are answered), unless the folder holds blobs Azurite stored there before and none of its own.
 */
export function localBlobStoreOf(dataDir: string, setting?: 'filesystem' | 'azurite'): 'filesystem' | 'azurite' {
  if (setting) return setting;
  const azurite = resolve(dataDir, 'azurite');
  const holdsAzurite = existsSync(azurite) && readdirSync(azurite).length > 0;
  return holdsAzurite && !existsSync(resolve(dataDir, 'blobs')) ? 'azurite' : 'filesystem';
}
