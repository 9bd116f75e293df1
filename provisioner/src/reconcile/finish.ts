import type { ProvisionerRepository } from '../state/repository.js';
import { type AppRecord, type Condition, type OperationRecord, setCondition } from '../state/types.js';
import type { Transition } from './transition.js';

/** How an operation ended. */
export type Outcome = Exclude<Transition, { next: 'wait' }>;

/** The target's Ready condition after `outcome`. */
function ready(op: OperationRecord, outcome: Outcome, conditions: Condition[], at: Date): Condition[] {
  const ok = outcome.next === 'done';
  return setCondition(
    conditions,
    {
      type: 'Ready',
      status: ok ? 'True' : 'False',
      reason: ok ? outcome.reason : outcome.code,
      message: outcome.message,
      observedGeneration: op.generation,
    },
    at,
  );
}

/** Writes the end of a cluster operation to the cluster: phase, Ready, observed generation. */
async function finishCluster(repo: ProvisionerRepository, op: OperationRecord, outcome: Outcome, at: Date) {
  const cluster = await repo.getCluster(op.org);
  if (!cluster) return;
  const ok = outcome.next === 'done';
  await repo.setClusterStatus(
    op.org,
    {
      phase: ok ? 'Ready' : 'Failed',
      conditions: ready(op, outcome, cluster.conditions, at),
      ...(ok ? { observedGeneration: op.generation } : {}),
    },
    at,
  );
}

/**
 * Writes a rolled-back app: the failed release is recorded (operation, Progressing condition); the app
 * runs the good one again, so it is Ready with that as its desired release, and neither drift repair nor
 * a later scale brings the failed release back.
 */
async function finishRolledBack(
  repo: ProvisionerRepository,
  op: OperationRecord,
  app: string,
  outcome: Extract<Outcome, { next: 'fail' }>,
  conditions: Condition[],
  rolledBackTo: number,
  at: Date,
) {
  const readyAgain = setCondition(
    conditions,
    {
      type: 'Ready',
      status: 'True',
      reason: 'RolledBack',
      message: `Release ${op.input.revision} failed (${outcome.code}); release ${rolledBackTo} serves again`,
      observedGeneration: op.generation,
    },
    at,
  );
  const withProgress = setCondition(
    readyAgain,
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
    app,
    {
      phase: 'Ready',
      conditions: withProgress,
      servingRevision: rolledBackTo,
      desiredRevision: rolledBackTo,
      observedGeneration: op.generation,
    },
    at,
  );
}

/** Writes the end of an app operation to the app: phase, Ready and Available, serving release. */
async function finishApp(repo: ProvisionerRepository, op: OperationRecord, app: AppRecord, outcome: Outcome, at: Date) {
  const ok = outcome.next === 'done';
  const rolledBackTo = outcome.next === 'fail' ? outcome.rolledBackTo : undefined;
  let conditions = ready(op, outcome, app.conditions, at);
  if (outcome.next === 'done' || rolledBackTo !== undefined) {
    const serving = rolledBackTo ?? op.input.revision ?? app.desiredRevision;
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
    await finishRolledBack(repo, op, app.app, outcome, conditions, rolledBackTo, at);
    return;
  }
  await repo.setAppStatus(
    op.org,
    app.app,
    {
      phase: ok ? 'Ready' : 'Failed',
      conditions,
      ...(ok ? { observedGeneration: op.generation, servingRevision: op.input.revision ?? app.desiredRevision } : {}),
    },
    at,
  );
}

/** Writes the end of an operation to its target: status, conditions, serving release. */
export async function finishTarget(repo: ProvisionerRepository, op: OperationRecord, outcome: Outcome, at: Date) {
  if (op.app === null) {
    await finishCluster(repo, op, outcome, at);
    return;
  }
  const app = await repo.getApp(op.org, op.app);
  if (!app) return;
  await finishApp(repo, op, app, outcome, at);
}
