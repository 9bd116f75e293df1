import { fileURLToPath } from 'node:url';
import {
  type AppDesired,
  type AppScale,
  type ClusterReady,
  type ClusterSpec,
  noRollout,
  type Provider,
  ProviderError,
  type ProviderEvent,
  type ProviderState,
  type ReplicaLogs,
  type RolloutStatus,
  type Step,
} from '../types.js';
import { type OrgIngress, startOrgIngress } from './ingress.js';
import {
  DEFAULT_TIMINGS,
  type LogLine,
  type ReplicaInfo,
  type ReplicaTimings,
  type RuntimeCommand,
} from './replica.js';
import { AppController, type AppEvent } from './rollout.js';

export { runsReferenceRuntime } from './image.js';
export type { LogLine, ReplicaInfo, ReplicaTimings, RuntimeCommand } from './replica.js';
export type { AppEvent } from './rollout.js';

/** The few logger methods the provider uses (the platform's Logger fits). */
export interface ProviderLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of LocalProvider. */
export interface LocalProviderOptions {
  /** Base URL of the functions host the apps call (DataServices, Register ...). */
  platformUrl: string;
  /** Mints the app's PlatformAccessToken; called at an app's first apply and every `tokenRefreshMs`. */
  accessTokenFor(org: string, app: string): Promise<string>;
  /** Interface the org ingresses listen on; 127.0.0.1 by default. */
  hostname?: string;
  /**
   * The port an org's ingress should listen on (when free), e.g. a fixed one for the demo org; otherwise the port
   * of the `ingressUrl` in the state handed back (so a restarted provider keeps its edge routes valid), or any.
   */
  ingressPortFor?(org: string): number | undefined;
  /** Probe, backoff and grace timings; DEFAULT_TIMINGS for those not given. */
  timings?: Partial<ReplicaTimings>;
  /** Consecutive crashes of a new replica that fail its rollout as `CrashLoopBackOff`; 3 by default. */
  crashLoopThreshold?: number;
  /**
   * A rollout not complete by then fails as `ProgressDeadlineExceeded` (traffic stays on the old release); 600 000 ms
   * (Kubernetes' 600 s) by default, or per app when a function.
   */
  progressDeadlineMs?: number | ((org: string, app: string) => number);
  /** How often apps get a fresh PlatformAccessToken (they live 30 min); 10 min by default. */
  tokenRefreshMs?: number;
  /** How replicas are started; the reference runtime in `app-runtime/src/server.ts` through tsx by default. */
  runtime?: RuntimeCommand;
  logger?: ProviderLogger;
}

const EVENTS_KEPT = 1000;

/** Event types Kubernetes would report as `Warning`. */
const WARNINGS = new Set(['Exited', 'BackOff', 'Unhealthy', 'Unready', 'ImagePullFailed', 'RolloutFailed']);

/** The reference runtime's entry, run through tsx from the repository root. */
export function defaultRuntimeCommand(): RuntimeCommand {
  return {
    entry: fileURLToPath(new URL('../../../../app-runtime/src/server.ts', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    cwd: fileURLToPath(new URL('../../../../', import.meta.url)),
  };
}

interface OrgCluster {
  ingress: OrgIngress;
  apps: Map<string, AppController>;
}

interface AppToken {
  token: string | undefined;
  timer: NodeJS.Timeout;
}

/**
 * The `local` provider: an org cluster is an HTTP ingress on its own loopback port, and an app replica is a
 * child process of the reference runtime (`app-runtime/`). See README.md beside this file for the image rule
 * and what is modelled on Kubernetes.
 */
export class LocalProvider implements Provider {
  readonly name = 'local';
  private readonly clusters = new Map<string, OrgCluster>();
  private readonly tokens = new Map<string, AppToken>();
  private readonly eventLog: AppEvent[] = [];
  /** Teardowns in progress, by org or `org/app`. */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly timings: ReplicaTimings;
  private readonly command: RuntimeCommand;
  private readonly hostname: string;
  private closed = false;

  constructor(private readonly options: LocalProviderOptions) {
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.command = options.runtime ?? defaultRuntimeCommand();
    this.hostname = options.hostname ?? '127.0.0.1';
  }

  async ensureCluster(org: string, _spec: ClusterSpec, state: ProviderState | undefined): Promise<Step<ClusterReady>> {
    this.assertOpen();
    if (this.stopping.has(org)) {
      return { kind: 'pending', state: {}, retryAfterMs: 250, message: `waiting for ${org}'s earlier cluster to stop` };
    }
    let cluster = this.clusters.get(org);
    if (!cluster) {
      const apps = new Map<string, AppController>();
      const ingress = await startOrgIngress({
        org,
        hostname: this.hostname,
        port: this.options.ingressPortFor?.(org) ?? portOf(state?.ingressUrl),
        backends: { replicasOf: (app) => apps.get(app)?.replicas },
      });
      // Another call may have raced this one while the ingress started.
      const raced = this.clusters.get(org);
      if (raced) {
        await ingress.close();
        cluster = raced;
      } else {
        cluster = { ingress, apps };
        this.clusters.set(org, cluster);
        this.options.logger?.info('org ingress started', { org, url: ingress.url });
      }
    }
    return { kind: 'done', state: { ingressUrl: cluster.ingress.url }, result: { ingressUrl: cluster.ingress.url } };
  }

  /** Whether the org's ingress runs in this process (after a restart of the host it does not, until re-made). */
  async observeCluster(org: string): Promise<boolean> {
    return this.clusters.has(org) && !this.stopping.has(org);
  }

  async deleteCluster(org: string, _state: ProviderState | undefined): Promise<Step<null>> {
    const cluster = this.clusters.get(org);
    if (cluster && !this.stopping.has(org)) {
      this.stopping.set(
        org,
        this.stopCluster(org, cluster).finally(() => this.stopping.delete(org)),
      );
    }
    await Promise.race([this.stopping.get(org), delay(20)]);
    if (this.clusters.has(org))
      return { kind: 'pending', state: {}, retryAfterMs: 250, message: `stopping ${org}'s apps` };
    return { kind: 'done', state: {}, result: null };
  }

  async applyApp(org: string, app: string, desired: AppDesired): Promise<void> {
    const cluster = this.clusterOf(org, app);
    if (!cluster.apps.has(app)) await this.startTokens(org, app);
    // Looked up after the await: a concurrent applyApp may have made the controller while the token was minted.
    let controller = cluster.apps.get(app);
    if (!controller) {
      const key = `${org}/${app}`;
      controller = new AppController({
        org,
        app,
        command: this.command,
        timings: this.timings,
        platformUrl: this.options.platformUrl,
        baseEnv: baseEnvironment(),
        crashLoopThreshold: this.options.crashLoopThreshold ?? 3,
        progressDeadlineMs:
          typeof this.options.progressDeadlineMs === 'function'
            ? this.options.progressDeadlineMs(org, app)
            : (this.options.progressDeadlineMs ?? 600_000),
        accessToken: () => this.tokens.get(key)?.token,
        onEvent: (event) => this.record(event),
      });
      cluster.apps.set(app, controller);
    }
    controller.apply(desired);
  }

  async scaleApp(org: string, app: string, scale: AppScale): Promise<void> {
    const controller = this.clusterOf(org, app).apps.get(app);
    if (!controller) throw new ProviderError('AppNotFound', `${org}/${app} is not applied`, false);
    controller.scale(scale);
  }

  async rolloutStatus(org: string, app: string): Promise<RolloutStatus> {
    const controller = this.clusters.get(org)?.apps.get(app);
    if (!controller) {
      return noRollout();
    }
    return controller.status();
  }

  async deleteApp(org: string, app: string, _state: ProviderState | undefined): Promise<Step<null>> {
    const cluster = this.clusters.get(org);
    const key = `${org}/${app}`;
    if (cluster?.apps.has(app) && !this.stopping.has(key)) {
      this.stopping.set(
        key,
        this.stopApp(org, app, cluster).finally(() => this.stopping.delete(key)),
      );
    }
    // An app without running processes is gone in a moment: answer done rather than a needless pending.
    await Promise.race([this.stopping.get(key), delay(20)]);
    if (cluster?.apps.has(app)) {
      return { kind: 'pending', state: {}, retryAfterMs: 250, message: `draining and stopping ${key}'s replicas` };
    }
    return { kind: 'done', state: {}, result: null };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const org of this.clusters.keys()) await this.deleteCluster(org, undefined);
    while (this.stopping.size > 0) await Promise.all(this.stopping.values());
    for (const token of this.tokens.values()) clearInterval(token.timer);
    this.tokens.clear();
  }

  /** What happened to the org's (or one app's) replicas and rollouts, oldest first (the last 1000). */
  events(org?: string, app?: string): AppEvent[] {
    return this.eventLog.filter((e) => (!org || e.org === org) && (!app || e.app === app));
  }

  /** The app's events in the provider contract's shape: Kubernetes' `Normal` / `Warning` and reason. */
  async appEvents(org: string, app: string): Promise<ProviderEvent[]> {
    return this.events(org, app).map((e) => ({
      at: e.at,
      type: WARNINGS.has(e.type) ? 'Warning' : 'Normal',
      reason: e.type,
      message: e.message,
      replica: e.replica,
      revision: e.revision,
    }));
  }

  /** The last output lines of each of the app's replicas, with the release each runs. */
  async appLogs(org: string, app: string): Promise<ReplicaLogs[]> {
    const replicas = this.clusters.get(org)?.apps.get(app)?.replicas ?? [];
    return replicas.map((r) => ({ replica: r.id, revision: r.release.revision, lines: [...r.logs] }));
  }

  /** The app's replicas as they stand: release revision, pid, port, phase, restarts, in-flight requests. */
  replicas(org: string, app: string): ReplicaInfo[] {
    return (
      this.clusters
        .get(org)
        ?.apps.get(app)
        ?.replicas.map((r) => r.info()) ?? []
    );
  }

  /** The last 50 stdout/stderr lines of each of the app's replicas, by replica id. */
  logs(org: string, app: string): Record<string, LogLine[]> {
    const replicas = this.clusters.get(org)?.apps.get(app)?.replicas ?? [];
    return Object.fromEntries(replicas.map((r) => [r.id, [...r.logs]]));
  }

  private clusterOf(org: string, app: string): OrgCluster {
    this.assertOpen();
    if (this.stopping.has(`${org}/${app}`)) {
      throw new ProviderError('AppDeleting', `${org}/${app} is being deleted`, true, 1000);
    }
    const cluster = this.clusters.get(org);
    if (this.stopping.has(org))
      throw new ProviderError('ClusterDeleting', `${org}'s cluster is being deleted`, true, 1000);
    if (!cluster) throw new ProviderError('ClusterNotFound', `${org} has no cluster on this provider yet`, true, 1000);
    return cluster;
  }

  private assertOpen(): void {
    if (this.closed) throw new ProviderError('ProviderClosed', 'the local provider is closed', false);
  }

  private async stopCluster(org: string, cluster: OrgCluster): Promise<void> {
    await Promise.all([...cluster.apps.keys()].map((app) => this.stopApp(org, app, cluster)));
    await cluster.ingress.close();
    this.clusters.delete(org);
    this.options.logger?.info('org ingress stopped', { org });
  }

  private async stopApp(org: string, app: string, cluster: OrgCluster): Promise<void> {
    const controller = cluster.apps.get(app);
    if (!controller) return;
    await controller.delete();
    if (cluster.apps.get(app) === controller) cluster.apps.delete(app);
    const key = `${org}/${app}`;
    const token = this.tokens.get(key);
    if (token) clearInterval(token.timer);
    this.tokens.delete(key);
  }

  private async startTokens(org: string, app: string): Promise<AppToken> {
    const key = `${org}/${app}`;
    const existing = this.tokens.get(key);
    if (existing) return existing;
    const refresh = async () => {
      try {
        entry.token = await this.options.accessTokenFor(org, app);
        this.clusters.get(org)?.apps.get(app)?.refreshAccessToken(entry.token);
      } catch (error) {
        this.options.logger?.error('could not mint the app access token', { org, app, error: String(error) });
        // Try again soon rather than at the next refresh: the app's platform calls fail without it.
        setTimeout(() => {
          if (this.tokens.get(key) === entry) void refresh();
        }, 5000).unref();
      }
    };
    const entry: AppToken = { token: undefined, timer: setInterval(refresh, this.options.tokenRefreshMs ?? 600_000) };
    entry.timer.unref();
    this.tokens.set(key, entry);
    await refresh();
    return entry;
  }

  private record(event: AppEvent): void {
    this.eventLog.push(event);
    if (this.eventLog.length > EVENTS_KEPT) this.eventLog.splice(0, this.eventLog.length - EVENTS_KEPT);
    // A replica that ends cleanly (asked to stop, or the provider closing) is no news; a crash is.
    const crashed = event.type === 'Exited' && event.exitCode !== 0 && !this.closed;
    if (crashed || event.type === 'RolloutFailed' || event.type === 'ImagePullFailed') {
      this.options.logger?.warn(event.message, { ...event });
    }
  }
}

/** What a replica inherits from the provider's environment: enough to run Node, nothing of the provider's own. */
function baseEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The port of a URL kept in provider state, if any. */
function portOf(url: unknown): number | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const port = Number(new URL(url).port);
    return port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}
