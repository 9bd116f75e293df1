import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import type { AppScale, ClusterSpec } from '../providers/types.js';
import { type ProvisionerRepository, provisionerRepository } from '../state/repository.js';
import {
  type AppRecord,
  type AppSettings,
  type ClusterRecord,
  type Condition,
  type OperationInput,
  type OperationKind,
  type OperationRecord,
  type ReleaseSpec,
  setCondition,
} from '../state/types.js';

/** What a command answers: a status, the resource or operation, and the operation it started or joined. */
export interface Outcome<T> {
  status: 200 | 201 | 202;
  resource: T;
  operation: OperationRecord | null;
}

/** What the operator or an org's pipeline asks of an app. */
export interface AppRequest {
  release: ReleaseSpec;
  scale: Omit<AppScale, 'replicas'> & { replicas?: number };
  /** Rollout and autoscaling settings; changing only these starts no operation. */
  settings: AppSettings;
}

/** What commands need. */
export interface CommandOptions {
  db: Database;
  now?: () => Date;
  /** Called after a command started an operation, so a local reconciler starts it at once. */
  wake?: () => void;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
  );
}

const notFound = (detail: string) => new Problem(404, { kind: 'not-found', detail });

function conflict(detail: string, running?: OperationRecord): Problem {
  return new Problem(409, {
    kind: 'conflict',
    detail,
    ...(running ? { extensions: { operationId: running.id, operationKind: running.kind } } : {}),
  });
}

const pendingConditions = (generation: number, reason: string, message: string, now: Date): Condition[] =>
  setCondition([], { type: 'Progressing', status: 'True', reason, message, observedGeneration: generation }, now);

/** Stores a new operation for the reconciler, with an `Accepted` condition. */
export async function startOperation(
  repo: ProvisionerRepository,
  kind: OperationKind,
  target: { org: string; app: string | null; generation: number },
  input: OperationInput,
  createdBy: string,
  at: Date,
): Promise<OperationRecord> {
  const message = `${kind} accepted from ${createdBy}${input.revision === undefined ? '' : ` for release ${input.revision}`}`;
  const operation = await repo.insertOperation(
    { kind, ...target, input, createdBy, conditions: pendingConditions(target.generation, 'Accepted', message, at) },
    at,
  );
  await repo.appendEvents(operation.id, [
    {
      at: at.toISOString(),
      source: 'reconciler',
      type: 'Normal',
      reason: 'Accepted',
      message,
      replica: null,
      revision: null,
    },
  ]);
  return operation;
}

/** The replica target after new bounds: the current one kept when it still fits, else clamped, at least 1 when allowed. */
export function replicasWithin(current: number | undefined, min: number, max: number): number {
  const wanted = current ?? Math.max(min, 1);
  return Math.min(Math.max(wanted, min), max);
}

/**
 * The provisioner's write commands. Each runs in one transaction that locks the org's cluster row,
 * so two calls for one org never interleave; at most one operation per cluster or app is active
 * (also enforced by a unique index), and a second conflicting one is a 409 naming the first.
 */
/** Locks the cluster and answers its record with the active operations of the org. */
async function lockedCluster(repo: ProvisionerRepository, org: string) {
  const cluster = await repo.getCluster(org, { lock: true });
  return { cluster, active: cluster ? await repo.activeOperations(org) : [] };
}

/** The cluster, unless there is none (404) or it is being deleted (409). */
function requireUsableCluster(cluster: ClusterRecord | null, org: string): ClusterRecord {
  if (!cluster) throw notFound(`Org ${org} has no cluster; the platform operator creates it first.`);
  if (cluster.phase === 'Deleting') throw conflict(`The cluster of ${org} is being deleted.`);
  return cluster;
}

/** Creates or updates an org's cluster; the same spec again starts nothing new. */
async function putClusterTx(
  repo: ProvisionerRepository,
  at: Date,
  org: string,
  spec: ClusterSpec,
  actor: string,
): Promise<Outcome<ClusterRecord>> {
  let { cluster, active } = await lockedCluster(repo, org);
  if (!cluster) {
    const created = await repo.insertCluster(org, spec, at);
    if (created) {
      const first = { org, app: null, generation: 1 };
      const operation = await startOperation(repo, 'cluster.apply', first, {}, actor, at);
      return { status: 202, resource: created, operation };
    }
    // A concurrent first PUT made it (PostgreSQL): take its lock and go on as for an existing cluster.
    ({ cluster, active } = await lockedCluster(repo, org));
    if (!cluster) throw new Error(`cluster ${org} vanished while being created`);
  }
  if (cluster.phase === 'Deleting') throw conflict(`The cluster of ${org} is being deleted.`);
  const running = active.find((op) => op.app === null);
  if (sameJson(cluster.spec, spec)) {
    if (running) return { status: 202, resource: cluster, operation: running };
    if (cluster.phase !== 'Failed') return { status: 200, resource: cluster, operation: null };
  } else if (running) {
    throw conflict(`Operation ${running.id} (${running.kind}) is still running on the cluster of ${org}.`, running);
  }
  const updated = sameJson(cluster.spec, spec) ? cluster : await repo.updateClusterSpec(org, spec, at);
  const operation = await startOperation(
    repo,
    'cluster.apply',
    { org, app: null, generation: updated.generation },
    {},
    actor,
    at,
  );
  return { status: 202, resource: updated, operation };
}

/** Deletes an org's cluster; one with apps only with `force`, which removes them first. */
async function deleteClusterTx(
  repo: ProvisionerRepository,
  at: Date,
  org: string,
  force: boolean,
  actor: string,
): Promise<Outcome<ClusterRecord>> {
  const { cluster, active } = await lockedCluster(repo, org);
  if (!cluster) throw notFound(`Org ${org} has no cluster.`);
  const deleting = active.find((op) => op.kind === 'cluster.delete');
  if (deleting) return { status: 202, resource: cluster, operation: deleting };
  if (active.length > 0) {
    throw conflict(`Operation ${active[0]?.id} (${active[0]?.kind}) is still running in ${org}.`, active[0]);
  }
  const apps = await repo.listApps(org);
  if (apps.length > 0 && !force) {
    throw conflict(
      `The cluster of ${org} still runs ${apps.length} app(s) (${apps.map((a) => a.app).join(', ')}); delete them first or pass ?force=true.`,
    );
  }
  await repo.markClusterDeleting(org, at);
  const operation = await startOperation(
    repo,
    'cluster.delete',
    { org, app: null, generation: cluster.generation },
    { force },
    actor,
    at,
  );
  return { status: 202, resource: { ...cluster, phase: 'Deleting' }, operation };
}

/** Creates or updates an app: a changed release starts a rollout, changed bounds alone a scale. */
async function putAppTx(
  repo: ProvisionerRepository,
  at: Date,
  org: string,
  app: string,
  request: AppRequest,
  actor: string,
): Promise<Outcome<AppRecord>> {
  const { cluster, active } = await lockedCluster(repo, org);
  requireUsableCluster(cluster, org);
  const running = active.find((op) => op.app === app);
  const current = await repo.getApp(org, app);
  const { minReplicas, maxReplicas } = request.scale;
  const scale: AppScale = {
    minReplicas,
    maxReplicas,
    replicas: replicasWithin(request.scale.replicas ?? current?.scale.replicas, minReplicas, maxReplicas),
  };
  if (!current) {
    const inserted = await repo.insertApp(org, app, scale, at);
    await repo.setAppSettings(org, app, request.settings, at);
    const created = { ...inserted, ...request.settings };
    await repo.insertRelease(org, app, {
      revision: 1,
      spec: request.release,
      createdAt: at.toISOString(),
      createdBy: actor,
    });
    const operation = await startOperation(repo, 'app.deploy', { org, app, generation: 1 }, { revision: 1 }, actor, at);
    return { status: 202, resource: created, operation };
  }
  if (current.phase === 'Deleting') throw conflict(`App ${org}/${app} is being deleted.`, running);
  if (
    current.autoRollback !== request.settings.autoRollback ||
    current.progressDeadlineSeconds !== request.settings.progressDeadlineSeconds ||
    !sameJson(current.autoscaling, request.settings.autoscaling)
  ) {
    await repo.setAppSettings(org, app, request.settings, at);
    Object.assign(current, request.settings);
  }
  const release = await repo.getRelease(org, app, current.desiredRevision);
  const sameRelease = release !== null && sameJson(release.spec, request.release);
  // Without a replica count the current one is kept when it fits the bounds (replicasWithin).
  const sameScale = sameJson(current.scale, scale);
  if (sameRelease && sameScale) {
    if (running) return { status: 202, resource: current, operation: running };
    if (current.phase !== 'Failed') return { status: 200, resource: current, operation: null };
  } else if (running) {
    throw conflict(`Operation ${running.id} (${running.kind}) is still running on ${org}/${app}.`, running);
  }
  let revision = current.desiredRevision;
  if (!sameRelease) {
    revision = (await repo.latestRevision(org, app)) + 1;
    await repo.insertRelease(org, app, {
      revision,
      spec: request.release,
      createdAt: at.toISOString(),
      createdBy: actor,
    });
  }
  const updated = await repo.updateAppDesired(org, app, { revision, scale }, at);
  const kind = sameRelease && current.phase !== 'Failed' ? 'app.scale' : 'app.deploy';
  const operation = await startOperation(
    repo,
    kind,
    { org, app, generation: updated.generation },
    { revision },
    actor,
    at,
  );
  return { status: 202, resource: updated, operation };
}

/** Changes an app's replica target and/or bounds, keeping its release. */
async function scaleAppTx(
  repo: ProvisionerRepository,
  at: Date,
  org: string,
  app: string,
  request: { replicas?: number; minReplicas?: number; maxReplicas?: number },
  actor: string,
): Promise<Outcome<AppRecord>> {
  const { cluster, active } = await lockedCluster(repo, org);
  requireUsableCluster(cluster, org);
  const current = await repo.getApp(org, app);
  if (!current) throw notFound(`App ${org}/${app} does not exist.`);
  const minReplicas = request.minReplicas ?? current.scale.minReplicas;
  const maxReplicas = request.maxReplicas ?? current.scale.maxReplicas;
  const errors = [];
  if (minReplicas > maxReplicas)
    errors.push({ field: 'minReplicas', detail: `must not be greater than maxReplicas (${maxReplicas})` });
  if (request.replicas !== undefined && (request.replicas < minReplicas || request.replicas > maxReplicas)) {
    errors.push({
      field: 'replicas',
      detail: `must lie between minReplicas (${minReplicas}) and maxReplicas (${maxReplicas})`,
    });
  }
  if (errors.length > 0) {
    throw new Problem(400, {
      kind: 'validation',
      title: 'Invalid request',
      detail: `Invalid body: ${errors.map((e) => `${e.field} (${e.detail})`).join('; ')}.`,
      errors,
    });
  }
  const scale = {
    minReplicas,
    maxReplicas,
    replicas: replicasWithin(request.replicas ?? current.scale.replicas, minReplicas, maxReplicas),
  };
  const running = active.find((op) => op.app === app);
  if (current.phase === 'Deleting') throw conflict(`App ${org}/${app} is being deleted.`, running);
  if (sameJson(scale, current.scale)) {
    if (running) return { status: 202, resource: current, operation: running };
    return { status: 200, resource: current, operation: null };
  }
  if (running) throw conflict(`Operation ${running.id} (${running.kind}) is still running on ${org}/${app}.`, running);
  const updated = await repo.updateAppDesired(org, app, { revision: current.desiredRevision, scale }, at);
  const kind = current.phase === 'Failed' ? 'app.deploy' : 'app.scale';
  const operation = await startOperation(
    repo,
    kind,
    { org, app, generation: updated.generation },
    { revision: current.desiredRevision },
    actor,
    at,
  );
  return { status: 202, resource: updated, operation };
}

/** Rolls an app back to `revision`, or to the release it served before the current one. */
async function rollbackAppTx(
  repo: ProvisionerRepository,
  at: Date,
  org: string,
  app: string,
  revision: number | undefined,
  actor: string,
): Promise<Outcome<AppRecord>> {
  const { cluster, active } = await lockedCluster(repo, org);
  requireUsableCluster(cluster, org);
  const current = await repo.getApp(org, app);
  if (!current) throw notFound(`App ${org}/${app} does not exist.`);
  const running = active.find((op) => op.app === app);
  if (running) throw conflict(`Operation ${running.id} (${running.kind}) is still running on ${org}/${app}.`, running);
  if (current.phase === 'Deleting') throw conflict(`App ${org}/${app} is being deleted.`);
  const target = revision ?? (await repo.previousServedRevision(org, app, current.desiredRevision));
  if (target === null) throw notFound(`App ${org}/${app} has served no earlier release to roll back to.`);
  if ((await repo.getRelease(org, app, target)) === null) {
    throw notFound(`App ${org}/${app} has no release ${target}; GET its releases to see them.`);
  }
  if (target === current.desiredRevision && current.phase === 'Ready') {
    return { status: 200, resource: current, operation: null };
  }
  const updated = await repo.updateAppDesired(org, app, { revision: target, scale: current.scale }, at);
  const operation = await startOperation(
    repo,
    'app.rollback',
    { org, app, generation: updated.generation },
    { revision: target },
    actor,
    at,
  );
  return { status: 202, resource: updated, operation };
}

/** Removes an app: its route first, then its workload. */
async function deleteAppTx(
  repo: ProvisionerRepository,
  at: Date,
  org: string,
  app: string,
  actor: string,
): Promise<Outcome<AppRecord>> {
  const { cluster, active } = await lockedCluster(repo, org);
  if (!cluster) throw notFound(`Org ${org} has no cluster.`);
  const current = await repo.getApp(org, app);
  if (!current) throw notFound(`App ${org}/${app} does not exist.`);
  const running = active.find((op) => op.app === app);
  if (running?.kind === 'app.delete') return { status: 202, resource: current, operation: running };
  if (running) throw conflict(`Operation ${running.id} (${running.kind}) is still running on ${org}/${app}.`, running);
  const clusterOp = active.find((op) => op.app === null);
  if (clusterOp?.kind === 'cluster.delete') throw conflict(`The cluster of ${org} is being deleted.`, clusterOp);
  await repo.markAppDeleting(org, app, at);
  const operation = await startOperation(
    repo,
    'app.delete',
    { org, app, generation: current.generation },
    {},
    actor,
    at,
  );
  return { status: 202, resource: { ...current, phase: 'Deleting' }, operation };
}

export function provisionerCommands(options: CommandOptions) {
  const now = options.now ?? (() => new Date());
  const wake = options.wake ?? (() => {});

  async function committed<T>(work: (repo: ProvisionerRepository, at: Date) => Promise<Outcome<T>>) {
    const outcome = await options.db.transaction((tx) => work(provisionerRepository(tx), now()));
    if (outcome.operation?.status === 'NotStarted') wake();
    return outcome;
  }

  return {
    /** Creates or updates an org's cluster; the same spec again starts nothing new. */
    putCluster(org: string, spec: ClusterSpec, actor: string): Promise<Outcome<ClusterRecord>> {
      return committed((repo, at) => putClusterTx(repo, at, org, spec, actor));
    },

    /** Deletes an org's cluster; one with apps only with `force`, which removes them first. */
    deleteCluster(org: string, force: boolean, actor: string): Promise<Outcome<ClusterRecord>> {
      return committed((repo, at) => deleteClusterTx(repo, at, org, force, actor));
    },

    /** Creates or updates an app: a changed release starts a rollout, changed bounds alone a scale. */
    putApp(org: string, app: string, request: AppRequest, actor: string): Promise<Outcome<AppRecord>> {
      return committed((repo, at) => putAppTx(repo, at, org, app, request, actor));
    },

    /** Changes an app's replica target and/or bounds, keeping its release. */
    scaleApp(
      org: string,
      app: string,
      request: { replicas?: number; minReplicas?: number; maxReplicas?: number },
      actor: string,
    ): Promise<Outcome<AppRecord>> {
      return committed((repo, at) => scaleAppTx(repo, at, org, app, request, actor));
    },

    /** Rolls an app back to `revision`, or to the release it served before the current one. */
    rollbackApp(org: string, app: string, revision: number | undefined, actor: string): Promise<Outcome<AppRecord>> {
      return committed((repo, at) => rollbackAppTx(repo, at, org, app, revision, actor));
    },

    /** Removes an app: its route first, then its workload. */
    deleteApp(org: string, app: string, actor: string): Promise<Outcome<AppRecord>> {
      return committed((repo, at) => deleteAppTx(repo, at, org, app, actor));
    },
  };
}

/** The commands' type. */
export type ProvisionerCommands = ReturnType<typeof provisionerCommands>;
