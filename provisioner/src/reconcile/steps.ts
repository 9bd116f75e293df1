import type { Database } from '../../../platform/src/db/index.js';
import type { AppScale, Provider, ProviderEvent, ProviderState, ReplicaLogs } from '../providers/types.js';
import { provisionerRepository } from '../state/repository.js';
import type { OperationEvent, OperationRecord } from '../state/types.js';
import type { EdgeRoutes } from './edge-routes.js';

/**
 * Whether running `replicas` matches the app's scale: exactly its target when the bounds are equal,
 * else anywhere within them, since an autoscaler (the HPA on aks) moves the count between the bounds.
 */
export function replicasFit(replicas: number, scale: AppScale): boolean {
  if (scale.minReplicas === scale.maxReplicas) return replicas === scale.replicas;
  return replicas >= scale.minReplicas && replicas <= scale.maxReplicas;
}

/** What one step of an operation decided. */
/** A timeline entry a step reports. */
export type NewEvent = Omit<OperationEvent, 'operationId' | 'seq'>;

/** What a step may add to any transition: provider events to record, failing replicas' log lines. */
interface Extras {
  events?: NewEvent[];
  logs?: ReplicaLogs[];
}

export type Transition =
  | (Extras & {
      next: 'wait';
      /** Phase to run next (the same one to poll again). */
      phase: string;
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

const go = (phase: string, reason: string, message: string): Extract<Transition, { next: 'wait' }> => ({
  next: 'wait',
  phase,
  delayMs: 0,
  reason,
  message,
  providerState: null,
});

/** Runs the step of `op` its phase names. Provider errors propagate to the reconciler's retry rules. */
export async function runStep(op: OperationRecord, ctx: StepContext): Promise<Transition> {
  switch (op.kind) {
    case 'cluster.apply':
      return clusterApply(op, ctx);
    case 'cluster.delete':
      return clusterDelete(op, ctx);
    case 'app.deploy':
    case 'app.rollback':
    case 'app.scale':
      return appRollout(op, ctx);
    case 'app.delete':
      return appDelete(op, ctx);
  }
}

async function clusterApply(op: OperationRecord, ctx: StepContext): Promise<Transition> {
  const repo = provisionerRepository(ctx.db);
  const cluster = await repo.getCluster(op.org);
  if (!cluster) return { next: 'fail', code: 'NotFound', message: `The cluster of ${op.org} no longer exists.` };
  if (op.phase !== 'route') {
    // A cluster made again (drift after a restart) starts from the ingress it had, so a provider that can
    // (local) listens where the edge's route already points.
    const state = op.providerState ?? (cluster.ingressUrl ? { ingressUrl: cluster.ingressUrl } : undefined);
    const step = await ctx.provider.ensureCluster(op.org, cluster.spec, state);
    if (step.kind === 'pending') {
      return {
        next: 'wait',
        phase: 'provision',
        delayMs: step.retryAfterMs,
        reason: 'Provisioning',
        message: step.message,
        providerState: step.state,
      };
    }
    await repo.setClusterStatus(
      op.org,
      { phase: cluster.phase, conditions: cluster.conditions, ingressUrl: step.result.ingressUrl },
      ctx.now(),
    );
    return go(
      'route',
      'RegisteringRoute',
      `Cluster ready at ${step.result.ingressUrl}; registering its route at the edge`,
    );
  }
  if (!cluster.ingressUrl) return go('provision', 'Provisioning', 'The cluster has no ingress yet');
  await ctx.edge.putOrg(op.org, cluster.ingressUrl);
  // Apps that served before (e.g. a cluster re-made after a restart) keep their listing.
  for (const app of await repo.listApps(op.org)) {
    if (app.servingRevision !== null && app.phase !== 'Deleting') await ctx.edge.putApp(op.org, app.app);
  }
  return {
    next: 'done',
    reason: 'ClusterReady',
    message: `Cluster ready; the edge routes ${op.org} to ${cluster.ingressUrl}`,
  };
}

async function clusterDelete(op: OperationRecord, ctx: StepContext): Promise<Transition> {
  const repo = provisionerRepository(ctx.db);
  if (op.phase === 'start' || op.phase === 'apps') {
    const apps = await repo.listApps(op.org);
    for (const app of apps) {
      await ctx.edge.deleteApp(op.org, app.app);
      const step = await ctx.provider.deleteApp(op.org, app.app, undefined);
      if (step.kind === 'pending') {
        return {
          next: 'wait',
          phase: 'apps',
          delayMs: step.retryAfterMs,
          reason: 'DeletingApps',
          message: `Removing ${op.org}/${app.app}: ${step.message}`,
        };
      }
      await repo.deleteApp(op.org, app.app);
    }
    return go('routes', 'RemovingRoute', 'Removing the org from the edge');
  }
  if (op.phase === 'routes') {
    await ctx.edge.deleteOrg(op.org);
    return go('provider', 'DeletingCluster', 'Deleting the cluster');
  }
  const step = await ctx.provider.deleteCluster(op.org, op.providerState ?? undefined);
  if (step.kind === 'pending') {
    return {
      next: 'wait',
      phase: 'provider',
      delayMs: step.retryAfterMs,
      reason: 'DeletingCluster',
      message: step.message,
      providerState: step.state,
    };
  }
  await repo.deleteCluster(op.org);
  return { next: 'done', reason: 'Deleted', message: `The cluster of ${op.org} is deleted` };
}

/** Times one operation makes a vanished workload again before it leaves the rest to its deadline. */
const MAX_RECREATES = 3;

/** Extra time the reconciler gives a provider past the app's deadline, so the provider names the cause first. */
const DEADLINE_GRACE_MS = 5_000;

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
  return {
    events: fresh.map((e) => ({
      at: e.at,
      source: 'provider',
      type: e.type,
      reason: e.reason,
      message: e.message,
      replica: e.replica ?? null,
      revision: e.revision ?? null,
    })),
    cursor: next,
  };
}

/** The event cursor kept in a rollout's provider state (an empty one when there is none). */
function cursorOf(state: ProviderState): EventCursor {
  return {
    eventsAfter: String(state.eventsAfter ?? ''),
    eventsSeen: Array.isArray(state.eventsSeen) ? state.eventsSeen.map(String) : [],
  };
}

/** The last lines of the replicas running `revision` (the ones that failed). */
async function failingLogs(ctx: StepContext, org: string, app: string, revision: number) {
  const logs = (await ctx.provider.appLogs?.(org, app).catch(() => [])) ?? [];
  return logs.filter((r) => r.revision === revision).map((r) => ({ ...r, lines: r.lines.slice(-50) }));
}

async function appRollout(op: OperationRecord, ctx: StepContext): Promise<Transition> {
  const repo = provisionerRepository(ctx.db);
  const app = op.app as string;
  const record = await repo.getApp(op.org, app);
  if (!record) return { next: 'fail', code: 'NotFound', message: `App ${op.org}/${app} no longer exists.` };
  const revision = op.input.revision ?? record.desiredRevision;
  const deadlineMs = record.progressDeadlineSeconds ? record.progressDeadlineSeconds * 1000 : ctx.progressDeadlineMs;
  const state = op.providerState ?? {};
  if (op.phase === 'start') {
    const cluster = await repo.getCluster(op.org);
    if (!cluster || cluster.phase === 'Deleting') {
      return { next: 'fail', code: 'ClusterNotReady', message: `The cluster of ${op.org} is gone or being deleted.` };
    }
    const clusterBusy = (await repo.activeOperations(op.org)).some((other) => other.app === null);
    if (cluster.phase !== 'Ready' || clusterBusy) {
      if (cluster.phase === 'Failed' && !clusterBusy) {
        return {
          next: 'fail',
          code: 'ClusterNotReady',
          message: `The cluster of ${op.org} failed to provision; fix it first.`,
        };
      }
      return {
        next: 'wait',
        phase: 'start',
        delayMs: ctx.pollMs,
        reason: 'WaitingForCluster',
        message: `Waiting for the cluster of ${op.org} to be ready`,
      };
    }
    return go('apply', 'Applying', `Applying release ${revision}`);
  }
  if (op.phase === 'apply') {
    // A scale changes only the replica count, unless the workload was gone and is made again.
    if (op.kind === 'app.scale' && state.recreated === undefined) {
      await ctx.provider.scaleApp(op.org, app, record.scale);
    } else {
      const release = await repo.getRelease(op.org, app, revision);
      if (!release) {
        return {
          next: 'fail',
          code: 'ReleaseNotFound',
          message: `Release ${revision} of ${op.org}/${app} does not exist.`,
        };
      }
      await ctx.provider.applyApp(op.org, app, {
        release: { revision, ...release.spec },
        scale: record.scale,
        rollback: op.kind === 'app.rollback',
        progressDeadlineMs: deadlineMs,
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
  if (op.phase === 'rollout' || op.phase === 'rollback-wait') {
    const rollingBack = op.phase === 'rollback-wait';
    const target = rollingBack ? Number(state.rollbackTo) : revision;
    const { events, cursor } = await providerEvents(ctx, op.org, app, cursorOf(state));
    const status = await ctx.provider.rolloutStatus(op.org, app);
    const recreated = Number(state.recreated ?? 0);
    if (status.revision === null && !status.failure && recreated < MAX_RECREATES) {
      // The workload is gone (the local host restarted and its replicas with it): make it again rather
      // than wait for a deadline that would report a failure of the release and roll it back.
      return {
        next: 'wait',
        phase: rollingBack ? 'rollback' : 'apply',
        delayMs: 0,
        reason: 'WorkloadMissing',
        message: `The workload of ${op.org}/${app} is gone; applying release ${target} again`,
        warning: true,
        providerState: { ...state, ...cursor, recreated: recreated + 1 },
        events,
      };
    }
    const started = Date.parse(String(state.rolloutStartedAt ?? op.startedAt ?? op.createdAt));
    const overdue = ctx.now().getTime() - started > deadlineMs + DEADLINE_GRACE_MS;
    const failure =
      status.failure ??
      (overdue
        ? {
            reason: 'ProgressDeadlineExceeded',
            message: `Release ${target} was not ready within ${Math.round(deadlineMs / 1000)} s (${status.updatedReplicas}/${status.replicas} updated, ${status.readyReplicas} ready, ${status.oldReplicas} old).`,
          }
        : undefined);
    if (rollingBack) {
      const original = state.failure as { code: string; message: string };
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
        delayMs: pollDelay(ctx, started),
        reason: 'RollingBack',
        message: `Rolling back to release ${target}: ${status.readyReplicas} ready, ${status.oldReplicas} old replica(s) left`,
        providerState: { ...state, ...cursor },
        events,
      };
    }
    if (failure) {
      const logs = await failingLogs(ctx, op.org, app, revision);
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
          providerState: {
            ...state,
            ...cursor,
            failure: { code, message: failure.message },
            rollbackTo: serving,
          },
          events,
          logs,
        };
      }
      return { next: 'fail', code, message: failure.message, events, logs };
    }
    if (status.complete && status.revision === revision && replicasFit(status.replicas, record.scale)) {
      return {
        ...go('route', 'RegisteringRoute', `Release ${revision} is ready on ${status.readyReplicas} replica(s)`),
        events,
      };
    }
    return {
      next: 'wait',
      phase: 'rollout',
      delayMs: pollDelay(ctx, started),
      reason: 'RollingOut',
      message: `Release ${revision}: ${status.updatedReplicas}/${status.replicas} updated, ${status.readyReplicas} ready, ${status.oldReplicas} old replica(s) left`,
      providerState: { ...state, ...cursor },
      events,
    };
  }
  if (op.phase === 'rollback') {
    const target = Number(state.rollbackTo);
    const release = await repo.getRelease(op.org, app, target);
    if (!release) {
      const original = state.failure as { code: string; message: string };
      return {
        next: 'fail',
        code: original.code,
        message: `${original.message} Release ${target} to roll back to is gone.`,
      };
    }
    await ctx.provider.applyApp(op.org, app, {
      release: { revision: target, ...release.spec },
      scale: record.scale,
      rollback: true,
      progressDeadlineMs: deadlineMs,
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
  await ctx.edge.putApp(op.org, app);
  return { next: 'done', reason: 'RolloutComplete', message: `Release ${revision} serves ${op.org}/${app}` };
}

async function appDelete(op: OperationRecord, ctx: StepContext): Promise<Transition> {
  const repo = provisionerRepository(ctx.db);
  const app = op.app as string;
  if (op.phase === 'start') {
    // Traffic stops first, so no request reaches a replica that is going away.
    await ctx.edge.deleteApp(op.org, app);
    return go('provider', 'DeletingWorkload', `Removing the workload of ${op.org}/${app}`);
  }
  const step = await ctx.provider.deleteApp(op.org, app, op.providerState ?? undefined);
  if (step.kind === 'pending') {
    return {
      next: 'wait',
      phase: 'provider',
      delayMs: step.retryAfterMs,
      reason: 'DeletingWorkload',
      message: step.message,
      providerState: step.state,
    };
  }
  await repo.deleteApp(op.org, app);
  return { next: 'done', reason: 'Deleted', message: `App ${op.org}/${app} is deleted` };
}
