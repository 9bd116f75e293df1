/**
 * The fake cluster's Deployment controller: on a template change it creates (or, for an undo, reuses)
 * the ReplicaSet of that template with the `pod-template-hash` label and the next
 * `deployment.kubernetes.io/revision`, makes its replicas ready after a delay, scales old ReplicaSets
 * down once the new one is available, and keeps the Deployment's status and conditions as the real
 * controller does, including `ProgressDeadlineExceeded` for a template that never becomes ready.
 */
import { createHash } from 'node:crypto';
import type { Json } from './patch.js';
import { findType } from './resources.js';
import type { KubeObject, ObjectStore, WatchEvent } from './store.js';

/** How the simulated pods behave. */
export interface ControllerOptions {
  /** Milliseconds from scheduling a ReplicaSet's replicas until they are ready. */
  readyDelayMs: number;
  /** True for a pod template whose replicas never become ready (e.g. a crash-looping image). */
  neverReady?: (template: KubeObject['spec']) => boolean;
  /** Milliseconds the fake waits for `progressDeadlineSeconds` (default: the seconds, in ms x 1000). */
  progressDeadlineMs?: (seconds: number) => number;
}

const DEPLOYMENTS = findType('apps', 'v1', 'deployments')!;
const REPLICASETS = findType('apps', 'v1', 'replicasets')!;
const EVENTS = findType('', 'v1', 'events')!;
const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';

type Template = {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
};

const revisionOf = (rs: KubeObject) => Number(rs.metadata.annotations?.[REVISION] ?? 0);
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A JSON string of `v` with sorted keys and without nulls or empty objects, as Go's types would store it. */
export function canonical(v: unknown): string {
  const clean = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(clean);
    if (typeof x !== 'object' || x === null) return x;
    const entries = Object.entries(x)
      .map(([k, val]) => [k, clean(val)] as const)
      .filter(
        ([, val]) =>
          val !== null &&
          val !== undefined &&
          !(typeof val === 'object' && !Array.isArray(val) && Object.keys(val).length === 0),
      )
      .sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries);
  };
  return JSON.stringify(clean(v));
}

/** The template of a ReplicaSet without its `pod-template-hash` label, comparable with a Deployment's. */
export function templateWithoutHash(template: Template): Template {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) delete copy.metadata.labels[HASH];
  return copy;
}

/** Runs the Deployment controller over the store's deployments until stopped. */
export class DeploymentController {
  private readonly timers = new Set<NodeJS.Timeout>();
  private eventCount = 0;
  private readonly onChange = (e: WatchEvent) => {
    if (e.type_ !== DEPLOYMENTS || e.type === 'DELETED') return;
    const d = e.object;
    if (d.metadata.generation !== d.status?.observedGeneration)
      this.reconcile(d.metadata.namespace ?? '', d.metadata.name);
  };

  constructor(
    private readonly store: ObjectStore,
    private readonly options: ControllerOptions,
  ) {
    store.events.on('change', this.onChange);
  }

  /** Stops reacting to changes and cancels pending readiness and deadline timers. */
  stop() {
    this.store.events.off('change', this.onChange);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private owned(d: KubeObject): KubeObject[] {
    return this.store.select(
      REPLICASETS,
      d.metadata.namespace,
      (rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid && o.controller) ?? false,
    );
  }

  /** Brings the ReplicaSets and status of one Deployment in line with its spec. */
  reconcile(namespace: string, name: string) {
    const d = this.store.get(DEPLOYMENTS, namespace, name);
    if (!d?.spec) return;
    const template = d.spec.template as Template;
    const desired = Number(d.spec.replicas ?? 1);
    const owned = this.owned(d);
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    const key = canonical(template);
    let current = owned.find((rs) => canonical(templateWithoutHash(rs.spec?.template as Template)) === key);
    const changeCause = d.metadata.annotations?.['kubernetes.io/change-cause'];
    if (!current) {
      const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
      const labels = { ...template.metadata?.labels, [HASH]: hash };
      const selector = d.spec.selector as { matchLabels?: Record<string, string> };
      current = this.store.create(REPLICASETS, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`,
          namespace,
          labels,
          annotations: {
            [REVISION]: String(maxRevision + 1),
            ...(changeCause ? { 'kubernetes.io/change-cause': changeCause } : {}),
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name,
              uid: d.metadata.uid ?? '',
              controller: true,
              blockOwnerDeletion: true,
            } as never,
          ],
        },
        spec: {
          replicas: desired,
          selector: { matchLabels: { ...selector.matchLabels, [HASH]: hash } },
          template: { ...template, metadata: { ...template.metadata, labels } } as Json,
        },
      });
    } else if (revisionOf(current) < maxRevision) {
      const annotations: Record<string, string> = {
        ...current.metadata.annotations,
        [REVISION]: String(maxRevision + 1),
      };
      if (changeCause) annotations['kubernetes.io/change-cause'] = changeCause;
      current = this.store.update(REPLICASETS, {
        ...current,
        metadata: { ...current.metadata, annotations, resourceVersion: undefined },
      });
    }
    if (current.spec?.replicas !== desired || current.status?.replicas !== desired) {
      this.recordEvent(
        namespace,
        name,
        'ScalingReplicaSet',
        `Scaled up replica set ${current.metadata.name} to ${desired}`,
      );
      current = this.store.update(REPLICASETS, {
        ...current,
        metadata: { ...current.metadata, resourceVersion: undefined },
        spec: { ...current.spec, replicas: desired },
      });
      const ready = Math.min(Number(current.status?.readyReplicas ?? 0), desired);
      this.setRsStatus(current, desired, ready);
    }
    const generation = d.metadata.generation;
    const rsName = current.metadata.name;
    this.writeStatus(namespace, name, 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
    if (this.options.neverReady?.(template.spec as KubeObject['spec'])) {
      const seconds = Number(d.spec.progressDeadlineSeconds ?? 600);
      const ms = this.options.progressDeadlineMs?.(seconds) ?? seconds * 1000;
      this.later(ms, () => {
        if (this.store.get(DEPLOYMENTS, namespace, name)?.metadata.generation !== generation) return;
        this.writeStatus(
          namespace,
          name,
          'ProgressDeadlineExceeded',
          `ReplicaSet "${rsName}" has timed out progressing.`,
        );
      });
      return;
    }
    this.later(this.options.readyDelayMs, () => this.becomeReady(namespace, name, rsName, generation));
  }

  /** Records a core/v1 Event about the Deployment, as the real deployment controller does when it scales. */
  private recordEvent(namespace: string, name: string, reason: string, message: string) {
    const now = new Date().toISOString();
    this.store.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.${Date.now().toString(16)}${(++this.eventCount).toString(16)}`, namespace },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace },
      reason,
      message,
      type: 'Normal',
      source: { component: 'deployment-controller' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  private setRsStatus(rs: KubeObject, replicas: number, ready: number) {
    const status = {
      replicas,
      readyReplicas: ready,
      availableReplicas: ready,
      fullyLabeledReplicas: replicas,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    this.store.update(
      REPLICASETS,
      { ...rs, metadata: { ...rs.metadata, resourceVersion: undefined }, status },
      'status',
    );
  }

  private becomeReady(namespace: string, name: string, rsName: string, generation: number | undefined) {
    const d = this.store.get(DEPLOYMENTS, namespace, name);
    if (!d || d.metadata.generation !== generation) return;
    for (const rs of this.owned(d)) {
      const replicas = rs.metadata.name === rsName ? Number(rs.spec?.replicas ?? 0) : 0;
      const scaled =
        rs.spec?.replicas === replicas
          ? rs
          : this.store.update(REPLICASETS, {
              ...rs,
              metadata: { ...rs.metadata, resourceVersion: undefined },
              spec: { ...rs.spec, replicas },
            });
      this.setRsStatus(scaled, replicas, replicas);
    }
    this.writeStatus(namespace, name, 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`);
  }

  private writeStatus(namespace: string, name: string, reason: string, message: string) {
    const d = this.store.get(DEPLOYMENTS, namespace, name);
    if (!d?.spec) return;
    const desired = Number(d.spec.replicas ?? 1);
    const owned = this.owned(d);
    const key = canonical(d.spec.template);
    const current = owned.find((rs) => canonical(templateWithoutHash(rs.spec?.template as Template)) === key);
    const sum = (f: string) => owned.reduce((n, rs) => n + Number(rs.status?.[f] ?? 0), 0);
    const available = sum('availableReplicas');
    const strategy = d.spec.strategy as { rollingUpdate?: { maxUnavailable?: number | string } } | undefined;
    const mu = strategy?.rollingUpdate?.maxUnavailable ?? '25%';
    const maxUnavailable = typeof mu === 'number' ? mu : Math.floor((desired * Number.parseInt(mu, 10)) / 100);
    const old = (d.status?.conditions ?? []) as { type: string; status: string; lastTransitionTime: string }[];
    const condition = (type: string, status: string, r: string, m: string) => {
      const prev = old.find((c) => c.type === type);
      const t = now();
      return {
        type,
        status,
        lastUpdateTime: t,
        lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : t,
        reason: r,
        message: m,
      };
    };
    const isAvailable = available >= desired - maxUnavailable;
    const status = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: sum('replicas'),
      updatedReplicas: Number(current?.status?.replicas ?? 0),
      readyReplicas: sum('readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, desired - available),
      conditions: [
        isAvailable
          ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : condition(
              'Available',
              'False',
              'MinimumReplicasUnavailable',
              'Deployment does not have minimum availability.',
            ),
        condition('Progressing', reason === 'ProgressDeadlineExceeded' ? 'False' : 'True', reason, message),
      ],
    };
    this.store.update(
      DEPLOYMENTS,
      { ...d, metadata: { ...d.metadata, resourceVersion: undefined }, status: status as never },
      'status',
    );
  }
}
