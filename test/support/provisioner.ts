import type { Database } from '../../platform/src/db/index.js';
import { createPlatformAuth, type PlatformAuth } from '../../platform/src/index.js';
import { createLogger } from '../../platform/src/logging/index.js';
import type { UsageSource } from '../../provisioner/src/autoscale/index.js';
import type { ProvisionerConfig } from '../../provisioner/src/config.js';
import { createProvisioner, type Provisioner } from '../../provisioner/src/index.js';
import {
  type AppDesired,
  type AppScale,
  type ClusterReady,
  type ClusterSpec,
  noRollout,
  type Provider,
  type ProviderError,
  type ProviderEvent,
  type ProviderState,
  type ReplicaLogs,
  type RolloutStatus,
  type Step,
} from '../../provisioner/src/providers/types.js';
import type { EdgeRoutes } from '../../provisioner/src/reconcile/edge-routes.js';
import { openTestDatabase } from './database.js';

/** The admin token test provisioners accept. */
export const ADMIN_TOKEN = 'test-provisioner-admin-token';

/** A provider whose behaviour a test scripts: how many polls things take, and which errors come when. */
export class ScriptedProvider implements Provider {
  readonly name = 'scripted';
  /** Polls of ensureCluster before it is done. */
  clusterPolls = 1;
  /** Polls of rolloutStatus before a rollout completes; Infinity never completes. */
  rolloutPolls = 1;
  /** Errors thrown by the next calls of a method, first first. */
  readonly failures = new Map<string, ProviderError[]>();
  /** Every call, as `method org[/app]`, with the state or desired value it got. */
  readonly calls: { method: string; target: string; arg?: unknown }[] = [];
  readonly clusters = new Set<string>();
  readonly apps = new Map<string, { desired: AppDesired; polls: number; scale: AppScale }>();
  failure: RolloutStatus['failure'];
  /** Rollout failures of particular release revisions. */
  readonly revisionFailures = new Map<number, NonNullable<RolloutStatus['failure']>>();
  /** Events appEvents answers for every app, oldest first (a test pushes them). */
  readonly events: ProviderEvent[] = [];

  /** `journal` receives `provider <method> <target>` lines, shared with a RecordingEdge to show order. */
  constructor(readonly journal: string[] = []) {}

  private record(method: string, target: string, arg?: unknown): void {
    this.calls.push({ method, target, arg });
    this.journal.push(`provider ${method} ${target}`);
  }

  private fail(method: string): void {
    const error = this.failures.get(method)?.shift();
    if (error) throw error;
  }

  async ensureCluster(org: string, spec: ClusterSpec, state: ProviderState | undefined): Promise<Step<ClusterReady>> {
    this.record('ensureCluster', org, state);
    this.fail('ensureCluster');
    const polls = Number(state?.polls ?? 0);
    if (polls < this.clusterPolls) {
      return {
        kind: 'pending',
        state: { polls: polls + 1, region: spec.region },
        retryAfterMs: 1000,
        message: 'Creating',
      };
    }
    this.clusters.add(org);
    return { kind: 'done', state: {}, result: { ingressUrl: `http://ingress.test/${org}` } };
  }

  async observeCluster(org: string): Promise<boolean> {
    return this.clusters.has(org);
  }

  async deleteCluster(org: string): Promise<Step<null>> {
    this.record('deleteCluster', org);
    this.fail('deleteCluster');
    this.clusters.delete(org);
    return { kind: 'done', state: {}, result: null };
  }

  async applyApp(org: string, app: string, desired: AppDesired): Promise<void> {
    this.record('applyApp', `${org}/${app}`, desired);
    this.fail('applyApp');
    this.apps.set(`${org}/${app}`, { desired, polls: 0, scale: desired.scale });
  }

  async scaleApp(org: string, app: string, scale: AppScale): Promise<void> {
    this.record('scaleApp', `${org}/${app}`, scale);
    this.fail('scaleApp');
    const entry = this.apps.get(`${org}/${app}`);
    if (entry) Object.assign(entry, { scale, polls: 0 });
  }

  async rolloutStatus(org: string, app: string): Promise<RolloutStatus> {
    this.fail('rolloutStatus');
    const entry = this.apps.get(`${org}/${app}`);
    if (!entry) {
      return noRollout();
    }
    entry.polls++;
    const complete = entry.polls > this.rolloutPolls;
    const replicas = entry.scale.replicas;
    return {
      revision: entry.desired.release.revision,
      replicas,
      updatedReplicas: complete ? replicas : 0,
      readyReplicas: complete ? replicas : 0,
      availableReplicas: complete ? replicas : 0,
      oldReplicas: complete ? 0 : replicas,
      complete,
      ...(this.failure ? { failure: this.failure } : {}),
      ...(this.revisionFailures.has(entry.desired.release.revision)
        ? { failure: this.revisionFailures.get(entry.desired.release.revision), complete: false }
        : {}),
    };
  }

  async appEvents(): Promise<ProviderEvent[]> {
    return [...this.events];
  }

  async appLogs(org: string, app: string): Promise<ReplicaLogs[]> {
    const entry = this.apps.get(`${org}/${app}`);
    if (!entry) return [];
    const revision = entry.desired.release.revision;
    return [
      {
        replica: `${app}-r${revision}-a`,
        revision,
        lines: [{ at: new Date(0).toISOString(), stream: 'stderr', line: `revision ${revision} failed to start` }],
      },
    ];
  }

  async deleteApp(org: string, app: string): Promise<Step<null>> {
    this.record('deleteApp', `${org}/${app}`);
    this.fail('deleteApp');
    this.apps.delete(`${org}/${app}`);
    return { kind: 'done', state: {}, result: null };
  }

  async close(): Promise<void> {}
}

/** An edge route table in memory that records each change in order. */
export class RecordingEdge implements EdgeRoutes {
  readonly changes: string[] = [];
  /** `journal` receives `edge <change>` lines, shared with a ScriptedProvider to show order. */
  constructor(readonly journal: string[] = []) {}
  private change(line: string): void {
    this.changes.push(line);
    this.journal.push(`edge ${line}`);
  }
  readonly orgs = new Map<string, string>();
  readonly apps = new Set<string>();
  async putOrg(org: string, clusterBase: string) {
    this.change(`putOrg ${org} ${clusterBase}`);
    this.orgs.set(org, clusterBase);
  }
  async deleteOrg(org: string) {
    this.change(`deleteOrg ${org}`);
    this.orgs.delete(org);
    for (const key of [...this.apps]) if (key.startsWith(`${org}/`)) this.apps.delete(key);
  }
  async putApp(org: string, app: string) {
    this.change(`putApp ${org}/${app}`);
    this.apps.add(`${org}/${app}`);
  }
  async deleteApp(org: string, app: string) {
    this.change(`deleteApp ${org}/${app}`);
    this.apps.delete(`${org}/${app}`);
  }
}

/** A provisioner on a test database with a scripted provider, a recording edge and a clock the test moves. */
export interface ProvisionerHarness {
  db: Database;
  auth: PlatformAuth;
  provider: ScriptedProvider;
  edge: RecordingEdge;
  /** Provider calls and edge changes in the order they happened. */
  journal: string[];
  provisioner: Provisioner;
  /** The clock every part reads; `advance(ms)` moves it. */
  clock: { now: Date; advance(ms: number): void };
  /** Calls the API: `path` below `/provisioner/api/v1`, bearer `token` (the admin's by default). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<Response>;
  /** An org token with `altinn:appdeploy` (or the scopes given). */
  orgToken(org: string, scopes?: string[]): Promise<string>;
  /** Runs reconciler passes, moving the clock past each wait, until nothing is left to do (or `max`). */
  settle(max?: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens a provisioner harness; `config` overrides the test settings. */
export async function openProvisionerHarness(
  config: Partial<ProvisionerConfig> = {},
  options: { usage?: UsageSource } = {},
): Promise<ProvisionerHarness> {
  const db = await openTestDatabase();
  const clock = {
    now: new Date('2026-11-25T12:00:00Z'),
    advance(ms: number) {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
  const now = () => clock.now;
  const auth = createPlatformAuth(db, 'http://platform.test/authentication/api/v1/openid/', now);
  const journal: string[] = [];
  const provider = new ScriptedProvider(journal);
  const edge = new RecordingEdge(journal);
  const provisioner = createProvisioner({
    db,
    logger: createLogger({ level: 'error' }),
    verifier: auth.verifier,
    provider,
    edge,
    now,
    ...(options.usage ? { usage: options.usage } : {}),
    config: {
      provider: 'local',
      adminToken: ADMIN_TOKEN,
      edge: undefined,
      platformUrl: 'http://platform.test',
      pollMs: 500,
      progressDeadlineMs: 60_000,
      reconcileIntervalMs: 1000,
      reconcileSliceMs: 1000,
      autoscale: { enabled: true, intervalMs: 1000 },
      azure: undefined,
      ...config,
    },
  });
  return {
    db,
    auth,
    provider,
    edge,
    journal,
    provisioner,
    clock,
    call(method, path, body, token = ADMIN_TOKEN) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      return Promise.resolve(
        provisioner.api.request(`/provisioner/api/v1${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        }),
      );
    },
    orgToken: (org, scopes = ['altinn:appdeploy']) => auth.issuer.orgToken({ org, scopes }),
    async settle(max = 50) {
      for (let i = 0; i < max; i++) {
        const stepped = await provisioner.reconciler.pass();
        const due = await db.query<{ next: Date | string }>(
          `SELECT min(next_attempt_at) AS next FROM operations WHERE status IN ('NotStarted', 'Running')`,
        );
        const next = due[0]?.next;
        if (!next) return;
        const wait = new Date(next).getTime() - clock.now.getTime();
        if (wait > 0) clock.advance(wait);
        else if (stepped === 0) clock.advance(1);
      }
      throw new Error(`operations still running after ${max} passes`);
    },
    async close() {
      await provisioner.close();
      await db.close();
    },
  };
}
