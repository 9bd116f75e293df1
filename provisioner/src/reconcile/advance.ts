import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { ProviderError } from '../providers/types.js';
import { type ProvisionerRepository, provisionerRepository } from '../state/repository.js';
import { type Condition, type OperationRecord, setCondition } from '../state/types.js';
import { finishTarget, type Outcome } from './finish.js';
import { type NewEvent, runStep, type StepContext, type Transition } from './steps.js';

/** What stepping operations needs: the store, the steps' context, and the retry and batching settings. */
export interface Stepper {
  db: Database;
  repo: ProvisionerRepository;
  ctx: StepContext;
  now: () => Date;
  log: Logger;
  /** Steps of one operation run back to back in a pass when they need no waiting. */
  maxSteps: number;
  maxAttempts: number;
  backoffBase: number;
  backoffMax: number;
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

/** The operation's conditions with its Progressing condition set. */
function progressing(op: OperationRecord, status: Condition['status'], reason: string, message: string, at: Date) {
  return setCondition(
    op.conditions,
    { type: 'Progressing', status, reason, message, observedGeneration: op.generation },
    at,
  );
}

/** Fails a step that has not answered in STEP_TIMEOUT_MS with a retryable error, so one hung call stalls nothing else. */
async function withStepTimeout<T>(work: Promise<T>, op: OperationRecord): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const message = `step ${op.phase} of ${op.kind} took over ${STEP_TIMEOUT_MS / 1000} s`;
    timer = setTimeout(() => reject(new ProviderError('StepTimeout', message, true)), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stores a step that waits (or goes on at once): its events, phase, provider state and when it is due.
 * Answers the operation as it now stands when the next step may run in this pass, else null.
 */
async function storeWait(
  s: Stepper,
  op: OperationRecord,
  transition: Extract<Transition, { next: 'wait' }>,
  startedAt: string,
  last: boolean,
): Promise<OperationRecord | null> {
  const at = s.now();
  const lastReason = op.conditions.find((c) => c.type === 'Progressing')?.reason;
  const providerState = transition.providerState === undefined ? op.providerState : transition.providerState;
  // The timeline gets what the provider saw, and a line whenever the reconciler's step changes.
  const changed = transition.phase !== op.phase || transition.reason !== lastReason;
  const type = transition.warning ? 'Warning' : 'Normal';
  await s.repo.appendEvents(op.id, [
    ...(transition.events ?? []),
    ...(changed ? [timeline(at, type, transition.reason, transition.message)] : []),
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
  if (transition.delayMs > 0 || last) {
    await s.repo.updateOperation(op.id, update, at);
    return null;
  }
  await s.repo.updateOperation(op.id, update, at, false);
  return { ...op, ...update };
}

/** Stores the end of an operation (with its target's status) in one transaction, and logs it. */
async function storeEnd(s: Stepper, op: OperationRecord, end: Outcome, startedAt: string): Promise<void> {
  const at = s.now();
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
  await s.db.transaction(async (tx) => {
    const inTx = provisionerRepository(tx);
    await inTx.appendEvents(op.id, [
      ...(end.events ?? []),
      timeline(at, ok ? 'Normal' : 'Warning', reason, end.message),
    ]);
    await finishTarget(inTx, op, end, at);
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
  const fields = { operation: op.id, kind: op.kind, org: op.org, app: op.app, ...(error ?? {}) };
  s.log[ok ? 'info' : 'warn'](`operation ${ok ? 'succeeded' : 'failed'}`, fields);
}

/** Runs one operation's due steps and stores where it got to. */
export async function advance(s: Stepper, claimed: OperationRecord): Promise<void> {
  let op = claimed;
  const startedAt = op.startedAt ?? s.now().toISOString();
  for (let steps = 0; steps < s.maxSteps; steps++) {
    let transition: Transition;
    try {
      transition = await withStepTimeout(runStep({ ...op, startedAt }, s.ctx), op);
    } catch (error) {
      await retryOrFail(s, op, startedAt, error);
      return;
    }
    if (transition.next !== 'wait') {
      await storeEnd(s, op, transition, startedAt);
      return;
    }
    const next = await storeWait(s, op, transition, startedAt, steps === s.maxSteps - 1);
    if (next === null) return;
    op = next;
  }
}

/** Fails the operation for good: too many retries, or an error that no retry mends. */
async function failOperation(
  s: Stepper,
  op: OperationRecord,
  end: { startedAt: string; attempts: number; code: string; message: string; at: Date },
) {
  const { startedAt, attempts, code, message, at } = end;
  await s.db.transaction(async (tx) => {
    const inTx = provisionerRepository(tx);
    await inTx.appendEvents(op.id, [timeline(at, 'Warning', code, message)]);
    await finishTarget(inTx, op, { next: 'fail', code, message }, at);
    await inTx.updateOperation(
      op.id,
      {
        status: 'Failed',
        attempts,
        conditions: progressing(op, 'False', code, message, at),
        error: { code, message },
        startedAt,
        completedAt: at.toISOString(),
      },
      at,
    );
  });
  s.log.warn('operation failed', { operation: op.id, kind: op.kind, code, message });
}

/** Transient errors wait and retry with backoff; final ones (and too many retries) fail the operation. */
async function retryOrFail(s: Stepper, op: OperationRecord, startedAt: string, error: unknown): Promise<void> {
  const at = s.now();
  const attempts = op.attempts + 1;
  const providerError = error instanceof ProviderError ? error : undefined;
  const code = providerError?.code ?? 'InternalError';
  const message = providerError?.message ?? (error instanceof Error ? error.message : String(error));
  if (!providerError) s.log.error('operation step threw', { operation: op.id, kind: op.kind, error });
  const retryable = providerError ? providerError.retryable : true;
  if (!retryable || attempts >= s.maxAttempts) {
    const finalMessage = retryable ? `Gave up after ${attempts} attempts: ${message}` : message;
    await failOperation(s, op, { startedAt, attempts, code, message: finalMessage, at });
    return;
  }
  const delay = providerError?.retryAfterMs ?? backoffMs(attempts, s.backoffBase, s.backoffMax);
  const retryAt = new Date(at.getTime() + delay);
  const next = `attempt ${attempts + 1}`;
  await s.repo.appendEvents(op.id, [
    timeline(at, 'Warning', 'Retrying', `${code}: ${message}; ${next} in ${Math.round(delay / 1000)} s`),
  ]);
  await s.repo.updateOperation(
    op.id,
    {
      status: 'Running',
      attempts,
      startedAt,
      conditions: progressing(op, 'True', 'Retrying', `${code}: ${message}; ${next} at ${retryAt.toISOString()}`, at),
      nextAttemptAt: retryAt.toISOString(),
    },
    at,
  );
  s.log.info('operation step will be retried', { operation: op.id, kind: op.kind, code, attempts, delayMs: delay });
}
