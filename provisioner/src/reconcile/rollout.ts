import type { ProviderEvent, RolloutStatus } from '../providers/types.js';
import { type ProvisionerRepository, provisionerRepository } from '../state/repository.js';
import type { AppRecord } from '../state/types.js';
import type { OperationOf, RolloutFailure, RolloutKind, RolloutPhase, RolloutState } from './phases.js';
import { go, type NewEvent, replicasFit, type StepContext, type Transition } from './transition.js';

/** Times one operation makes a vanished workload again before it leaves the rest to its deadline. */
const MAX_RECREATES = 3;

/** Extra time the reconciler gives a provider past the app's deadline, so the provider names the cause first. */
const DEADLINE_GRACE_MS = 5_000;

/** One step of a rollout: the operation, its app's record and what follows from it. */
interface Rollout {
  op: OperationOf<RolloutKind>;
  ctx: StepContext;
  repo: ProvisionerRepository;
  org: string;
  app: string;
  record: AppRecord;
  /** The release being rolled out. */
  revision: number;
  deadlineMs: number;
  state: RolloutState;
}

/**
 * How long until a rollout is polled again: `pollMs` for its first 5 s, then longer the longer it runs,
 * up to 8 times `pollMs`, so that many slow rollouts at once do not keep the database busy polling.
 */
function pollDelay(ctx: StepContext, startedMs: number): number {
  const elapsed = Math.max(0, ctx.now().getTime() - startedMs);
  return ctx.pollMs * Math.min(8, 1 + Math.floor(elapsed / 5_000));
}

/** Where the provider-event cursor of a rollout stands: the newest event time taken, and the events taken at it. */
interface EventCursor {
  /** ISO time of the newest event taken (or the rollout's start). */
  eventsAfter: string;
  /** Keys of the events taken whose time may equal `eventsAfter`'s (so they are not taken twice). */
  eventsSeen: string[];
}

/**
 * The latest instant an event time may stand for: Kubernetes stamps events in whole seconds, so
 * `12:00:01Z` may be anything up to `12:00:01.999Z`; finer times stand for themselves.
 */
function latestMs(at: string): number {
  const ms = Date.parse(at);
  return ms % 1000 === 0 ? ms + 999 : ms;
}

/** What tells two provider events apart: their id when the provider gives one, else time, reason, replica and message. */
function eventKey(e: ProviderEvent): string {
  return e.id ?? JSON.stringify([e.at, e.reason, e.replica ?? null, e.message]);
}

/** A provider event as a timeline entry. */
function timelineEvent(e: ProviderEvent): NewEvent {
  return {
    at: e.at,
    source: 'provider',
    type: e.type,
    reason: e.reason,
    message: e.message,
    replica: e.replica ?? null,
    revision: e.revision ?? null,
  };
}

/**
 * Provider events not taken yet, as timeline entries, and the cursor after them. An event counts when
 * it may have happened at or after the cursor (times are compared as instants, whole-second times
 * stretched over their second) and has not been taken already.
 */
async function providerEvents(
  ctx: StepContext,
  org: string,
  app: string,
  cursor: EventCursor,
): Promise<{ events: NewEvent[]; cursor: EventCursor }> {
  const seen = (await ctx.provider.appEvents?.(org, app).catch(() => [])) ?? [];
  const afterMs = Date.parse(cursor.eventsAfter);
  const from = Number.isNaN(afterMs) ? Number.NEGATIVE_INFINITY : afterMs;
  const taken = new Set(cursor.eventsSeen);
  const candidates = seen.filter((e) => latestMs(e.at) >= from);
  const fresh = candidates.filter((e) => !taken.has(eventKey(e)));
  const newest = Math.max(from, ...fresh.map((e) => Date.parse(e.at)));
  const next: EventCursor =
    fresh.length === 0 || newest === from
      ? { eventsAfter: cursor.eventsAfter, eventsSeen: [...new Set([...cursor.eventsSeen, ...fresh.map(eventKey)])] }
      : {
          eventsAfter: new Date(newest).toISOString(),
          eventsSeen: candidates.filter((e) => latestMs(e.at) >= newest).map(eventKey),
        };
  return { events: fresh.map(timelineEvent), cursor: next };
}

/** The event cursor kept in a rollout's state (an empty one when there is none). */
function cursorOf(state: RolloutState): EventCursor {
  return { eventsAfter: state.eventsAfter ?? '', eventsSeen: state.eventsSeen ?? [] };
}

/** The last lines of the replicas running `revision` (the ones that failed). */
async function failingLogs(ctx: StepContext, org: string, app: string, revision: number) {
  const logs = (await ctx.provider.appLogs?.(org, app).catch(() => [])) ?? [];
  return logs.filter((r) => r.revision === revision).map((r) => ({ ...r, lines: r.lines.slice(-50) }));
}

/** The failure a rollback was started for (a generic one when the stored state lost it). */
function originalFailure(state: RolloutState): RolloutFailure {
  return state.failure ?? { code: 'InternalError', message: 'The failure the rollback was started for is not known.' };
}

/** Waits for the org's cluster to be ready (and not busy with an operation of its own), then applies. */
async function awaitCluster(r: Rollout): Promise<Transition> {
  const { repo, org } = r;
  const cluster = await repo.getCluster(org);
  if (!cluster || cluster.phase === 'Deleting') {
    return { next: 'fail', code: 'ClusterNotReady', message: `The cluster of ${org} is gone or being deleted.` };
  }
  const clusterBusy = (await repo.activeOperations(org)).some((other) => other.app === null);
  if (cluster.phase !== 'Ready' || clusterBusy) {
    if (cluster.phase === 'Failed' && !clusterBusy) {
      return {
        next: 'fail',
        code: 'ClusterNotReady',
        message: `The cluster of ${org} failed to provision; fix it first.`,
      };
    }
    return {
      next: 'wait',
      phase: 'start',
      delayMs: r.ctx.pollMs,
      reason: 'WaitingForCluster',
      message: `Waiting for the cluster of ${org} to be ready`,
    };
  }
  return go('apply', 'Applying', `Applying release ${r.revision}`);
}

/** Applies the release (or, for a scale, only the replica count), then watches the rollout. */
async function apply(r: Rollout): Promise<Transition> {
  const { ctx, org, app, record, revision, state } = r;
  // A scale changes only the replica count, unless the workload was gone and is made again.
  if (r.op.kind === 'app.scale' && state.recreated === undefined) {
    await ctx.provider.scaleApp(org, app, record.scale);
  } else {
    const release = await r.repo.getRelease(org, app, revision);
    if (!release) {
      return { next: 'fail', code: 'ReleaseNotFound', message: `Release ${revision} of ${org}/${app} does not exist.` };
    }
    await ctx.provider.applyApp(org, app, {
      release: { revision, ...release.spec },
      scale: record.scale,
      rollback: r.op.kind === 'app.rollback',
      progressDeadlineMs: r.deadlineMs,
    });
  }
  const at = ctx.now().toISOString();
  return {
    next: 'wait',
    phase: 'rollout',
    delayMs: ctx.pollMs,
    reason: 'RollingOut',
    message: `Rolling out release ${revision} at ${record.scale.replicas} replica(s)`,
    // The deadline starts again with the workload; the event cursor of an earlier try goes on.
    providerState: { ...state, rolloutStartedAt: at, eventsAfter: state.eventsAfter ?? at },
  };
}

/** What one poll of a rollout (or of its rollback) saw. */
interface Observed {
  rollingBack: boolean;
  /** The release the workload should end at. */
  target: number;
  status: RolloutStatus;
  events: NewEvent[];
  cursor: EventCursor;
  /** When the workload was last applied (ms since the epoch). */
  started: number;
  /** The provider's failure, or the deadline's when it has passed. */
  failure: { reason: string; message: string } | undefined;
}

/** Polls the provider: the new events, the rollout's status, and whether it failed or is overdue. */
async function observe(r: Rollout): Promise<Observed> {
  const { ctx, org, app, state, deadlineMs } = r;
  const rollingBack = r.op.phase === 'rollback-wait';
  const target = rollingBack ? (state.rollbackTo ?? Number.NaN) : r.revision;
  const { events, cursor } = await providerEvents(ctx, org, app, cursorOf(state));
  const status = await ctx.provider.rolloutStatus(org, app);
  const started = Date.parse(state.rolloutStartedAt ?? r.op.op.startedAt ?? r.op.op.createdAt);
  const overdue = ctx.now().getTime() - started > deadlineMs + DEADLINE_GRACE_MS;
  const failure =
    status.failure ??
    (overdue
      ? {
          reason: 'ProgressDeadlineExceeded',
          message: `Release ${target} was not ready within ${Math.round(deadlineMs / 1000)} s (${status.updatedReplicas}/${status.replicas} updated, ${status.readyReplicas} ready, ${status.oldReplicas} old).`,
        }
      : undefined);
  return { rollingBack, target, status, events, cursor, started, failure };
}

/** Where a rollback stands: back on the good release (the operation fails, rolled back), failed too, or on its way. */
function rollbackOutcome(r: Rollout, seen: Observed): Transition {
  const { status, target, failure, events } = seen;
  const original = originalFailure(r.state);
  if (status.complete && status.revision === target) {
    return {
      next: 'fail',
      code: original.code,
      message: `${original.message} Rolled back to release ${target}, which serves again.`,
      rolledBackTo: target,
      events,
    };
  }
  if (failure) {
    return {
      next: 'fail',
      code: original.code,
      message: `${original.message} The rollback to release ${target} failed too: ${failure.reason}: ${failure.message}`,
      events,
    };
  }
  return {
    next: 'wait',
    phase: 'rollback-wait',
    delayMs: pollDelay(r.ctx, seen.started),
    reason: 'RollingBack',
    message: `Rolling back to release ${target}: ${status.readyReplicas} ready, ${status.oldReplicas} old replica(s) left`,
    providerState: { ...r.state, ...seen.cursor },
    events,
  };
}

/** A failed rollout: rolled back to the serving release when the app wants that, else the operation fails. */
async function rolloutFailed(r: Rollout, seen: Observed, failure: { reason: string; message: string }) {
  const { op, record, revision } = r;
  const logs = await failingLogs(r.ctx, r.org, r.app, revision);
  const code = failure.reason;
  const serving = record.servingRevision;
  if (op.kind === 'app.deploy' && record.autoRollback && serving !== null && serving !== revision) {
    return {
      next: 'wait',
      phase: 'rollback',
      delayMs: 0,
      reason: code,
      message: `${failure.message}; rolling back to release ${serving}`,
      warning: true,
      providerState: { ...r.state, ...seen.cursor, failure: { code, message: failure.message }, rollbackTo: serving },
      events: seen.events,
      logs,
    } satisfies Transition;
  }
  return { next: 'fail', code, message: failure.message, events: seen.events, logs } satisfies Transition;
}

/** Polls a rollout (or its rollback) until it is complete, fails, or its workload has vanished. */
async function watch(r: Rollout): Promise<Transition> {
  const seen = await observe(r);
  const { status, events, target, rollingBack } = seen;
  const recreated = r.state.recreated ?? 0;
  if (status.revision === null && !status.failure && recreated < MAX_RECREATES) {
    // The workload is gone (the local host restarted and its replicas with it): make it again rather
    // than wait for a deadline that would report a failure of the release and roll it back.
    return {
      next: 'wait',
      phase: rollingBack ? 'rollback' : 'apply',
      delayMs: 0,
      reason: 'WorkloadMissing',
      message: `The workload of ${r.org}/${r.app} is gone; applying release ${target} again`,
      warning: true,
      providerState: { ...r.state, ...seen.cursor, recreated: recreated + 1 },
      events,
    };
  }
  if (rollingBack) return rollbackOutcome(r, seen);
  if (seen.failure) return rolloutFailed(r, seen, seen.failure);
  const { revision } = r;
  if (status.complete && status.revision === revision && replicasFit(status.replicas, r.record.scale)) {
    return {
      ...go('route', 'RegisteringRoute', `Release ${revision} is ready on ${status.readyReplicas} replica(s)`),
      events,
    };
  }
  return {
    next: 'wait',
    phase: 'rollout',
    delayMs: pollDelay(r.ctx, seen.started),
    reason: 'RollingOut',
    message: `Release ${revision}: ${status.updatedReplicas}/${status.replicas} updated, ${status.readyReplicas} ready, ${status.oldReplicas} old replica(s) left`,
    providerState: { ...r.state, ...seen.cursor },
    events,
  };
}

/** Applies the release that served before the failed one, then watches the rollback. */
async function rollBack(r: Rollout): Promise<Transition> {
  const { ctx, org, app, state } = r;
  const target = state.rollbackTo ?? Number.NaN;
  const release = await r.repo.getRelease(org, app, target);
  if (!release) {
    const original = originalFailure(state);
    return {
      next: 'fail',
      code: original.code,
      message: `${original.message} Release ${target} to roll back to is gone.`,
    };
  }
  await ctx.provider.applyApp(org, app, {
    release: { revision: target, ...release.spec },
    scale: r.record.scale,
    rollback: true,
    progressDeadlineMs: r.deadlineMs,
  });
  return {
    next: 'wait',
    phase: 'rollback-wait',
    delayMs: ctx.pollMs,
    reason: 'RollingBack',
    message: `Rolling back to release ${target}, the last one that served`,
    warning: true,
    providerState: { ...state, rolloutStartedAt: ctx.now().toISOString() },
  };
}

/** Lists the app at the edge: the release serves. */
async function route(r: Rollout): Promise<Transition> {
  await r.ctx.edge.putApp(r.org, r.app);
  return { next: 'done', reason: 'RolloutComplete', message: `Release ${r.revision} serves ${r.org}/${r.app}` };
}

/** The step of each rollout phase. */
const rolloutSteps: { [P in RolloutPhase]: (r: Rollout) => Promise<Transition> } = {
  start: awaitCluster,
  apply,
  rollout: watch,
  'rollback-wait': watch,
  rollback: rollBack,
  route,
};

/** Runs the step of a rollout (`app.deploy`, `app.rollback`, `app.scale`) its phase names. */
export async function rolloutStep(op: OperationOf<RolloutKind>, ctx: StepContext): Promise<Transition> {
  const repo = provisionerRepository(ctx.db);
  const { org } = op.op;
  const record = await repo.getApp(org, op.app);
  if (!record) return { next: 'fail', code: 'NotFound', message: `App ${org}/${op.app} no longer exists.` };
  const revision = op.op.input.revision ?? record.desiredRevision;
  const deadlineMs = record.progressDeadlineSeconds ? record.progressDeadlineSeconds * 1000 : ctx.progressDeadlineMs;
  const rollout: Rollout = { op, ctx, repo, org, app: op.app, record, revision, deadlineMs, state: op.state };
  return rolloutSteps[op.phase](rollout);
}
