import type { RolloutStatus } from '../providers/types.js';
import type { AppRecord, ClusterRecord, OperationEvent, OperationRecord, ReleaseRecord } from '../state/types.js';

/** Public path prefix of the provisioner. */
export const PROVISIONER_PREFIX = '/provisioner/api/v1';

/** Path of an operation's status. */
export const operationPath = (id: string): string => `${PROVISIONER_PREFIX}/operations/${id}`;

/** How an operation is shown: ARM's status names, Kubernetes-style conditions, its error when it failed. */
export function operationView(op: OperationRecord) {
  return {
    id: op.id,
    kind: op.kind,
    target: { org: op.org, ...(op.app === null ? {} : { app: op.app }) },
    status: op.status,
    phase: op.phase,
    observedGeneration: op.generation,
    ...(op.input.revision === undefined ? {} : { revision: op.input.revision }),
    ...(op.input.force ? { force: true } : {}),
    ...(op.input.cause ? { cause: op.input.cause } : {}),
    conditions: op.conditions,
    error: op.error,
    attempts: op.attempts,
    createdBy: op.createdBy,
    createdAt: op.createdAt,
    startedAt: op.startedAt,
    updatedAt: op.updatedAt,
    completedAt: op.completedAt,
    ...(op.status === 'NotStarted' || op.status === 'Running' ? { nextAttemptAt: op.nextAttemptAt } : {}),
    href: operationPath(op.id),
  };
}

/** How a cluster is shown: spec as asked, status as observed. */
export function clusterView(cluster: ClusterRecord, operation?: OperationRecord | null) {
  return {
    org: cluster.org,
    generation: cluster.generation,
    spec: cluster.spec,
    status: {
      phase: cluster.phase,
      observedGeneration: cluster.observedGeneration,
      ingressUrl: cluster.ingressUrl,
      conditions: cluster.conditions,
    },
    createdAt: cluster.createdAt,
    updatedAt: cluster.updatedAt,
    ...(operation
      ? { operation: { id: operation.id, status: operation.status, href: operationPath(operation.id) } }
      : {}),
  };
}

/** One release's replicas as the provider sees them; a count is null when the provider cannot tell it. */
export interface ReleaseHealth {
  revision: number;
  replicas: number | null;
  readyReplicas: number | null;
}

/**
 * How many replicas of `revision` run and are ready: from the provider's per-release counts, else from
 * the rollout's totals where they tell (with no old replica left, every replica is of the current release).
 */
export function releaseHealth(revision: number, rollout: RolloutStatus): ReleaseHealth {
  if (rollout.releases) {
    const counts = rollout.releases.find((r) => r.revision === revision);
    return { revision, replicas: counts?.replicas ?? 0, readyReplicas: counts?.readyReplicas ?? 0 };
  }
  const onlyCurrent = rollout.oldReplicas === 0;
  if (rollout.revision === revision) {
    return { revision, replicas: rollout.updatedReplicas, readyReplicas: onlyCurrent ? rollout.readyReplicas : null };
  }
  return onlyCurrent ? { revision, replicas: 0, readyReplicas: 0 } : { revision, replicas: null, readyReplicas: null };
}

/**
 * How an app is shown: the desired release and scale, which release serves now, the live rollout and
 * the health (replicas, ready replicas) of the serving and the desired release.
 */
export function appView(
  app: AppRecord,
  release: ReleaseRecord | null,
  operation?: OperationRecord | null,
  rollout?: RolloutStatus | null,
) {
  return {
    org: app.org,
    app: app.app,
    generation: app.generation,
    spec: {
      revision: app.desiredRevision,
      ...(release ? release.spec : {}),
      minReplicas: app.scale.minReplicas,
      maxReplicas: app.scale.maxReplicas,
      replicas: app.scale.replicas,
      autoRollback: app.autoRollback,
      autoscaling: app.autoscaling,
      ...(app.progressDeadlineSeconds === null ? {} : { progressDeadlineSeconds: app.progressDeadlineSeconds }),
    },
    status: {
      phase: app.phase,
      observedGeneration: app.observedGeneration,
      desiredRevision: app.desiredRevision,
      servingRevision: app.servingRevision,
      conditions: app.conditions,
      ...(rollout
        ? {
            rollout,
            health: {
              serving: app.servingRevision === null ? null : releaseHealth(app.servingRevision, rollout),
              desired: releaseHealth(app.desiredRevision, rollout),
            },
          }
        : {}),
    },
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
    ...(operation
      ? { operation: { id: operation.id, status: operation.status, href: operationPath(operation.id) } }
      : {}),
  };
}

/** How a release is shown in an app's history. */
export function releaseView(release: ReleaseRecord, app: AppRecord) {
  return {
    revision: release.revision,
    ...release.spec,
    createdAt: release.createdAt,
    createdBy: release.createdBy,
    desired: release.revision === app.desiredRevision,
    serving: release.revision === app.servingRevision,
  };
}

/** How a timeline entry is shown. */
export function eventView(event: OperationEvent) {
  return {
    at: event.at,
    operationId: event.operationId,
    source: event.source,
    type: event.type,
    reason: event.reason,
    message: event.message,
    ...(event.replica === null ? {} : { replica: event.replica }),
    ...(event.revision === null ? {} : { revision: event.revision }),
  };
}
