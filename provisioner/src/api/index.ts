import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApi } from '../../../platform/src/api/index.js';
import type { TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { provisionerCommands } from '../commands/index.js';
import { type EdgeMetrics, noEdgeMetrics } from '../edge/metrics.js';
import type { Provider } from '../providers/types.js';
import { authenticateCaller, type ProvisionerEnv } from './access.js';
import { addOverviewRoute } from './overview.js';
import { addProvisionerRoutes } from './routes.js';
import { PROVISIONER_PREFIX } from './views.js';

export { PROVISIONER_PREFIX } from './views.js';

/** What the provisioner API needs. */
export interface ProvisionerApiOptions {
  db: Database;
  logger: Logger;
  verifier: TokenVerifier;
  /** The operator's bearer token for clusters; without one, only org tokens work. */
  adminToken: string | undefined;
  /** Reads live rollouts for `GET .../apps/{app}`. */
  provider?: Pick<Provider, 'rolloutStatus'>;
  /** Called when an operation was started, so the local reconciler takes it at once. */
  wake?: () => void;
  /** The edge's usage metrics for `GET /overview`; none when omitted. */
  edgeMetrics?: EdgeMetrics;
  now?: () => Date;
}

/**
 * The provisioner's HTTP API (`/provisioner/api/v1`): clusters per org, apps, releases and
 * operations. Writes store desired state and an operation and answer 202 with its `Location`; the
 * reconciler does the work.
 */
export function createProvisionerApi(options: ProvisionerApiOptions): OpenAPIHono<ProvisionerEnv> {
  const api = createApi({
    prefix: PROVISIONER_PREFIX,
    title: 'Provisioner',
    version: '1.0.0',
    description: 'Org clusters and app deployments: desired state in, long-running operations out.',
    logger: options.logger,
  }) as unknown as OpenAPIHono<ProvisionerEnv>;
  api.use(
    '*',
    authenticateCaller({
      adminToken: options.adminToken,
      verifier: options.verifier,
      openPaths: [`${PROVISIONER_PREFIX}/openapi.json`],
    }),
  );
  const commands = provisionerCommands({
    db: options.db,
    ...(options.now ? { now: options.now } : {}),
    ...(options.wake ? { wake: options.wake } : {}),
  });
  addProvisionerRoutes(api, {
    db: options.db,
    commands,
    ...(options.provider ? { provider: options.provider } : {}),
  });
  addOverviewRoute(api, {
    db: options.db,
    edgeMetrics: options.edgeMetrics ?? noEdgeMetrics,
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return api;
}
