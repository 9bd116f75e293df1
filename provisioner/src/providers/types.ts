/**
 * The contract between the reconciler and a provider (`aks`, `local`). The reconciler owns desired
 * state and operation records; a provider only makes one org's cluster or one app real and reports
 * what it sees. Every call is idempotent and returns quickly: work that takes longer is reported as
 * `pending` with provider state the reconciler stores and hands back on the next call (also after a
 * restart), so a provider never keeps a long operation in memory only.
 */

/** JSON a provider may keep between steps of one operation (stored in the operation record). */
export type ProviderState = { [key: string]: unknown };

/** An org's cluster as the operator asked for it. */
export interface ClusterSpec {
  /** Azure region, e.g. `norwayeast`. */
  region: string;
  /** Kubernetes `major.minor` or `major.minor.patch`. */
  kubernetesVersion: string;
  /** Nodes in the system/user node pool (autoscaler minimum when `maxNodes` is set). */
  nodeCount: number;
  /** Upper bound for the cluster autoscaler; absent means a fixed pool. */
  maxNodes?: number;
  /** VM size of the node pool, e.g. `Standard_D4s_v5`. */
  vmSize: string;
}

/** CPU and memory in Kubernetes quantities (`250m`, `512Mi`). */
export interface ResourceList {
  cpu: string;
  memory: string;
}

/** One immutable release of an app: what runs, and how it is configured. */
export interface AppRelease {
  /** 1, 2, 3 ... per app; the Deployment's `release` label and revision annotation. */
  revision: number;
  /** Container image (`registry/org/app:tag`); the local provider reads its runtime from it. */
  image: string;
  /** The app's own version label (Altinn's kuberneteswrapper reports `version`). */
  version: string;
  /** Container port the app listens on and `/health` is probed at (Altinn's chart: 5005). */
  port: number;
  env: Record<string, string>;
  /** App configuration, handed to the container (a ConfigMap for aks, env JSON for local). */
  config: Record<string, unknown>;
  resources: { requests: ResourceList; limits: ResourceList };
}

/** Replica bounds and the current target between them. */
export interface AppScale {
  minReplicas: number;
  maxReplicas: number;
  /** Replicas to run now (min <= replicas <= max). */
  replicas: number;
}

/** What the reconciler wants an app to be. */
export interface AppDesired {
  release: AppRelease;
  scale: AppScale;
  /**
   * True when this release is an undo to an earlier one: aks restores the pod template of the
   * ReplicaSet that ran `release.revision` (as `kubectl rollout undo` does) instead of a new one.
   */
  rollback: boolean;
  /** How long the rollout may take before it fails (Kubernetes' progressDeadlineSeconds); the provider's default when absent. */
  progressDeadlineMs?: number;
}

/** Something that happened to an app's workload, as the provider saw it (a Kubernetes Event, a process start or exit). */
export interface ProviderEvent {
  /** What tells it apart from others at the same time (a Kubernetes Event's uid), when the provider has one. */
  id?: string;
  at: string;
  /** `Normal` or `Warning`, as Kubernetes Events. */
  type: 'Normal' | 'Warning';
  /** CamelCase cause, e.g. `Started`, `BackOff`, `Unhealthy`, `ScalingReplicaSet`. */
  reason: string;
  message: string;
  /** The replica (pod) it concerns, if one. */
  replica?: string | null;
  revision?: number | null;
}

/** The last output lines of one replica. */
export interface ReplicaLogs {
  replica: string;
  revision: number;
  lines: { at: string; stream: 'stdout' | 'stderr'; line: string }[];
}

/** A step of a long operation that is not finished: call again after `retryAfterMs` with `state`. */
export interface Pending {
  kind: 'pending';
  state: ProviderState;
  retryAfterMs: number;
  /** What is happening, for the operation's condition message. */
  message: string;
}

/** A finished step, with what the provider learnt. */
export interface Done<T> {
  kind: 'done';
  state: ProviderState;
  result: T;
}

export type Step<T> = Pending | Done<T>;

/** A cluster that exists and takes traffic. */
export interface ClusterReady {
  /** Base URL of the cluster's ingress; the edge's route for the org points here. */
  ingressUrl: string;
}

/** A rollout as the provider sees it, judged by Kubernetes' rules (REFERENCE.md). */
export interface RolloutStatus {
  /** The release revision the workload's template carries now (null when none is applied). */
  revision: number | null;
  /** Desired replicas. */
  replicas: number;
  /** Replicas running the current template. */
  updatedReplicas: number;
  /** Ready replicas of any template. */
  readyReplicas: number;
  /** Available replicas (ready for minReadySeconds) of any template. */
  availableReplicas: number;
  /** Replicas of older templates still running. */
  oldReplicas: number;
  /** True when the rollout of `revision` is complete. */
  complete: boolean;
  /** Set when the rollout has failed for good, e.g. `ProgressDeadlineExceeded`. */
  failure?: { reason: string; message: string };
  /** Replicas and ready replicas per release revision running now (optional: providers that can tell). */
  releases?: ReleaseReplicas[];
}

/** How many replicas of one release run, and how many of them are ready. */
export interface ReleaseReplicas {
  revision: number;
  replicas: number;
  readyReplicas: number;
}

/** The rollout of an app that has no workload (yet, or any more). */
export function noRollout(): RolloutStatus {
  return {
    revision: null,
    replicas: 0,
    updatedReplicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    oldReplicas: 0,
    complete: false,
  };
}

/**
 * Raised by a provider. `retryable` errors (429, 5xx, timeouts, a conflicting operation in
 * progress that will end) are retried by the reconciler after `retryAfterMs` or its own backoff;
 * the others end the operation as Failed with `code` as the condition's reason (e.g.
 * `QuotaExceeded`, `OperationNotAllowed`, `InvalidParameter`).
 */
export class ProviderError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A place clusters and apps can be made real. */
export interface Provider {
  /** `aks` or `local`. */
  readonly name: string;
  /**
   * Creates or updates the org's cluster. On the first call of an operation `state` is undefined, or
   * `{ ingressUrl }` when the cluster had an ingress before (a provider may listen there again).
   */
  ensureCluster(org: string, spec: ClusterSpec, state: ProviderState | undefined): Promise<Step<ClusterReady>>;
  /**
   * Whether the org's cluster still exists as last made (optional): the reconciler re-creates one
   * that is gone, e.g. local ingresses after a restart of the host.
   */
  observeCluster?(org: string): Promise<boolean>;
  /** Deletes the org's cluster and everything in it; done when it is gone (absent is done). */
  deleteCluster(org: string, state: ProviderState | undefined): Promise<Step<null>>;
  /** Applies an app's release and scale (Namespace, Deployment, Service, ...); returns at once. */
  applyApp(org: string, app: string, desired: AppDesired): Promise<void>;
  /** Changes only the replica bounds and target of an app, keeping its release. */
  scaleApp(org: string, app: string, scale: AppScale): Promise<void>;
  /** The app's rollout as it stands now. */
  rolloutStatus(org: string, app: string): Promise<RolloutStatus>;
  /** Removes the app; done when nothing of it is left (absent is done). */
  deleteApp(org: string, app: string, state: ProviderState | undefined): Promise<Step<null>>;
  /** Events of the app's workload, oldest first (optional: providers that can see them). */
  appEvents?(org: string, app: string): Promise<ProviderEvent[]>;
  /** The last output lines of the app's replicas (optional). */
  appLogs?(org: string, app: string): Promise<ReplicaLogs[]>;
  /** Stops background work (local processes, watches); the provider is unusable afterwards. */
  close(): Promise<void>;
}
