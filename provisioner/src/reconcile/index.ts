import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { startOperation } from '../commands/index.js';
import { type Provider, ProviderError } from '../providers/types.js';
import { type ProvisionerRepository, provisionerRepository } from '../state/repository.js';
import { type Condition, type OperationRecord, setCondition } from '../state/types.js';
import type { EdgeRoutes } from './edge-routes.js';
import { type NewEvent, replicasFit, runStep, type StepContext, type Transition } from './steps.js';

/** Settings of the reconciler. */
export interface ReconcilerOptions {
  db: Database;
  provider: Provider;
  edge: EdgeRoutes;
  logger: Logger;
  now?: () => Date;
  /** How often a rollout or a waiting step is polled (ms). */
  pollMs?: number;
  /** A rollout's deadline (ms), as a Deployment's progressDeadlineSeconds (600 s by default). */
  progressDeadlineMs?: number;
  /** How long a claimed operation is held before another reconciler may take it (ms). */
  leaseMs?: number;
  /** Operations stepped together in one pass. */
  batchSize?: number;
  /** Retries of a transient error before the operation fails. */
  maxAttempts?: number;
  /** First retry delay; doubled per attempt up to `backoffMaxMs`. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Steps of one operation run back to back in a pass when they need no waiting. */
  maxStepsPerPass?: number;
}

/** Drives operations from desired state to actual state; one pass at a time or as a loop. */
export interface Reconciler {
  /** Steps every due operation once (and its immediate follow-up steps); answers how many it stepped. */
  pass(): Promise<number>;
  /** Starts operations that bring drifted apps and clusters back to their desired state; answers how many. */
  checkDrift(): Promise<number>;
  /** Runs passes until stopped: every `intervalMs`, at once after `wake()`, drift every `driftIntervalMs`. */
  start(options?: { intervalMs?: number; driftIntervalMs?: number }): void;
  /** Runs the next pass now. */
  wake(): void;
  /** Ends the loop after the current pass. */
  stop(): Promise<void>;
  /** Lets go of every lease (a single local reconciler after a restart takes its work back at once). */
  releaseLeases(): Promise<void>;
}

/** The delay before retry `attempt` (1, 2, ...): exponential, capped, with up to 20 % jitter. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (1 - 0.2 * random()));
}

/** How long one step may take before it counts as a transient failure (a hung provider or cluster call). */
const STEP_TIMEOUT_MS = 120_000;

/** A timeline entry of the reconciler's own. */
function timeline(at: Date, type: 'Normal' | 'Warning', reason: string, message: string): NewEvent {
  return { at: at.toISOString(), source: 'reconciler', type, reason, message, replica: null, revision: null };
}

/** Fails a step that has not answered in STEP_TIMEOUT_MS with a retryable error, so one hung call stalls nothing else. */
async function withStepTimeout<T>(work: Promise<T>, op: OperationRecord): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ProviderError(
            'StepTimeout',
            `step ${op.phase} of ${op.kind} took over ${STEP_TIMEOUT_MS / 1000} s`,
            true,
          ),
        ),
      STEP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates a reconciler over the provisioner's state. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const now = options.now ?? (() => new Date());
  const repo = provisionerRepository(options.db);
  const leaseMs = options.leaseMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? 12;
  const backoffBase = options.backoffBaseMs ?? 1_000;
  const backoffMax = options.backoffMaxMs ?? 60_000;
  const maxSteps = options.maxStepsPerPass ?? 8;
  const ctx: StepContext = {
    db: options.db,
    provider: options.provider,
    edge: options.edge,
    now,
    pollMs: options.pollMs ?? 2_000,
    progressDeadlineMs: options.progressDeadlineMs ?? 600_000,
  };
  const log = options.logger.child({ component: 'reconciler' });

  /** Writes the end of an operation to its target: status, conditions, serving release. */
  async function finishTarget(
    repo: ProvisionerRepository,
    op: OperationRecord,
    outcome: Exclude<Transition, { next: 'wait' }>,
    at: Date,
  ) {
    const ok = outcome.next === 'done';
    const reason = ok ? outcome.reason : outcome.code;
    const ready = (conditions: Condition[]) =>
      setCondition(
        conditions,
        {
          type: 'Ready',
          status: ok ? 'True' : 'False',
          reason,
          message: outcome.message,
          observedGeneration: op.generation,
        },
        at,
      );
    if (op.app === null) {
      const cluster = await repo.getCluster(op.org);
      if (!cluster) return;
      await repo.setClusterStatus(
        op.org,
        {
          phase: ok ? 'Ready' : 'Failed',
          conditions: ready(cluster.conditions),
          ...(ok ? { observedGeneration: op.generation } : {}),
        },
        at,
      );
      return;
    }
    const app = await repo.getApp(op.org, op.app);
    if (!app) return;
    const rolledBackTo = outcome.next === 'fail' ? outcome.rolledBackTo : undefined;
    let conditions = ready(app.conditions);
    if (ok || rolledBackTo !== undefined) {
      const serving = ok ? (op.input.revision ?? app.desiredRevision) : (rolledBackTo as number);
      conditions = setCondition(
        conditions,
        {
          type: 'Available',
          status: 'True',
          reason: ok ? 'RolloutComplete' : 'RolledBack',
          message: `Release ${serving} serves traffic`,
          observedGeneration: op.generation,
        },
        at,
      );
    }
    if (rolledBackTo !== undefined && outcome.next === 'fail') {
      // The failed release is recorded (operation, Progressing condition); the app runs the good one again,
      // so it is Ready with that as its desired release, and neither drift repair nor a later scale
      // brings the failed release back.
      conditions = setCondition(
        setCondition(
          conditions,
          {
            type: 'Ready',
            status: 'True',
            reason: 'RolledBack',
            message: `Release ${op.input.revision} failed (${outcome.code}); release ${rolledBackTo} serves again`,
            observedGeneration: op.generation,
          },
          at,
        ),
        {
          type: 'Progressing',
          status: 'False',
          reason: outcome.code,
          message: outcome.message,
          observedGeneration: op.generation,
        },
        at,
      );
      await repo.setAppStatus(
        op.org,
        op.app,
        {
          phase: 'Ready',
          conditions,
          servingRevision: rolledBackTo,
          desiredRevision: rolledBackTo,
          observedGeneration: op.generation,
        },
        at,
      );
      return;
    }
    await repo.setAppStatus(
      op.org,
      op.app,
      {
        phase: ok ? 'Ready' : 'Failed',
        conditions,
        ...(ok ? { observedGeneration: op.generation, servingRevision: op.input.revision ?? app.desiredRevision } : {}),
      },
      at,
    );
  }

  function progressing(op: OperationRecord, status: Condition['status'], reason: string, message: string, at: Date) {
    return setCondition(
      op.conditions,
      { type: 'Progressing', status, reason, message, observedGeneration: op.generation },
      at,
    );
  }

  /** Runs one operation's due steps and stores where it got to. */
  async function advance(claimed: OperationRecord): Promise<void> {
    let op = claimed;
    const startedAt = op.startedAt ?? now().toISOString();
    for (let steps = 0; steps < maxSteps; steps++) {
      let transition: Transition;
      try {
        transition = await withStepTimeout(runStep({ ...op, startedAt }, ctx), op);
      } catch (error) {
        await retryOrFail(op, startedAt, error);
        return;
      }
      const at = now();
      const lastReason = op.conditions.find((c) => c.type === 'Progressing')?.reason;
      if (transition.next === 'wait') {
        const providerState = transition.providerState === undefined ? op.providerState : transition.providerState;
        // The timeline gets what the provider saw, and a line whenever the reconciler's step changes.
        const changed = transition.phase !== op.phase || transition.reason !== lastReason;
        await repo.appendEvents(op.id, [
          ...(transition.events ?? []),
          ...(changed
            ? [timeline(at, transition.warning ? 'Warning' : 'Normal', transition.reason, transition.message)]
            : []),
        ]);
        const update = {
          status: 'Running' as const,
          phase: transition.phase,
          providerState,
          conditions: progressing(op, 'True', transition.reason, transition.message, at),
          startedAt,
          attempts: 0,
          nextAttemptAt: new Date(at.getTime() + transition.delayMs).toISOString(),
          ...(transition.logs ? { logs: transition.logs } : {}),
        };
        if (transition.delayMs > 0 || steps === maxSteps - 1) {
          await repo.updateOperation(op.id, update, at);
          return;
        }
        await repo.updateOperation(op.id, update, at, false);
        op = { ...op, ...update };
        continue;
      }
      const end = transition;
      const ok = end.next === 'done';
      const reason = end.next === 'done' ? end.reason : end.code;
      const error =
        end.next === 'fail'
          ? {
              code: end.code,
              message: end.message,
              ...(end.rolledBackTo === undefined ? {} : { rolledBackTo: end.rolledBackTo }),
            }
          : null;
      await options.db.transaction(async (tx) => {
        const inTx = provisionerRepository(tx);
        await inTx.appendEvents(op.id, [
          ...(end.events ?? []),
          timeline(at, ok ? 'Normal' : 'Warning', reason, end.message),
        ]);
        await finishTarget(inTx, op, transition, at);
        await inTx.updateOperation(
          op.id,
          {
            status: ok ? 'Succeeded' : 'Failed',
            phase: ok ? 'done' : op.phase,
            conditions: progressing(op, 'False', reason, end.message, at),
            error,
            ...(end.logs ? { logs: end.logs } : {}),
            startedAt,
            completedAt: at.toISOString(),
          },
          at,
        );
      });
      log[ok ? 'info' : 'warn'](`operation ${ok ? 'succeeded' : 'failed'}`, {
        operation: op.id,
        kind: op.kind,
        org: op.org,
        app: op.app,
        ...(error ?? {}),
      });
      return;
    }
  }

  /** Transient errors wait and retry with backoff; final ones (and too many retries) fail the operation. */
  async function retryOrFail(op: OperationRecord, startedAt: string, error: unknown): Promise<void> {
    const at = now();
    const attempts = op.attempts + 1;
    const providerError = error instanceof ProviderError ? error : undefined;
    const code = providerError?.code ?? 'InternalError';
    const message = providerError?.message ?? (error instanceof Error ? error.message : String(error));
    if (!providerError) log.error('operation step threw', { operation: op.id, kind: op.kind, error });
    const retryable = providerError ? providerError.retryable : true;
    if (!retryable || attempts >= maxAttempts) {
      const finalMessage = retryable ? `Gave up after ${attempts} attempts: ${message}` : message;
      await options.db.transaction(async (tx) => {
        const inTx = provisionerRepository(tx);
        await inTx.appendEvents(op.id, [timeline(at, 'Warning', code, finalMessage)]);
        await finishTarget(inTx, op, { next: 'fail', code, message: finalMessage }, at);
        await inTx.updateOperation(
          op.id,
          {
            status: 'Failed',
            attempts,
            conditions: progressing(op, 'False', code, finalMessage, at),
            error: { code, message: finalMessage },
            startedAt,
            completedAt: at.toISOString(),
          },
          at,
        );
      });
      log.warn('operation failed', { operation: op.id, kind: op.kind, code, message: finalMessage });
      return;
    }
    const delay = providerError?.retryAfterMs ?? backoffMs(attempts, backoffBase, backoffMax);
    const retryAt = new Date(at.getTime() + delay);
    await repo.appendEvents(op.id, [
      timeline(
        at,
        'Warning',
        'Retrying',
        `${code}: ${message}; attempt ${attempts + 1} in ${Math.round(delay / 1000)} s`,
      ),
    ]);
    await repo.updateOperation(
      op.id,
      {
        status: 'Running',
        attempts,
        startedAt,
        conditions: progressing(
          op,
          'True',
          'Retrying',
          `${code}: ${message}; attempt ${attempts + 1} at ${retryAt.toISOString()}`,
          at,
        ),
        nextAttemptAt: retryAt.toISOString(),
      },
      at,
    );
    log.info('operation step will be retried', { operation: op.id, kind: op.kind, code, attempts, delayMs: delay });
  }

  async function pass(): Promise<number> {
    const claimed = await repo.claimDueOperations(now(), leaseMs, options.batchSize ?? 16);
    // One operation per target at a time is guaranteed by the database, so they may run side by side.
    await Promise.all(claimed.map((op) => advance(op)));
    return claimed.length;
  }

  async function checkDrift(): Promise<number> {
    let started = 0;
    const begin = async (
      org: string,
      app: string | null,
      generation: number,
      kind: 'cluster.apply' | 'app.deploy',
      revision?: number,
    ) => {
      const created = await options.db.transaction(async (tx) => {
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
          now(),
        );
        return true;
      });
      if (created) {
        started++;
        log.info('drift: operation started', { org, app, kind });
      }
    };
    for (const cluster of await repo.listClusters()) {
      if (cluster.phase !== 'Ready' || !options.provider.observeCluster) continue;
      if (!(await options.provider.observeCluster(cluster.org)))
        await begin(cluster.org, null, cluster.generation, 'cluster.apply');
    }
    for (const app of await repo.listApps()) {
      if (app.phase !== 'Ready') continue;
      const status = await options.provider.rolloutStatus(app.org, app.app).catch(() => undefined);
      if (!status) continue;
      if (status.revision !== app.desiredRevision || !replicasFit(status.replicas, app.scale)) {
        await begin(app.org, app.app, app.generation, 'app.deploy', app.desiredRevision);
      }
    }
    return started;
  }

  let running: Promise<void> | undefined;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: (() => void) | undefined;
  let lastDrift = 0;

  return {
    pass,
    checkDrift,
    wake() {
      wakeUp?.();
    },
    start(loop = {}) {
      if (!stopped) return;
      stopped = false;
      const interval = loop.intervalMs ?? 1_000;
      const driftInterval = loop.driftIntervalMs ?? 15_000;
      running = (async () => {
        while (!stopped) {
          try {
            if (Date.now() - lastDrift >= driftInterval) {
              lastDrift = Date.now();
              await checkDrift();
            }
            // Keep passing while work is due right away; then sleep until the interval or a wake-up.
            while (!stopped && (await pass()) > 0 && (await dueNow())) {}
          } catch (error) {
            log.error('reconciler pass failed', { error });
          }
          if (stopped) break;
          await new Promise<void>((resolve) => {
            wakeUp = resolve;
            timer = setTimeout(resolve, interval);
          });
          clearTimeout(timer);
          wakeUp = undefined;
        }
      })();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
    },
    async releaseLeases() {
      await options.db.query(`UPDATE operations SET lease_until = NULL WHERE status IN ('NotStarted', 'Running')`);
    },
  };

  async function dueNow(): Promise<boolean> {
    const rows = await options.db.query(
      `SELECT 1 FROM operations WHERE status IN ('NotStarted', 'Running') AND next_attempt_at <= $1
         AND (lease_until IS NULL OR lease_until < $1) LIMIT 1`,
      [now()],
    );
    return rows.length > 0;
  }
}
