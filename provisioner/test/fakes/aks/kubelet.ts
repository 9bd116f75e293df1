/**
 * The fake cluster's kubelet: each Pod's container goes through the states a real kubelet writes
 * (`ContainerCreating`, running, ready; or `ErrImagePull` / `ImagePullBackOff`, `CrashLoopBackOff`
 * with restarts, or running but never ready), chosen per image by a rule the test sets. It keeps the
 * lines each container run "wrote" for the `pods/log` subresource, and records the kubelet's Events.
 */
import { recordEvent } from './events.js';
import { findType } from './resources.js';
import { type KubeObject, type ObjectStore, StatusError, type WatchEvent } from './store.js';

/** What a container of an image does in the fake cluster. */
export interface ContainerBehaviour {
  /**
   * `Ready`: runs and passes its readiness probe; `ImagePullFails`: its image cannot be pulled
   * (`ErrImagePull`, then `ImagePullBackOff`); `CrashLoops`: exits with `exitCode` soon after each
   * start (`CrashLoopBackOff`); `NeverReady`: runs but its readiness probe never passes;
   * `Unschedulable`: its Pod stays `Pending`, no node has room for it (the scheduler's `FailedScheduling`).
   */
  fate: 'Ready' | 'ImagePullFails' | 'CrashLoops' | 'NeverReady' | 'Unschedulable';
  /** Milliseconds from start until a `Ready` container is ready (default: the kubelet's `readyDelayMs`). */
  readyAfterMs?: number;
  /** Lines the container writes on each start, served by `pods/log`. */
  logs?: string[];
  /** Exit code of a crashing container (default 1). */
  exitCode?: number;
}

/** How the fake kubelet runs containers. */
export interface KubeletOptions {
  /** Milliseconds from a Pod's creation until a `Ready` container is ready. */
  readyDelayMs: number;
  /** The behaviour of a container by its image; `Ready` when absent or undefined. */
  containers?: (image: string) => ContainerBehaviour | undefined;
}

const PODS = findType('', 'v1', 'pods')!;
/** The node every Pod is scheduled to. */
export const NODE = 'aks-nodepool1-12345678-vmss000000';
/** An image reference the container runtime can parse (no upper case, no spaces). */
const IMAGE_REFERENCE = /^[a-z0-9]+([._/:@-][a-zA-Z0-9_]+)*$/;

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

type ContainerState = {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string; containerID: string };
};

/** The status a real kubelet writes for a one-container pod. */
interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
}

/** One run of a container: its id and the lines it wrote. */
interface Run {
  id: string;
  lines: { at: string; line: string }[];
}

/** Plays the kubelet for the Pods the scheduler bound to its node. */
export class Kubelet {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Container runs by pod uid, oldest first. */
  private readonly runs = new Map<string, Run[]>();
  private podCount = 0;
  private readonly onChange = (e: WatchEvent) => {
    if (e.type_ === PODS && e.type === 'DELETED' && e.object.metadata.uid) this.runs.delete(e.object.metadata.uid);
  };

  constructor(
    private readonly store: ObjectStore,
    private readonly options: KubeletOptions,
    /** Called when the Pods of a ReplicaSet changed (created, deleted, status). */
    private readonly podsChanged: (namespace: string, replicaSet: string) => void,
  ) {
    store.events.on('change', this.onChange);
  }

  /** Stops reacting to changes and cancels pending container transitions. */
  stop() {
    this.store.events.off('change', this.onChange);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * The `pods/log` subresource: the lines of the container's current run (or, while it waits to
   * restart, of its last run), or of the run before with `previous`; 400 while it waits to start,
   * with the messages the real kubelet gives.
   */
  log(namespace: string, name: string, q: URLSearchParams): string {
    const pod = this.store.get(PODS, namespace, name);
    if (!pod) throw new StatusError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    const statuses = (pod.status?.containerStatuses ?? []) as unknown as ContainerStatus[];
    const container = q.get('container') ?? statuses[0]?.name ?? '';
    const status = statuses.find((s) => s.name === container);
    if (!status) {
      throw new StatusError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    }
    const runs = this.runs.get(pod.metadata.uid ?? '') ?? [];
    const previous = q.get('previous') === 'true';
    let run: Run | undefined;
    if (previous) {
      run = status.state.running ? runs.at(-2) : runs.at(-1);
      if (!run || !status.lastState.terminated) {
        throw new StatusError(
          400,
          'BadRequest',
          `previous terminated container "${container}" in pod "${name}" not found`,
        );
      }
    } else if (status.state.waiting && !status.lastState.terminated) {
      const reason = status.state.waiting.reason;
      const why =
        reason === 'ErrImagePull'
          ? "image can't be pulled"
          : reason === 'ImagePullBackOff'
            ? 'trying and failing to pull image'
            : reason;
      throw new StatusError(400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ${why}`);
    } else run = runs.at(-1);
    const tail = q.get('tailLines');
    const all = run?.lines ?? [];
    const lines = tail === null ? all : all.slice(Math.max(0, all.length - Math.max(0, Number(tail))));
    const timestamps = q.get('timestamps') === 'true';
    return lines.map((l) => `${timestamps ? `${l.at} ` : ''}${l.line}\n`).join('');
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Runs the container of a Pod the scheduler has bound to the node, as `behaviour` says. */
  run(pod: KubeObject, container: { name: string; image: string }, behaviour: ContainerBehaviour) {
    this.writeStatus(pod, {
      name: container.name,
      image: container.image,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    });
    const step = Math.max(5, Math.min(20, Math.floor(this.options.readyDelayMs / 2)));
    this.later(step, () => this.pull(pod, container, behaviour, step));
  }

  /** Pulls the image: the container starts, or the pull fails and backs off. */
  private pull(pod: KubeObject, container: { name: string; image: string }, b: ContainerBehaviour, step: number) {
    const { namespace = '', name } = pod.metadata;
    if (!this.exists(pod)) return;
    if (!IMAGE_REFERENCE.test(container.image)) {
      const message = `Failed to apply default image tag "${container.image}": couldn't parse image reference "${container.image}": invalid reference format`;
      this.recordEvent(namespace, name, 'Warning', 'InspectFailed', message);
      this.update(pod, (s) => ({ ...s, state: { waiting: { reason: 'InvalidImageName', message } } }));
      return;
    }
    this.recordEvent(namespace, name, 'Normal', 'Pulling', `Pulling image "${container.image}"`);
    if (b.fate === 'ImagePullFails') {
      const message = `rpc error: code = NotFound desc = failed to pull and unpack image "${container.image}": not found`;
      this.recordEvent(namespace, name, 'Warning', 'Failed', `Failed to pull image "${container.image}": ${message}`);
      this.update(pod, (s) => ({ ...s, state: { waiting: { reason: 'ErrImagePull', message } } }));
      this.later(step, () => {
        const backOff = `Back-off pulling image "${container.image}"`;
        this.recordEvent(namespace, name, 'Normal', 'BackOff', backOff);
        this.update(pod, (s) => ({ ...s, state: { waiting: { reason: 'ImagePullBackOff', message: backOff } } }));
      });
      return;
    }
    this.start(pod, container, b, step, 0);
  }

  /** Starts a run of the container and plays its fate. */
  private start(pod: KubeObject, c: { name: string; image: string }, b: ContainerBehaviour, step: number, n: number) {
    const { namespace = '', name } = pod.metadata;
    const uid = pod.metadata.uid ?? '';
    if (!this.exists(pod)) return;
    const id = `containerd://${uid.replaceAll('-', '')}${n.toString(16).padStart(4, '0')}`;
    const startedAt = new Date().toISOString();
    const runs = this.runs.get(uid) ?? [];
    runs.push({
      id,
      lines: (b.logs ?? [`listening on port ${this.portOf(pod)}`]).map((line) => ({ at: startedAt, line })),
    });
    if (runs.length > 5) runs.shift();
    this.runs.set(uid, runs);
    this.recordEvent(namespace, name, 'Normal', 'Started', `Started container ${c.name}`);
    const alive = this.update(pod, (s) => ({
      ...s,
      containerID: id,
      imageID: `${c.image.split(':')[0]}@sha256:${'0'.repeat(64)}`,
      ready: false,
      started: true,
      state: { running: { startedAt: startedAt.replace(/\.\d+Z$/, 'Z') } },
    }));
    if (!alive) return;
    if (b.fate === 'CrashLoops') {
      this.later(step, () => {
        const finishedAt = now();
        const terminated = {
          exitCode: b.exitCode ?? 1,
          reason: 'Error',
          startedAt: startedAt.replace(/\.\d+Z$/, 'Z'),
          finishedAt,
          containerID: id,
        };
        const backoffMs = Math.min(step * 2 ** (n + 1), 50 * step);
        this.recordEvent(
          namespace,
          name,
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${c.name} in pod ${name}_${namespace}(${uid})`,
        );
        const waiting = this.update(pod, (s) => ({
          ...s,
          ready: false,
          started: false,
          restartCount: s.restartCount + 1,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${Math.round(backoffMs / 1000)}s restarting failed container=${c.name} pod=${name}_${namespace}(${uid})`,
            },
          },
          lastState: { terminated },
        }));
        if (waiting) this.later(backoffMs, () => this.start(pod, c, b, step, n + 1));
      });
    } else if (b.fate === 'NeverReady') {
      this.later(step, () => {
        if (!this.store.get(PODS, namespace, name)) return;
        this.recordEvent(
          namespace,
          name,
          'Warning',
          'Unhealthy',
          'Readiness probe failed: HTTP probe failed with statuscode: 503',
        );
      });
    } else {
      this.later(Math.max(0, (b.readyAfterMs ?? this.options.readyDelayMs) - step), () =>
        this.update(pod, (s) => ({ ...s, ready: true })),
      );
    }
  }

  private portOf(pod: KubeObject): number {
    const containers = (pod.spec?.containers ?? []) as { ports?: { containerPort: number }[] }[];
    return containers[0]?.ports?.[0]?.containerPort ?? 80;
  }

  private exists(pod: KubeObject): boolean {
    return this.store.get(PODS, pod.metadata.namespace, pod.metadata.name)?.metadata.uid === pod.metadata.uid;
  }

  /** Changes the container's status of a pod that still exists; false when it is gone. */
  private update(pod: KubeObject, change: (s: ContainerStatus) => ContainerStatus): boolean {
    const live = this.store.get(PODS, pod.metadata.namespace, pod.metadata.name);
    if (!live || live.metadata.uid !== pod.metadata.uid) return false;
    const current = (live.status?.containerStatuses as unknown as ContainerStatus[] | undefined)?.[0];
    if (!current) return false;
    this.writeStatus(live, change(current));
    return true;
  }

  /** Writes the pod's status as the kubelet derives it from its one container's status. */
  private writeStatus(pod: KubeObject, container: ContainerStatus) {
    const old = (pod.status?.conditions ?? []) as { type: string; status: string; lastTransitionTime?: string }[];
    const running = container.state.running !== undefined || container.restartCount > 0;
    const condition = (type: string, ok: boolean, reason?: string, message?: string) => {
      const status = ok ? 'True' : 'False';
      const prev = old.find((c) => c.type === type);
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now(),
        ...(ok ? {} : { reason, message }),
      };
    };
    const unready = `containers with unready status: [${container.name}]`;
    const status = {
      ...pod.status,
      phase: running ? 'Running' : 'Pending',
      hostIP: '10.224.0.4',
      podIP: pod.status?.podIP ?? `10.244.${(++this.podCount >> 8) & 255}.${this.podCount & 255}`,
      startTime: pod.status?.startTime ?? now(),
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('Ready', container.ready, 'ContainersNotReady', unready),
        condition('ContainersReady', container.ready, 'ContainersNotReady', unready),
        condition('PodScheduled', true),
      ],
      containerStatuses: [container],
    };
    this.store.update(
      PODS,
      { ...pod, metadata: { ...pod.metadata, resourceVersion: undefined }, status: status as never },
      'status',
    );
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
    if (owner) this.podsChanged(pod.metadata.namespace ?? '', owner.name);
  }

  /** Records a core/v1 Event about a Pod, as the kubelet does. */
  private recordEvent(namespace: string, pod: string, type: 'Normal' | 'Warning', reason: string, message: string) {
    recordEvent(this.store, {
      namespace,
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod },
      type,
      reason,
      message,
      component: 'kubelet',
      host: NODE,
    });
  }
}
