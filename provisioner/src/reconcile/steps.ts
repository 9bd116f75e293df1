import { provisionerRepository } from '../state/repository.js';
import type { OperationRecord } from '../state/types.js';
import {
  type AppDeletePhase,
  type ClusterApplyPhase,
  type ClusterDeletePhase,
  type OperationOf,
  typedOperation,
} from './phases.js';
import { rolloutStep } from './rollout.js';
import { go, type StepContext, type Transition } from './transition.js';

export { type NewEvent, replicasFit, type StepContext, type Transition } from './transition.js';

/** The step of each phase of an operation kind. */
type Steps<K extends OperationOf<'cluster.apply' | 'cluster.delete' | 'app.delete'>['kind'], P extends string> = {
  [phase in P]: (op: OperationOf<K>, ctx: StepContext) => Promise<Transition>;
};

/** Runs the step of `op` its phase names. Provider errors propagate to the reconciler's retry rules. */
export async function runStep(op: OperationRecord, ctx: StepContext): Promise<Transition> {
  const typed = typedOperation(op);
  if (typed === null) return { next: 'fail', code: 'NotFound', message: `Operation ${op.kind} names no app.` };
  switch (typed.kind) {
    case 'cluster.apply':
      return clusterApplySteps[typed.phase](typed, ctx);
    case 'cluster.delete':
      return clusterDeleteSteps[typed.phase](typed, ctx);
    case 'app.delete':
      return appDeleteSteps[typed.phase](typed, ctx);
    default:
      return rolloutStep(typed, ctx);
  }
}

/** Makes (or checks) the cluster; then registers its ingress at the edge. */
async function provisionCluster(t: OperationOf<'cluster.apply'>, ctx: StepContext): Promise<Transition> {
  const { org } = t.op;
  const repo = provisionerRepository(ctx.db);
  const cluster = await repo.getCluster(org);
  if (!cluster) return { next: 'fail', code: 'NotFound', message: `The cluster of ${org} no longer exists.` };
  // A cluster made again (drift after a restart) starts from the ingress it had, so a provider that can
  // (local) listens where the edge's route already points.
  const state = t.state ?? (cluster.ingressUrl ? { ingressUrl: cluster.ingressUrl } : undefined);
  const step = await ctx.provider.ensureCluster(org, cluster.spec, state);
  if (step.kind === 'pending') {
    return {
      next: 'wait',
      phase: 'provision',
      delayMs: step.retryAfterMs,
      reason: 'Provisioning',
      message: step.message,
      providerState: step.state,
    };
  }
  await repo.setClusterStatus(
    org,
    { phase: cluster.phase, conditions: cluster.conditions, ingressUrl: step.result.ingressUrl },
    ctx.now(),
  );
  return go(
    'route',
    'RegisteringRoute',
    `Cluster ready at ${step.result.ingressUrl}; registering its route at the edge`,
  );
}

/** Routes the org to its cluster's ingress at the edge, with the apps that served before. */
async function routeOrg(t: OperationOf<'cluster.apply'>, ctx: StepContext): Promise<Transition> {
  const { org } = t.op;
  const repo = provisionerRepository(ctx.db);
  const cluster = await repo.getCluster(org);
  if (!cluster) return { next: 'fail', code: 'NotFound', message: `The cluster of ${org} no longer exists.` };
  if (!cluster.ingressUrl) return go('provision', 'Provisioning', 'The cluster has no ingress yet');
  await ctx.edge.putOrg(org, cluster.ingressUrl);
  // Apps that served before (e.g. a cluster re-made after a restart) keep their listing.
  for (const app of await repo.listApps(org)) {
    if (app.servingRevision !== null && app.phase !== 'Deleting') await ctx.edge.putApp(org, app.app);
  }
  return {
    next: 'done',
    reason: 'ClusterReady',
    message: `Cluster ready; the edge routes ${org} to ${cluster.ingressUrl}`,
  };
}

const clusterApplySteps: Steps<'cluster.apply', ClusterApplyPhase> = {
  start: provisionCluster,
  provision: provisionCluster,
  route: routeOrg,
};

/** Removes the cluster's apps one by one (edge listing, workload, record). */
async function deleteApps(t: OperationOf<'cluster.delete'>, ctx: StepContext): Promise<Transition> {
  const { org } = t.op;
  const repo = provisionerRepository(ctx.db);
  for (const app of await repo.listApps(org)) {
    await ctx.edge.deleteApp(org, app.app);
    const step = await ctx.provider.deleteApp(org, app.app, undefined);
    if (step.kind === 'pending') {
      return {
        next: 'wait',
        phase: 'apps',
        delayMs: step.retryAfterMs,
        reason: 'DeletingApps',
        message: `Removing ${org}/${app.app}: ${step.message}`,
      };
    }
    await repo.deleteApp(org, app.app);
  }
  return go('routes', 'RemovingRoute', 'Removing the org from the edge');
}

/** Removes the org's route at the edge. */
async function deleteOrgRoute(t: OperationOf<'cluster.delete'>, ctx: StepContext): Promise<Transition> {
  await ctx.edge.deleteOrg(t.op.org);
  return go('provider', 'DeletingCluster', 'Deleting the cluster');
}

/** Deletes the cluster at the provider, then its record. */
async function deleteCluster(t: OperationOf<'cluster.delete'>, ctx: StepContext): Promise<Transition> {
  const { org } = t.op;
  const step = await ctx.provider.deleteCluster(org, t.state ?? undefined);
  if (step.kind === 'pending') {
    return {
      next: 'wait',
      phase: 'provider',
      delayMs: step.retryAfterMs,
      reason: 'DeletingCluster',
      message: step.message,
      providerState: step.state,
    };
  }
  await provisionerRepository(ctx.db).deleteCluster(org);
  return { next: 'done', reason: 'Deleted', message: `The cluster of ${org} is deleted` };
}

const clusterDeleteSteps: Steps<'cluster.delete', ClusterDeletePhase> = {
  start: deleteApps,
  apps: deleteApps,
  routes: deleteOrgRoute,
  provider: deleteCluster,
};

/** Stops the edge's traffic to the app first, so no request reaches a replica that is going away. */
async function unlistApp(t: OperationOf<'app.delete'>, ctx: StepContext): Promise<Transition> {
  await ctx.edge.deleteApp(t.op.org, t.app);
  return go('provider', 'DeletingWorkload', `Removing the workload of ${t.op.org}/${t.app}`);
}

/** Deletes the app's workload at the provider, then its record. */
async function deleteWorkload(t: OperationOf<'app.delete'>, ctx: StepContext): Promise<Transition> {
  const { org } = t.op;
  const step = await ctx.provider.deleteApp(org, t.app, t.state ?? undefined);
  if (step.kind === 'pending') {
    return {
      next: 'wait',
      phase: 'provider',
      delayMs: step.retryAfterMs,
      reason: 'DeletingWorkload',
      message: step.message,
      providerState: step.state,
    };
  }
  await provisionerRepository(ctx.db).deleteApp(org, t.app);
  return { next: 'done', reason: 'Deleted', message: `App ${org}/${t.app} is deleted` };
}

const appDeleteSteps: Steps<'app.delete', AppDeletePhase> = {
  start: unlistApp,
  provider: deleteWorkload,
};
