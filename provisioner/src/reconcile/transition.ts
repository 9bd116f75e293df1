import type { Database } from '../../../platform/src/db/index.js';
import type { AppScale, Provider, ProviderState, ReplicaLogs } from '../providers/types.js';
import type { OperationEvent } from '../state/types.js';
import type { EdgeRoutes } from './edge-routes.js';
import type { Phase } from './phases.js';

/**
 * Whether running `replicas` matches the app's scale: exactly its target when the bounds are equal,
 * else anywhere within them, since an autoscaler (the HPA on aks) moves the count between the bounds.
 */
export function replicasFit(replicas: number, scale: AppScale): boolean {
  if (scale.minReplicas === scale.maxReplicas) return replicas === scale.replicas;
  return replicas >= scale.minReplicas && replicas <= scale.maxReplicas;
}

/** A timeline entry a step reports. */
export type NewEvent = Omit<OperationEvent, 'operationId' | 'seq'>;

/** What a step may add to any transition: provider events to record, failing replicas' log lines. */
interface Extras {
  events?: NewEvent[];
  logs?: ReplicaLogs[];
}

/** What one step of an operation decided: wait for (or go on to) a phase, succeed, or fail. */
export type Transition =
  | (Extras & {
      next: 'wait';
      /** Phase to run next (the same one to poll again). */
      phase: Phase;
      /** How long until the next step; 0 runs it at once. */
      delayMs: number;
      reason: string;
      message: string;
      /** Provider state to keep; `undefined` keeps what is stored, `null` clears it. */
      providerState?: ProviderState | null;
      /** Record the step as a Warning (a failure being handled, e.g. an automatic rollback). */
      warning?: boolean;
    })
  | (Extras & { next: 'done'; reason: string; message: string })
  | (Extras & { next: 'fail'; code: string; message: string; rolledBackTo?: number });

/** What steps need. */
export interface StepContext {
  db: Database;
  provider: Provider;
  edge: EdgeRoutes;
  now: () => Date;
  /** How often a rollout is polled. */
  pollMs: number;
  /** How long a rollout may take before it fails with `ProgressDeadlineExceeded`. */
  progressDeadlineMs: number;
}

/** Goes on to `phase` at once, clearing the provider state. */
export const go = (phase: Phase, reason: string, message: string): Extract<Transition, { next: 'wait' }> => ({
  next: 'wait',
  phase,
  delayMs: 0,
  reason,
  message,
  providerState: null,
});
