import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import type { Provider } from '../providers/types.js';
import { provisionerRepository } from '../state/repository.js';
import { advance, type Stepper } from './advance.js';
import { checkDrift, type DriftCheck } from './drift.js';
import type { EdgeRoutes } from './edge-routes.js';

export { backoffMs } from './advance.js';

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

/** Whether an operation is due now and not held by another reconciler's lease. */
async function dueNow(db: Database, now: () => Date): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM operations WHERE status IN ('NotStarted', 'Running') AND next_attempt_at <= $1
       AND (lease_until IS NULL OR lease_until < $1) LIMIT 1`,
    [now()],
  );
  return rows.length > 0;
}

/** The settings of stepping operations, with their defaults. */
function stepperOf(options: ReconcilerOptions, now: () => Date, log: Logger): Stepper {
  return {
    db: options.db,
    repo: provisionerRepository(options.db),
    ctx: {
      db: options.db,
      provider: options.provider,
      edge: options.edge,
      now,
      pollMs: options.pollMs ?? 2_000,
      progressDeadlineMs: options.progressDeadlineMs ?? 600_000,
    },
    now,
    log,
    maxSteps: options.maxStepsPerPass ?? 8,
    maxAttempts: options.maxAttempts ?? 12,
    backoffBase: options.backoffBaseMs ?? 1_000,
    backoffMax: options.backoffMaxMs ?? 60_000,
  };
}

/** The loop of `Reconciler.start`: passes (and drift checks) until `stop`, sleeping between them unless woken. */
class Loop {
  private running: Promise<void> | undefined;
  private stopped = true;
  private wakeUp: (() => void) | undefined;
  private lastDrift = 0;

  constructor(
    private readonly work: { pass(): Promise<number>; checkDrift(): Promise<number>; dueNow(): Promise<boolean> },
    private readonly log: Logger,
  ) {}

  start(loop: { intervalMs?: number; driftIntervalMs?: number }): void {
    if (!this.stopped) return;
    this.stopped = false;
    const interval = loop.intervalMs ?? 1_000;
    const driftInterval = loop.driftIntervalMs ?? 15_000;
    this.running = (async () => {
      while (!this.stopped) {
        await this.round(driftInterval);
        if (this.stopped) break;
        await this.sleep(interval);
      }
    })();
  }

  /** Checks drift when due, then keeps passing while work is due right away. */
  private async round(driftInterval: number): Promise<void> {
    try {
      if (Date.now() - this.lastDrift >= driftInterval) {
        this.lastDrift = Date.now();
        await this.work.checkDrift();
      }
      while (!this.stopped && (await this.work.pass()) > 0 && (await this.work.dueNow())) {}
    } catch (error) {
      this.log.error('reconciler pass failed', { error });
    }
  }

  /** Sleeps until the interval has passed or `wake()` is called. */
  private async sleep(interval: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      timer = setTimeout(resolve, interval);
    });
    clearTimeout(timer);
    this.wakeUp = undefined;
  }

  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
  }
}

/** Creates a reconciler over the provisioner's state. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const now = options.now ?? (() => new Date());
  const log = options.logger.child({ component: 'reconciler' });
  const stepper = stepperOf(options, now, log);
  const drift: DriftCheck = { db: options.db, repo: stepper.repo, provider: options.provider, now, log };
  const leaseMs = options.leaseMs ?? 60_000;

  async function pass(): Promise<number> {
    const claimed = await stepper.repo.claimDueOperations(now(), leaseMs, options.batchSize ?? 16);
    // One operation per target at a time is guaranteed by the database, so they may run side by side.
    await Promise.all(claimed.map((op) => advance(stepper, op)));
    return claimed.length;
  }
  const loop = new Loop({ pass, checkDrift: () => checkDrift(drift), dueNow: () => dueNow(options.db, now) }, log);

  return {
    pass,
    checkDrift: () => checkDrift(drift),
    wake: () => loop.wake(),
    start: (settings = {}) => loop.start(settings),
    stop: () => loop.stop(),
    async releaseLeases() {
      await options.db.query(`UPDATE operations SET lease_until = NULL WHERE status IN ('NotStarted', 'Running')`);
    },
  };
}
