import { randomUUID } from 'node:crypto';
import type { Queryable, Row } from '../../../platform/src/db/index.js';
import type { AppScale, ClusterSpec, ProviderState } from '../providers/types.js';
import type {
  AppPhase,
  AppRecord,
  AppSettings,
  ClusterPhase,
  ClusterRecord,
  Condition,
  OperationEvent,
  OperationInput,
  OperationKind,
  OperationRecord,
  OperationStatus,
  ReleaseRecord,
  ReleaseSpec,
} from './types.js';
import { type AutoscalingSpec, DEFAULT_AUTOSCALING } from './types.js';

const iso = (value: unknown): string => (value instanceof Date ? value : new Date(String(value))).toISOString();
const isoOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : iso(value));
const json = (value: unknown): string => JSON.stringify(value);

function clusterOf(row: Row): ClusterRecord {
  return {
    org: String(row.org),
    spec: row.spec as ClusterSpec,
    generation: Number(row.generation),
    observedGeneration: Number(row.observed_generation),
    phase: row.phase as ClusterPhase,
    ingressUrl: (row.ingress_url as string | null) ?? null,
    conditions: row.conditions as Condition[],
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function appOf(row: Row): AppRecord {
  return {
    org: String(row.org),
    app: String(row.app),
    generation: Number(row.generation),
    observedGeneration: Number(row.observed_generation),
    desiredRevision: Number(row.desired_revision),
    servingRevision: row.serving_revision === null ? null : Number(row.serving_revision),
    scale: {
      minReplicas: Number(row.min_replicas),
      maxReplicas: Number(row.max_replicas),
      replicas: Number(row.replicas),
    },
    autoRollback: row.auto_rollback !== false,
    progressDeadlineSeconds: row.progress_deadline_seconds === null ? null : Number(row.progress_deadline_seconds),
    autoscaling: { ...DEFAULT_AUTOSCALING, ...((row.autoscaling as Partial<AutoscalingSpec> | null) ?? {}) },
    phase: row.phase as AppPhase,
    conditions: row.conditions as Condition[],
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function operationOf(row: Row): OperationRecord {
  return {
    id: String(row.id),
    kind: row.kind as OperationKind,
    org: String(row.org),
    app: (row.app as string | null) ?? null,
    generation: Number(row.generation),
    status: row.status as OperationStatus,
    phase: String(row.phase),
    input: row.input as OperationInput,
    providerState: (row.provider_state as ProviderState | null) ?? null,
    conditions: row.conditions as Condition[],
    error: (row.error as OperationRecord['error']) ?? null,
    logs: (row.logs as OperationRecord['logs']) ?? null,
    attempts: Number(row.attempts),
    nextAttemptAt: iso(row.next_attempt_at),
    createdBy: String(row.created_by),
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    updatedAt: iso(row.updated_at),
    completedAt: isoOrNull(row.completed_at),
  };
}

/** Status fields of a cluster the reconciler writes. */
export interface ClusterStatusUpdate {
  phase: ClusterPhase;
  ingressUrl?: string | null;
  conditions: Condition[];
  observedGeneration?: number;
}

/** Status fields of an app the reconciler writes. */
export interface AppStatusUpdate {
  phase: AppPhase;
  conditions: Condition[];
  servingRevision?: number | null;
  /** After an automatic rollback the release rolled back to is what the app should run again. */
  desiredRevision?: number;
  observedGeneration?: number;
}

/** A new operation. */
export interface NewOperation {
  kind: OperationKind;
  org: string;
  app: string | null;
  generation: number;
  input: OperationInput;
  createdBy: string;
  conditions: Condition[];
}

/** Fields of an operation a reconciler step changes. */
export type OperationUpdate = Partial<
  Pick<
    OperationRecord,
    | 'status'
    | 'phase'
    | 'providerState'
    | 'conditions'
    | 'error'
    | 'logs'
    | 'attempts'
    | 'nextAttemptAt'
    | 'startedAt'
    | 'completedAt'
  >
>;

const OPERATION_COLUMNS: Record<keyof OperationUpdate, string> = {
  status: 'status',
  phase: 'phase',
  providerState: 'provider_state',
  conditions: 'conditions',
  error: 'error',
  logs: 'logs',
  attempts: 'attempts',
  nextAttemptAt: 'next_attempt_at',
  startedAt: 'started_at',
  completedAt: 'completed_at',
};

/** The SQL of clusters: desired spec, status, deletion. */
function clusterQueries(q: Queryable) {
  return {
    async getCluster(org: string, options: { lock?: boolean } = {}): Promise<ClusterRecord | null> {
      const rows = await q.query(`SELECT * FROM clusters WHERE org = $1${options.lock ? ' FOR UPDATE' : ''}`, [org]);
      return rows[0] ? clusterOf(rows[0]) : null;
    },
    async listClusters(): Promise<ClusterRecord[]> {
      return (await q.query('SELECT * FROM clusters ORDER BY org')).map(clusterOf);
    },
    /** Inserts a new cluster; null when another transaction made it first (then lock and read it). */
    async insertCluster(org: string, spec: ClusterSpec, now: Date): Promise<ClusterRecord | null> {
      const rows = await q.query(
        `INSERT INTO clusters (org, spec, phase, created_at, updated_at)
         VALUES ($1, $2, 'Provisioning', $3, $3) ON CONFLICT (org) DO NOTHING RETURNING *`,
        [org, json(spec), now],
      );
      return rows[0] ? clusterOf(rows[0]) : null;
    },
    async updateClusterSpec(org: string, spec: ClusterSpec, now: Date): Promise<ClusterRecord> {
      const rows = await q.query(
        `UPDATE clusters SET spec = $2, generation = generation + 1, phase = 'Provisioning', updated_at = $3
         WHERE org = $1 RETURNING *`,
        [org, json(spec), now],
      );
      return clusterOf(rows[0] as Row);
    },
    async markClusterDeleting(org: string, now: Date): Promise<void> {
      await q.query(`UPDATE clusters SET phase = 'Deleting', updated_at = $2 WHERE org = $1`, [org, now]);
    },
    async setClusterStatus(org: string, status: ClusterStatusUpdate, now: Date): Promise<void> {
      await q.query(
        `UPDATE clusters SET phase = $2, conditions = $3, updated_at = $4,
           ingress_url = CASE WHEN $5::boolean THEN $6 ELSE ingress_url END,
           observed_generation = COALESCE($7, observed_generation)
         WHERE org = $1`,
        [
          org,
          status.phase,
          json(status.conditions),
          now,
          status.ingressUrl !== undefined,
          status.ingressUrl ?? null,
          status.observedGeneration ?? null,
        ],
      );
    },
    async deleteCluster(org: string): Promise<void> {
      await q.query('DELETE FROM clusters WHERE org = $1', [org]);
    },
  };
}

/** The SQL of apps: desired release and scale, settings, status. */
function appQueries(q: Queryable) {
  return {
    async getApp(org: string, app: string): Promise<AppRecord | null> {
      const rows = await q.query('SELECT * FROM cluster_apps WHERE org = $1 AND app = $2', [org, app]);
      return rows[0] ? appOf(rows[0]) : null;
    },
    async listApps(org?: string): Promise<AppRecord[]> {
      const rows =
        org === undefined
          ? await q.query('SELECT * FROM cluster_apps ORDER BY org, app')
          : await q.query('SELECT * FROM cluster_apps WHERE org = $1 ORDER BY app', [org]);
      return rows.map(appOf);
    },
    async insertApp(org: string, app: string, scale: AppScale, now: Date): Promise<AppRecord> {
      const rows = await q.query(
        `INSERT INTO cluster_apps (org, app, desired_revision, min_replicas, max_replicas, replicas, phase, created_at, updated_at)
         VALUES ($1, $2, 1, $3, $4, $5, 'Deploying', $6, $6) RETURNING *`,
        [org, app, scale.minReplicas, scale.maxReplicas, scale.replicas, now],
      );
      return appOf(rows[0] as Row);
    },
    /** Changes what the app should run: a new generation with `revision` and `scale`. */
    async updateAppDesired(
      org: string,
      app: string,
      desired: { revision: number; scale: AppScale },
      now: Date,
    ): Promise<AppRecord> {
      const rows = await q.query(
        `UPDATE cluster_apps SET desired_revision = $3, min_replicas = $4, max_replicas = $5, replicas = $6,
           generation = generation + 1, phase = 'Deploying', updated_at = $7
         WHERE org = $1 AND app = $2 RETURNING *`,
        [org, app, desired.revision, desired.scale.minReplicas, desired.scale.maxReplicas, desired.scale.replicas, now],
      );
      return appOf(rows[0] as Row);
    },
    /** Sets an app's rollout settings; they take effect at its next rollout. */
    async setAppSettings(org: string, app: string, settings: AppSettings, now: Date): Promise<void> {
      await q.query(
        `UPDATE cluster_apps SET auto_rollback = $3, progress_deadline_seconds = $4, autoscaling = $5, updated_at = $6
         WHERE org = $1 AND app = $2`,
        [org, app, settings.autoRollback, settings.progressDeadlineSeconds, JSON.stringify(settings.autoscaling), now],
      );
    },
    async markAppDeleting(org: string, app: string, now: Date): Promise<void> {
      await q.query(`UPDATE cluster_apps SET phase = 'Deleting', updated_at = $3 WHERE org = $1 AND app = $2`, [
        org,
        app,
        now,
      ]);
    },
    async setAppStatus(org: string, app: string, status: AppStatusUpdate, now: Date): Promise<void> {
      await q.query(
        `UPDATE cluster_apps SET phase = $3, conditions = $4, updated_at = $5,
           serving_revision = CASE WHEN $6::boolean THEN $7 ELSE serving_revision END,
           observed_generation = COALESCE($8, observed_generation),
           desired_revision = COALESCE($9, desired_revision)
         WHERE org = $1 AND app = $2`,
        [
          org,
          app,
          status.phase,
          json(status.conditions),
          now,
          status.servingRevision !== undefined,
          status.servingRevision ?? null,
          status.observedGeneration ?? null,
          status.desiredRevision ?? null,
        ],
      );
    },
    async deleteApp(org: string, app: string): Promise<void> {
      await q.query('DELETE FROM cluster_apps WHERE org = $1 AND app = $2', [org, app]);
    },
  };
}

/** The SQL of app releases. */
function releaseQueries(q: Queryable) {
  return {
    async insertRelease(org: string, app: string, release: ReleaseRecord): Promise<void> {
      await q.query(
        `INSERT INTO app_releases (org, app, revision, spec, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
        [org, app, release.revision, json(release.spec), release.createdAt, release.createdBy],
      );
    },
    async getRelease(org: string, app: string, revision: number): Promise<ReleaseRecord | null> {
      const rows = await q.query('SELECT * FROM app_releases WHERE org = $1 AND app = $2 AND revision = $3', [
        org,
        app,
        revision,
      ]);
      const row = rows[0];
      return row ? releaseOf(row) : null;
    },
    async listReleases(org: string, app: string): Promise<ReleaseRecord[]> {
      const rows = await q.query('SELECT * FROM app_releases WHERE org = $1 AND app = $2 ORDER BY revision DESC', [
        org,
        app,
      ]);
      return rows.map(releaseOf);
    },
    async latestRevision(org: string, app: string): Promise<number> {
      const rows = await q.query<{ max: unknown }>(
        'SELECT max(revision) AS max FROM app_releases WHERE org = $1 AND app = $2',
        [org, app],
      );
      return rows[0]?.max === null || rows[0]?.max === undefined ? 0 : Number(rows[0].max);
    },
  };
}

/** The SQL of operations: start, claim (with a lease), update, list. */
function operationQueries(q: Queryable) {
  return {
    async insertOperation(operation: NewOperation, now: Date): Promise<OperationRecord> {
      const rows = await q.query(
        `INSERT INTO operations (id, kind, org, app, generation, status, phase, input, conditions,
           next_attempt_at, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'NotStarted', 'start', $6, $7, $8, $9, $8, $8) RETURNING *`,
        [
          randomUUID(),
          operation.kind,
          operation.org,
          operation.app,
          operation.generation,
          json(operation.input),
          json(operation.conditions),
          now,
          operation.createdBy,
        ],
      );
      return operationOf(rows[0] as Row);
    },
    async getOperation(id: string): Promise<OperationRecord | null> {
      const rows = await q.query('SELECT * FROM operations WHERE id = $1', [id]);
      return rows[0] ? operationOf(rows[0]) : null;
    },
    /** Unfinished operations of an org: on its cluster (`app` null) and on any of its apps. */
    async activeOperations(org: string): Promise<OperationRecord[]> {
      const rows = await q.query(
        `SELECT * FROM operations WHERE org = $1 AND status IN ('NotStarted', 'Running') ORDER BY created_at`,
        [org],
      );
      return rows.map(operationOf);
    },
    /** Operations on an org's cluster (`app` null) or on one app, newest first. */
    async listOperations(org: string, app: string | null, limit: number): Promise<OperationRecord[]> {
      const rows =
        app === null
          ? await q.query('SELECT * FROM operations WHERE org = $1 ORDER BY created_at DESC LIMIT $2', [org, limit])
          : await q.query('SELECT * FROM operations WHERE org = $1 AND app = $2 ORDER BY created_at DESC LIMIT $3', [
              org,
              app,
              limit,
            ]);
      return rows.map(operationOf);
    },
    /**
     * Takes a lease on up to `limit` due operations no other reconciler holds, oldest first, so that
     * several function instances never step the same operation at once.
     */
    async claimDueOperations(now: Date, leaseMs: number, limit: number): Promise<OperationRecord[]> {
      const rows = await q.query(
        `UPDATE operations SET lease_until = $2
         WHERE id IN (
           SELECT id FROM operations
           WHERE status IN ('NotStarted', 'Running') AND next_attempt_at <= $1
             AND (lease_until IS NULL OR lease_until < $1)
           ORDER BY next_attempt_at, created_at LIMIT $3
           FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now, new Date(now.getTime() + leaseMs), limit],
      );
      return rows.map(operationOf).sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt));
    },
    async updateOperation(id: string, update: OperationUpdate, now: Date, releaseLease = true): Promise<void> {
      const sets: string[] = ['updated_at = $2'];
      const params: unknown[] = [id, now];
      for (const [key, column] of Object.entries(OPERATION_COLUMNS) as [keyof OperationUpdate, string][]) {
        if (update[key] === undefined) continue;
        const value = update[key];
        params.push(typeof value === 'object' && value !== null ? json(value) : value);
        sets.push(`${column} = $${params.length}`);
      }
      if (releaseLease) sets.push('lease_until = NULL');
      await q.query(`UPDATE operations SET ${sets.join(', ')} WHERE id = $1`, params);
    },
  };
}

/** The SQL of operation timelines, and the release an app served before. */
function operationEventQueries(q: Queryable) {
  return {
    /** Appends events to an operation's timeline, numbered after the ones it has. */
    async appendEvents(operationId: string, events: Omit<OperationEvent, 'operationId' | 'seq'>[]): Promise<void> {
      if (events.length === 0) return;
      const rows = await q.query<{ max: unknown }>(
        'SELECT max(seq) AS max FROM operation_events WHERE operation_id = $1',
        [operationId],
      );
      let seq = rows[0]?.max === null || rows[0]?.max === undefined ? 0 : Number(rows[0].max);
      for (const e of events) {
        seq++;
        await q.query(
          `INSERT INTO operation_events (operation_id, seq, at, source, type, reason, message, replica, revision)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [operationId, seq, e.at, e.source, e.type, e.reason, e.message.slice(0, 2000), e.replica, e.revision],
        );
      }
    },
    /** An operation's timeline, oldest first. */
    async operationEvents(operationId: string): Promise<OperationEvent[]> {
      const rows = await q.query('SELECT * FROM operation_events WHERE operation_id = $1 ORDER BY seq', [operationId]);
      return rows.map(eventOf);
    },
    /** The events of an app's operations, newest first. */
    async appEvents(org: string, app: string, limit: number): Promise<OperationEvent[]> {
      const rows = await q.query(
        `SELECT e.* FROM operation_events e JOIN operations o ON o.id = e.operation_id
         WHERE o.org = $1 AND o.app = $2
           AND o.created_at >= (SELECT created_at FROM cluster_apps WHERE org = $1 AND app = $2)
         ORDER BY e.at DESC, e.seq DESC LIMIT $3`,
        [org, app, limit],
      );
      return rows.map(eventOf);
    },
    /** The latest succeeded rollout (deploy or rollback) of a revision other than `except`, if any. */
    async previousServedRevision(org: string, app: string, except: number): Promise<number | null> {
      const rows = await q.query<{ revision: unknown }>(
        `SELECT (input->>'revision')::int AS revision FROM operations
         WHERE org = $1 AND app = $2 AND kind IN ('app.deploy', 'app.rollback') AND status = 'Succeeded'
           AND (input->>'revision')::int <> $3
           AND created_at >= (SELECT created_at FROM cluster_apps WHERE org = $1 AND app = $2)
         ORDER BY completed_at DESC LIMIT 1`,
        [org, app, except],
      );
      return rows[0] ? Number(rows[0].revision) : null;
    },
  };
}

/** The provisioner's SQL: desired state, releases and operations. */
export function provisionerRepository(q: Queryable) {
  return {
    ...clusterQueries(q),
    ...appQueries(q),
    ...releaseQueries(q),
    ...operationQueries(q),
    ...operationEventQueries(q),
  };
}

function eventOf(row: Row): OperationEvent {
  return {
    operationId: String(row.operation_id),
    seq: Number(row.seq),
    at: iso(row.at),
    source: row.source as OperationEvent['source'],
    type: row.type as OperationEvent['type'],
    reason: String(row.reason),
    message: String(row.message),
    replica: (row.replica as string | null) ?? null,
    revision: row.revision === null || row.revision === undefined ? null : Number(row.revision),
  };
}

function releaseOf(row: Row): ReleaseRecord {
  return {
    revision: Number(row.revision),
    spec: row.spec as ReleaseSpec,
    createdAt: iso(row.created_at),
    createdBy: String(row.created_by),
  };
}

/** The repository's type. */
export type ProvisionerRepository = ReturnType<typeof provisionerRepository>;
