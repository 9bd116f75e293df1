import type { OpenAPIHono } from '@hono/zod-openapi';
import type { TokenVerifier } from '../../platform/src/auth/index.js';
import type { Database } from '../../platform/src/db/index.js';
import type { Logger } from '../../platform/src/logging/index.js';
import type { ProvisionerEnv } from './api/access.js';
import { createProvisionerApi } from './api/index.js';
import { type Autoscaler, createAutoscaler, edgeUsage, type UsageSource } from './autoscale/index.js';
import { provisionerCommands } from './commands/index.js';
import type { ProvisionerConfig } from './config.js';
import { edgeMetricsClient } from './edge/metrics.js';
import type { Provider } from './providers/types.js';
import { type EdgeRoutes, edgeRoutesClient, noEdgeRoutes } from './reconcile/edge-routes.js';
import { createReconciler, type Reconciler } from './reconcile/index.js';

export { PROVISIONER_PREFIX } from './api/index.js';

/** What the provisioner is built from. */
export interface ProvisionerDeps {
  db: Database;
  logger: Logger;
  verifier: TokenVerifier;
  config: ProvisionerConfig;
  provider: Provider;
  /** The edge's route table; from `config.edge` when omitted, none when that is unset too. */
  edge?: EdgeRoutes;
  /** Where autoscaling reads usage; the edge's metrics (`config.edge`) when omitted. */
  usage?: UsageSource;
  now?: () => Date;
}

/** A provisioner: its HTTP API, its reconciler and the provider they drive. */
export interface Provisioner {
  config: ProvisionerConfig;
  api: OpenAPIHono<ProvisionerEnv>;
  reconciler: Reconciler;
  /** Usage-based autoscaling; null when off or without an edge to read usage from. */
  autoscaler: Autoscaler | null;
  provider: Provider;
  /** Stops the reconciler loop, then the provider (local replicas and ingresses end with it). */
  close(): Promise<void>;
}

/** Wires the provisioner's API and reconciler to a provider and the edge. */
export function createProvisioner(deps: ProvisionerDeps): Provisioner {
  const { config, logger } = deps;
  let edge = deps.edge;
  if (!edge) {
    if (config.edge) {
      edge = edgeRoutesClient({ baseUrl: config.edge.url, token: config.edge.token });
    } else {
      logger.warn('no edge configured (EDGE_ADMIN_URL, EDGE_ADMIN_TOKEN): routes are not registered');
      edge = noEdgeRoutes;
    }
  }
  const reconciler = createReconciler({
    db: deps.db,
    provider: deps.provider,
    edge,
    logger,
    pollMs: config.pollMs,
    progressDeadlineMs: config.progressDeadlineMs,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const api = createProvisionerApi({
    db: deps.db,
    logger,
    verifier: deps.verifier,
    adminToken: config.adminToken,
    provider: deps.provider,
    wake: () => reconciler.wake(),
    ...(config.edge ? { edgeMetrics: edgeMetricsClient({ baseUrl: config.edge.url, token: config.edge.token }) } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const usage = deps.usage ?? (config.edge ? edgeUsage({ baseUrl: config.edge.url, token: config.edge.token }) : null);
  const autoscaler =
    config.autoscale.enabled && usage
      ? createAutoscaler({
          db: deps.db,
          commands: provisionerCommands({
            db: deps.db,
            wake: () => reconciler.wake(),
            ...(deps.now ? { now: deps.now } : {}),
          }),
          usage,
          logger: logger.child({ component: 'autoscaler' }),
          ...(deps.now ? { now: () => deps.now!().getTime() } : {}),
        })
      : null;
  return {
    config,
    api,
    reconciler,
    autoscaler,
    provider: deps.provider,
    async close() {
      await autoscaler?.stop();
      await reconciler.stop();
      await deps.provider.close();
    },
  };
}
