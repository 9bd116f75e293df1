import { altinnPlatformSettings, isReservedEnvName } from '../env.js';
import {
  type AppDesired,
  type AppRelease,
  type AppScale,
  noRollout,
  type ReleaseReplicas,
  type RolloutStatus,
} from '../types.js';
import { runsReferenceRuntime } from './image.js';
import { Replica, type ReplicaEvent, type ReplicaTimings, type RuntimeCommand } from './replica.js';

/** What an app controller needs from its provider. */
export interface AppControllerOptions {
  org: string;
  app: string;
  command: RuntimeCommand;
  timings: ReplicaTimings;
  platformUrl: string;
  /** Base environment every replica gets (PATH and the like) before the release's own. */
  baseEnv: Record<string, string>;
  /** Consecutive crashes of a current-release replica that fail the rollout as `CrashLoopBackOff`. */
  crashLoopThreshold: number;
  /** A rollout not complete by then fails as `ProgressDeadlineExceeded` (Kubernetes' progressDeadlineSeconds). */
  progressDeadlineMs: number;
  accessToken: () => string | undefined;
  onEvent: (event: AppEvent) => void;
}

/** A replica's event or the controller's own, with the app it concerns. */
export interface AppEvent extends Omit<ReplicaEvent, 'type' | 'replica'> {
  org: string;
  app: string;
  replica: string | null;
  type: ReplicaEvent['type'] | 'ScalingReplicaSet' | 'ImagePullFailed' | 'RolloutComplete' | 'RolloutFailed';
}

/**
 * One app's Deployment, played with local processes: keeps `scale.replicas` replicas of the desired release and
 * moves between releases by a rolling update with maxSurge 1 and maxUnavailable 0. A new replica is started,
 * taken into the load balancer when ready, and only then is one old replica drained and stopped. Every change
 * (apply, scale, a replica ready, unready or gone) re-plans from what runs now, so a newer apply supersedes a
 * rollout in progress, and a rollback is a rollout to the older release.
 */
export class AppController {
  readonly replicas: Replica[] = [];
  private desired: AppDesired | undefined;
  private rolloutStartedAt = 0;
  /** The current rollout's deadline: the app's own, else the provider's. */
  private deadlineMs = 0;
  private failure: RolloutStatus['failure'];
  private completeReported = false;
  private sequence = 0;
  private planning = false;
  private replan = false;
  private deleting = false;
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: AppControllerOptions) {}

  /** Sets the desired release and scale and starts moving towards them. */
  apply(desired: AppDesired): void {
    const previous = this.desired;
    this.desired = structuredClone(desired);
    const sameRelease = previous && releaseKey(previous.release) === releaseKey(desired.release);
    // A new release, or the same one again after it failed (a retry), starts a rollout with a fresh deadline.
    if (!sameRelease || this.failure) {
      this.rolloutStartedAt = Date.now();
      this.failure = undefined;
      this.completeReported = false;
      this.setDeadline(desired.progressDeadlineMs ?? this.options.progressDeadlineMs);
      if (!runsReferenceRuntime(desired.release.image)) {
        this.failure = {
          reason: 'ImagePullFailed',
          message: `image ${desired.release.image} cannot be run locally: the local provider runs only app-runtime images`,
        };
        this.event('ImagePullFailed', this.failure.message, null);
      }
    } else if (desired.progressDeadlineMs !== previous?.progressDeadlineMs) {
      // A changed deadline applies to the rollout in progress, as an edited progressDeadlineSeconds does.
      this.setDeadline(desired.progressDeadlineMs ?? this.options.progressDeadlineMs);
    }
    this.plan();
  }

  /** Sets the current rollout's deadline and judges the rollout when it passes, so a stuck one is reported unasked. */
  private setDeadline(deadlineMs: number): void {
    this.deadlineMs = deadlineMs;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const left = Math.max(0, this.rolloutStartedAt + deadlineMs - Date.now());
    this.deadlineTimer = setTimeout(() => this.status(), left + 1);
    this.deadlineTimer.unref();
  }

  /** Changes only the scale. */
  scale(scale: AppScale): void {
    if (!this.desired) return;
    this.desired = { ...this.desired, scale: { ...scale } };
    this.plan();
  }

  /** The rollout as it stands, judged as Kubernetes judges a Deployment. */
  status(): RolloutStatus {
    const desired = this.desired;
    if (!desired) {
      return noRollout();
    }
    const revision = desired.release.revision;
    const live = this.replicas.filter((r) => !r.terminating);
    const updated = live.filter((r) => this.isCurrent(r));
    const ready = live.filter((r) => r.ready).length;
    const oldReplicas = this.replicas.filter((r) => !this.isCurrent(r)).length;
    const lingering = this.replicas.some((r) => r.terminating);
    const complete =
      updated.length === desired.scale.replicas && updated.every((r) => r.ready) && oldReplicas === 0 && !lingering;
    if (complete) this.failure = undefined;
    this.checkFailure(complete);
    if (complete && !this.completeReported) {
      this.completeReported = true;
      this.event('RolloutComplete', `revision ${revision} runs on ${desired.scale.replicas} ready replica(s)`, null);
    }
    return {
      revision,
      replicas: desired.scale.replicas,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      oldReplicas,
      complete,
      ...(this.failure ? { failure: this.failure } : {}),
      releases: releaseCounts(live),
    };
  }

  /** Drains and stops every replica; resolves when all processes have exited. */
  async delete(): Promise<void> {
    this.deleting = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    await Promise.all(this.replicas.map((r) => this.remove(r)));
  }

  /** True when no replica process is left. */
  get empty(): boolean {
    return this.replicas.length === 0;
  }

  /** Sends a refreshed PlatformAccessToken to every replica. */
  refreshAccessToken(token: string): void {
    for (const replica of this.replicas) replica.sendAccessToken(token);
  }

  private isCurrent(replica: Replica): boolean {
    return this.desired !== undefined && releaseKey(replica.release) === releaseKey(this.desired.release);
  }

  private checkFailure(complete: boolean): void {
    if (this.failure || complete || !this.desired) return;
    const looping = this.replicas.find(
      (r) => this.isCurrent(r) && !r.terminating && !r.ready && r.crashes >= this.options.crashLoopThreshold,
    );
    if (looping) {
      const last = looping.logs.filter((l) => l.stream === 'stderr').at(-1)?.line;
      this.failure = {
        reason: 'CrashLoopBackOff',
        message: `replica ${looping.id} of revision ${this.desired.release.revision} crashed ${looping.crashes} times${last ? `: ${last}` : ''}`,
      };
    } else if (Date.now() - this.rolloutStartedAt > this.deadlineMs) {
      // Running but never passing its readiness probe is ReadinessFailed; anything else (too slow to start,
      // waiting for capacity) is the general ProgressDeadlineExceeded, as Kubernetes reports it.
      const unready = this.replicas.find((r) => this.isCurrent(r) && !r.terminating && !r.ready && r.port !== null);
      const revision = this.desired.release.revision;
      this.failure = unready
        ? {
            reason: 'ReadinessFailed',
            message: `replica ${unready.id} of revision ${revision} runs but did not pass its readiness probe (/health) within ${this.deadlineMs} ms`,
          }
        : {
            reason: 'ProgressDeadlineExceeded',
            message: `revision ${revision} did not become ready within ${this.deadlineMs} ms`,
          };
    }
    if (this.failure) this.event('RolloutFailed', `${this.failure.reason}: ${this.failure.message}`, null);
  }

  /**
   * Decides the next steps from what runs now: surge one new replica while old ones run, drain an old replica
   * for each new one that is ready beyond the desired count, and remove unready old replicas at once (they
   * carry no traffic). Starting and stopping run in the background and call plan() again when they change
   * something.
   */
  private plan(): void {
    if (this.planning) {
      this.replan = true;
      return;
    }
    this.planning = true;
    try {
      do {
        this.replan = false;
        this.planOnce();
      } while (this.replan);
    } finally {
      this.planning = false;
    }
  }

  private planOnce(): void {
    if (this.deleting || !this.desired) return;
    const target = this.desired.scale.replicas;
    const live = this.replicas.filter((r) => !r.terminating);
    const current = live.filter((r) => this.isCurrent(r));
    const old = live.filter((r) => !this.isCurrent(r));
    // An image that cannot run leaves everything as it is: traffic stays on the running release.
    if (!runsReferenceRuntime(this.desired.release.image)) return;

    if (old.length === 0) {
      for (let i = current.length; i < target; i++) this.add(this.desired.release);
      const excess = current.length - target;
      if (excess > 0) {
        const byReadiness = [...current].sort((a, b) => Number(a.ready) - Number(b.ready) || a.inflight - b.inflight);
        for (const replica of byReadiness.slice(0, excess)) void this.remove(replica);
      }
      return;
    }

    // Old replicas that serve nothing can go now; old ready ones only as new ones are ready beyond target.
    const unreadyOld = old.filter((r) => !r.ready);
    const readyOld = old.filter((r) => r.ready);
    const readyCurrent = current.filter((r) => r.ready).length;
    const canTake = Math.min(readyOld.length, Math.max(0, readyCurrent + readyOld.length - target));
    for (const replica of [...unreadyOld, ...readyOld.slice(0, canTake)]) void this.remove(replica);

    const excess = current.length - target;
    if (excess > 0) for (const replica of current.filter((r) => !r.ready).slice(0, excess)) void this.remove(replica);
    const remainingOld = readyOld.length - canTake;
    const starting = current.some((r) => !r.ready);
    if (!starting && current.length < target && current.length + remainingOld < target + 1) {
      this.add(this.desired.release);
    }
  }

  private add(release: AppRelease): void {
    const { org, app, command, timings, platformUrl, baseEnv } = this.options;
    const id = `${app}-r${release.revision}-${++this.sequence}`;
    // The release's variables cannot change how Node or the loader runs (NODE_OPTIONS, LD_PRELOAD ...) nor
    // what the platform sets: those would run other code than the reference runtime on this host.
    const appEnv = Object.fromEntries(Object.entries(release.env).filter(([name]) => !isReservedEnvName(name)));
    const env = {
      // Where an unmodified Altinn app finds the platform (events, notifications and the PDF generator included).
      ...altinnPlatformSettings(platformUrl),
      ...appEnv,
      ...baseEnv,
      ORG: org,
      APP: app,
      RELEASE: String(release.revision),
      VERSION: release.version,
      REPLICA: id,
      PLATFORM_URL: platformUrl,
      APP_CONFIG: JSON.stringify(release.config),
    };
    const replica = new Replica(id, release, {
      command,
      env,
      timings,
      accessToken: this.options.accessToken,
      onEvent: (event) => {
        this.options.onEvent({ ...event, org, app });
        if (event.type === 'Ready' || event.type === 'Unready' || event.type === 'Exited') {
          this.plan();
          // Judge the rollout now, so a failure is in the event list when it happens.
          this.status();
        }
      },
    });
    this.replicas.push(replica);
    this.event('ScalingReplicaSet', `started replica ${id} of revision ${release.revision}`, id, release.revision);
    replica.start();
  }

  private async remove(replica: Replica): Promise<void> {
    await replica.stop();
    const index = this.replicas.indexOf(replica);
    if (index >= 0) this.replicas.splice(index, 1);
    this.plan();
  }

  private event(type: AppEvent['type'], message: string, replica: string | null, revision?: number): void {
    this.options.onEvent({
      at: new Date().toISOString(),
      org: this.options.org,
      app: this.options.app,
      replica,
      revision: revision ?? this.desired?.release.revision ?? 0,
      type,
      message,
    });
  }
}

/** Replicas and ready replicas per release revision, newest first. */
function releaseCounts(replicas: Replica[]): ReleaseReplicas[] {
  const counts = new Map<number, ReleaseReplicas>();
  for (const r of replicas) {
    const entry = counts.get(r.release.revision) ?? { revision: r.release.revision, replicas: 0, readyReplicas: 0 };
    entry.replicas++;
    if (r.ready) entry.readyReplicas++;
    counts.set(r.release.revision, entry);
  }
  return [...counts.values()].sort((a, b) => b.revision - a.revision);
}

/** A release's identity for comparison: its JSON with object keys sorted, so stored copies compare equal. */
export function releaseKey(release: AppRelease): string {
  return JSON.stringify(release, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  );
}
