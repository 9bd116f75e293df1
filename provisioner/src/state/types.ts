import type { AppRelease, AppScale, ClusterSpec, ProviderState, ReplicaLogs } from '../providers/types.js';

/** A Kubernetes-style status condition (`metav1.Condition`). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

/** ARM's long-running operation states. */
export type OperationStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

/** What an operation does. */
export type OperationKind =
  | 'cluster.apply'
  | 'cluster.delete'
  | 'app.deploy'
  | 'app.rollback'
  | 'app.scale'
  | 'app.delete';

/** Statuses of an operation that has not ended. */
export const ACTIVE_STATUSES: readonly OperationStatus[] = ['NotStarted', 'Running'];

/** A cluster's lifecycle phase. */
export type ClusterPhase = 'Provisioning' | 'Ready' | 'Failed' | 'Deleting';

/** An app's lifecycle phase. */
export type AppPhase = 'Deploying' | 'Ready' | 'Failed' | 'Deleting';

/** The settings of an app that change how it is rolled out and scaled, not what it runs. */
export type AppSettings = Pick<AppRecord, 'autoRollback' | 'progressDeadlineSeconds' | 'autoscaling'>;

/** An org's cluster, as stored. */
export interface ClusterRecord {
  org: string;
  spec: ClusterSpec;
  generation: number;
  observedGeneration: number;
  phase: ClusterPhase;
  ingressUrl: string | null;
  conditions: Condition[];
  createdAt: string;
  updatedAt: string;
}

/** An app, as stored. */
export interface AppRecord {
  org: string;
  app: string;
  generation: number;
  observedGeneration: number;
  desiredRevision: number;
  servingRevision: number | null;
  scale: AppScale;
  /** Roll back to the serving release when a rollout fails (default true). */
  autoRollback: boolean;
  /** The app's own rollout deadline; the provisioner's default when null. */
  progressDeadlineSeconds: number | null;
  /** Usage-based autoscaling between the replica bounds. */
  autoscaling: AutoscalingSpec;
  phase: AppPhase;
  conditions: Condition[];
  createdAt: string;
  updatedAt: string;
}

/** What a release fixes: everything of AppRelease but its revision number. */
export type ReleaseSpec = Omit<AppRelease, 'revision'>;

/** One immutable release of an app. */
export interface ReleaseRecord {
  revision: number;
  spec: ReleaseSpec;
  createdAt: string;
  createdBy: string;
}

/** What an operation was asked to do, beside its kind and target. */
export interface OperationInput {
  /** Release to roll out (deploy, rollback). */
  revision?: number;
  /** Delete a cluster with its apps. */
  force?: boolean;
  /** Why the reconciler started it on its own (e.g. `Drift`), when no caller did. */
  cause?: string;
}

/** A long-running operation. */
export interface OperationRecord {
  id: string;
  kind: OperationKind;
  org: string;
  app: string | null;
  generation: number;
  status: OperationStatus;
  /** Where the state machine stands, e.g. `apply`, `rollout`, `route`. */
  phase: string;
  input: OperationInput;
  providerState: ProviderState | null;
  conditions: Condition[];
  error: { code: string; message: string; rolledBackTo?: number } | null;
  /** The last output lines of the replicas that made the rollout fail. */
  logs: ReplicaLogs[] | null;
  attempts: number;
  nextAttemptAt: string;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  completedAt: string | null;
}

/**
 * Sets condition `next.type` in `conditions`, keeping `lastTransitionTime` when the status did not
 * change, as Kubernetes' `meta.SetStatusCondition` does.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
}

/** One entry of an operation's timeline. */
export interface OperationEvent {
  operationId: string;
  seq: number;
  at: string;
  /** `reconciler` (what the provisioner did) or `provider` (what the cluster or processes did). */
  source: 'reconciler' | 'provider';
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  replica: string | null;
  revision: number | null;
}

/** An app's autoscaling settings (`autoscaling` of `PUT .../apps/{app}`). */
export interface AutoscalingSpec {
  /** Scale from usage at all; off keeps the replica count that was asked for. */
  enabled: boolean;
  /** Target requests per second per replica, as seen by the edge; null: not a signal. */
  requestsPerSecond: number | null;
  /** Target in-flight requests per replica, as seen by the edge; null: not a signal. */
  inFlight: number | null;
  /** How long a higher recommendation must hold before replicas are added (HPA: 0). */
  scaleUpStabilizationSeconds: number;
  /** How long replicas are kept after usage fell (HPA: 300). */
  scaleDownStabilizationSeconds: number;
}

/** What an app gets when it says nothing: on, HPA's stabilisation windows, targets a replica of the reference runtime handles easily. */
export const DEFAULT_AUTOSCALING: AutoscalingSpec = {
  enabled: true,
  requestsPerSecond: 50,
  inFlight: 10,
  scaleUpStabilizationSeconds: 0,
  scaleDownStabilizationSeconds: 300,
};
