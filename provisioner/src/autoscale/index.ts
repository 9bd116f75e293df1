import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import type { ProvisionerCommands } from '../commands/index.js';
import { readEdge } from '../edge/read.js';
import { provisionerRepository } from '../state/repository.js';
import { decide, newHistory, type ScalingHistory, type Usage } from './policy.js';

/** Where usage comes from: the edge's metrics, per `org/app`. */
export interface UsageSource {
  read(): Promise<Map<string, Usage>>;
}

/**
 * Reads usage from the edge's `GET /_edge/metrics` (admin token): per app its requests per second
 * over the last 10 s and its in-flight requests, summed over the edge's isolates.
 */
export function edgeUsage(options: { baseUrl: string; token: string; timeoutMs?: number }): UsageSource {
  const admin = { ...options, timeoutMs: options.timeoutMs ?? 5_000 };
  return {
    async read() {
      const read = await readEdge<{ apps?: ({ org?: unknown; app?: unknown } & Partial<Usage>)[] }>(
        admin,
        '/_edge/metrics',
      );
      if (!read.ok) {
        throw new Error(`the edge's metrics: ${read.failure === 'status' ? `answered ${read.status}` : read.failure}`);
      }
      const usage = new Map<string, Usage>();
      for (const a of Array.isArray(read.body.apps) ? read.body.apps : []) {
        if (typeof a.org !== 'string' || typeof a.app !== 'string') continue;
        usage.set(`${a.org}/${a.app}`, {
          requestsPerSecond: Number(a.requestsPerSecond) || 0,
          inFlight: Number(a.inFlight) || 0,
        });
      }
      return usage;
    },
  };
}

/** One scale the autoscaler asked for. */
export interface ScaleDecision {
  org: string;
  app: string;
  from: number;
  to: number;
  reason: string;
  /** The scale operation it started; null when the app was busy (a rollout running) and it will try again. */
  operationId: string | null;
}

/** The autoscaler: `tick()` decides once for every app; `start()` runs it on an interval (the local host). */
export interface Autoscaler {
  tick(): Promise<ScaleDecision[]>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

/** What the autoscaler is built from. */
export interface AutoscalerDeps {
  db: Database;
  commands: Pick<ProvisionerCommands, 'scaleApp'>;
  usage: UsageSource;
  logger: Logger;
  now?: () => number;
}

/** The actor autoscaling operations are recorded as. */
export const AUTOSCALER = 'autoscaler';

/**
 * Scales each app with autoscaling on between its min and max replicas from its usage at the edge,
 * through the same scale command as `POST .../scale` (so every change is an operation with a
 * timeline). Recommendations are remembered in memory; after a restart each app starts from a
 * recommendation of its current count, so a restart never scales down before a full window.
 */
export function createAutoscaler(deps: AutoscalerDeps): Autoscaler {
  const now = deps.now ?? Date.now;
  const histories = new Map<string, ScalingHistory>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let unreachable = false;

  async function tick(): Promise<ScaleDecision[]> {
    const apps = (await provisionerRepository(deps.db).listApps()).filter(
      (a) => a.autoscaling.enabled && a.phase === 'Ready',
    );
    const live = new Set(apps.map((a) => `${a.org}/${a.app}`));
    for (const key of histories.keys()) if (!live.has(key)) histories.delete(key);
    if (apps.length === 0) return [];
    let usage: Map<string, Usage>;
    try {
      usage = await deps.usage.read();
      if (unreachable) deps.logger.info('autoscaler reads usage again');
      unreachable = false;
    } catch (error) {
      // Without usage nothing is decided: replicas stay as they are.
      if (!unreachable) deps.logger.warn('autoscaler cannot read usage; replicas stay', { error: String(error) });
      unreachable = true;
      return [];
    }
    const decisions: ScaleDecision[] = [];
    const at = now();
    for (const app of apps) {
      const key = `${app.org}/${app.app}`;
      const current = app.scale.replicas;
      const history = histories.get(key) ?? newHistory(current, at);
      histories.set(key, history);
      const decision = decide(
        current,
        usage.get(key) ?? { requestsPerSecond: 0, inFlight: 0 },
        app.scale,
        app.autoscaling,
        history,
        at,
      );
      if (decision.replicas === current) continue;
      let operationId: string | null = null;
      try {
        const outcome = await deps.commands.scaleApp(app.org, app.app, { replicas: decision.replicas }, AUTOSCALER);
        operationId = outcome.operation?.id ?? null;
      } catch (error) {
        // A rollout or another operation runs (409), or the app went away (404): decide again next tick.
        if (!(error instanceof Problem)) throw error;
      }
      const scaled = {
        org: app.org,
        app: app.app,
        from: current,
        to: decision.replicas,
        reason: decision.reason,
        operationId,
      };
      deps.logger.info('autoscaler scales', { ...scaled });
      decisions.push(scaled);
    }
    return decisions;
  }

  return {
    tick,
    start(intervalMs) {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = tick()
          .catch((error: unknown) => deps.logger.error('autoscaler tick failed', { error: String(error) }))
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
