import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { startOperation } from '../commands/index.js';
import type { Provider } from '../providers/types.js';
import { type ProvisionerRepository, provisionerRepository } from '../state/repository.js';
import { replicasFit } from './transition.js';

/** What the drift check needs: the store, the provider to observe, the clock and a log. */
export interface DriftCheck {
  db: Database;
  repo: ProvisionerRepository;
  provider: Provider;
  now: () => Date;
  log: Logger;
}

/** The operation that repairs one drifted target. */
interface Repair {
  org: string;
  app: string | null;
  generation: number;
  kind: 'cluster.apply' | 'app.deploy';
  revision?: number;
}

/** Starts a repair unless the cluster is gone or being deleted, or the target already has an operation; answers whether it did. */
async function startRepair(d: DriftCheck, r: Repair): Promise<boolean> {
  const { org, app, generation, kind, revision } = r;
  const created = await d.db.transaction(async (tx) => {
    const inTx = provisionerRepository(tx);
    const cluster = await inTx.getCluster(org, { lock: true });
    if (!cluster || cluster.phase === 'Deleting') return false;
    const active = await inTx.activeOperations(org);
    if (active.some((op) => op.app === app || op.app === null)) return false;
    await startOperation(
      inTx,
      kind,
      { org, app, generation },
      { cause: 'Drift', ...(revision === undefined ? {} : { revision }) },
      'reconciler',
      d.now(),
    );
    return true;
  });
  if (created) d.log.info('drift: operation started', { org, app, kind });
  return created;
}

/** Repairs Ready clusters the provider no longer sees; answers how many repairs started. */
async function repairClusters(d: DriftCheck): Promise<number> {
  let started = 0;
  for (const cluster of await d.repo.listClusters()) {
    if (cluster.phase !== 'Ready' || !d.provider.observeCluster) continue;
    if (await d.provider.observeCluster(cluster.org)) continue;
    const repair: Repair = { org: cluster.org, app: null, generation: cluster.generation, kind: 'cluster.apply' };
    if (await startRepair(d, repair)) started++;
  }
  return started;
}

/** Repairs Ready apps off their desired release or scale; answers how many repairs started. */
async function repairApps(d: DriftCheck): Promise<number> {
  let started = 0;
  for (const app of await d.repo.listApps()) {
    if (app.phase !== 'Ready') continue;
    const status = await d.provider.rolloutStatus(app.org, app.app).catch(() => undefined);
    if (!status) continue;
    if (status.revision === app.desiredRevision && replicasFit(status.replicas, app.scale)) continue;
    const { org, generation, desiredRevision: revision } = app;
    if (await startRepair(d, { org, app: app.app, generation, kind: 'app.deploy', revision })) started++;
  }
  return started;
}

/** Starts operations that bring drifted apps and clusters back to their desired state; answers how many. */
export async function checkDrift(d: DriftCheck): Promise<number> {
  return (await repairClusters(d)) + (await repairApps(d));
}
