import type { ProviderState } from '../providers/types.js';
import type { OperationRecord } from '../state/types.js';

/** Phases of `cluster.apply`: make the cluster, then route the org to its ingress at the edge. */
export const CLUSTER_APPLY_PHASES = ['start', 'provision', 'route'] as const;
/** Phases of `cluster.delete`: remove its apps, the org's edge route, then the cluster. */
export const CLUSTER_DELETE_PHASES = ['start', 'apps', 'routes', 'provider'] as const;
/** Phases of a rollout (`app.deploy`, `app.rollback`, `app.scale`), with the automatic rollback's. */
export const ROLLOUT_PHASES = ['start', 'apply', 'rollout', 'rollback', 'rollback-wait', 'route'] as const;
/** Phases of `app.delete`: stop the edge's traffic, then remove the workload. */
export const APP_DELETE_PHASES = ['start', 'provider'] as const;

export type ClusterApplyPhase = (typeof CLUSTER_APPLY_PHASES)[number];
export type ClusterDeletePhase = (typeof CLUSTER_DELETE_PHASES)[number];
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];
export type AppDeletePhase = (typeof APP_DELETE_PHASES)[number];

/** Every phase an operation may wait in; `done` is where a succeeded operation ends. */
export type Phase = ClusterApplyPhase | ClusterDeletePhase | RolloutPhase | AppDeletePhase | 'done';

/** Why a rollout is being rolled back: the failure of the release that did not become ready. */
export interface RolloutFailure {
  code: string;
  message: string;
}

/**
 * The reconciler's own bookkeeping of a rollout, kept in the operation's provider state: when the
 * workload was (re)applied, the provider-event cursor, how often a vanished workload was made again,
 * and, once rolling back, the failure and the release to go back to.
 */
export type RolloutState = {
  rolloutStartedAt?: string;
  eventsAfter?: string;
  eventsSeen?: string[];
  recreated?: number;
  failure?: RolloutFailure;
  rollbackTo?: number;
};

/** Kinds of operation that roll an app out. */
export type RolloutKind = 'app.deploy' | 'app.rollback' | 'app.scale';

/** An operation with its phase and state typed by its kind. */
export type TypedOperation =
  | { kind: 'cluster.apply'; phase: ClusterApplyPhase; state: ProviderState | null; op: OperationRecord }
  | { kind: 'cluster.delete'; phase: ClusterDeletePhase; state: ProviderState | null; op: OperationRecord }
  | { kind: RolloutKind; phase: RolloutPhase; app: string; state: RolloutState; op: OperationRecord }
  | { kind: 'app.delete'; phase: AppDeletePhase; app: string; state: ProviderState | null; op: OperationRecord };

/** An operation of kind `K`, typed. */
export type OperationOf<K extends TypedOperation['kind']> = Extract<TypedOperation, { kind: K }>;

/**
 * `phase` as one of `phases`, else `fallback`: the phase a stored operation of an unknown phase
 * has always been stepped in (its kind's last one).
 */
function phaseIn<P extends string>(phases: readonly P[], phase: string, fallback: P): P {
  return phases.find((p) => p === phase) ?? fallback;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** A number stored as a number or a numeric string (as `Number()` read it). */
const count = (v: unknown): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
};

/** The rollout failure kept in provider state, when it has a code and message. */
function failureOf(v: unknown): RolloutFailure | undefined {
  if (typeof v !== 'object' || v === null || !('code' in v) || !('message' in v)) return undefined;
  return { code: String(v.code), message: String(v.message) };
}

/** Reads the rollout's bookkeeping out of stored provider state, dropping what is not of its type. */
export function rolloutStateOf(stored: ProviderState | null): RolloutState {
  const state: RolloutState = {};
  if (stored === null) return state;
  const { rolloutStartedAt, eventsAfter, eventsSeen, recreated, failure, rollbackTo } = stored;
  if (text(rolloutStartedAt) !== undefined) state.rolloutStartedAt = text(rolloutStartedAt);
  if (eventsAfter !== undefined && eventsAfter !== null) state.eventsAfter = String(eventsAfter);
  if (Array.isArray(eventsSeen)) state.eventsSeen = eventsSeen.map(String);
  if (count(recreated) !== undefined) state.recreated = count(recreated);
  if (failureOf(failure) !== undefined) state.failure = failureOf(failure);
  if (count(rollbackTo) !== undefined) state.rollbackTo = count(rollbackTo);
  return state;
}

/** Types a stored operation by its kind; null for an app operation without an app (it cannot be stepped). */
export function typedOperation(op: OperationRecord): TypedOperation | null {
  const state = op.providerState;
  switch (op.kind) {
    case 'cluster.apply':
      return { kind: op.kind, phase: phaseIn(CLUSTER_APPLY_PHASES, op.phase, 'provision'), state, op };
    case 'cluster.delete':
      return { kind: op.kind, phase: phaseIn(CLUSTER_DELETE_PHASES, op.phase, 'provider'), state, op };
    case 'app.deploy':
    case 'app.rollback':
    case 'app.scale':
      if (op.app === null) return null;
      return {
        kind: op.kind,
        phase: phaseIn(ROLLOUT_PHASES, op.phase, 'route'),
        app: op.app,
        state: rolloutStateOf(state),
        op,
      };
    case 'app.delete':
      if (op.app === null) return null;
      return { kind: op.kind, phase: phaseIn(APP_DELETE_PHASES, op.phase, 'provider'), app: op.app, state, op };
  }
}
