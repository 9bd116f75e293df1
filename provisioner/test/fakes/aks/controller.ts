/**
 * The fake cluster's Deployment controller: on a template change it creates (or, for an undo, reuses)
 * the ReplicaSet of that template with the `pod-template-hash` label and the next
 * `deployment.kubernetes.io/revision`, and scales it to the Deployment's replicas; the kubelet
 * (kubelet.ts) makes its Pods, whose readiness is the ReplicaSet's status. Once the new ReplicaSet's
 * Pods are all available the old ReplicaSets are scaled to 0 (maxSurge 100 %, maxUnavailable 0), and
 * the Deployment's status and conditions are kept as the real controller keeps them, including
 * `ProgressDeadlineExceeded` when the rollout is not complete within `progressDeadlineSeconds`.
 */
import { createHash } from 'node:crypto';
import { recordEvent } from './events.js';
import { Kubelet, type KubeletOptions } from './kubelet.js';
import type { Json } from './patch.js';
import { ReplicaSetController } from './replicasets.js';
import { findType } from './resources.js';
import type { KubeObject, ObjectStore, WatchEvent } from './store.js';

/** How the simulated cluster behaves. */
export interface ControllerOptions extends KubeletOptions {
  /** Milliseconds the fake waits for `progressDeadlineSeconds` (default: the seconds, in ms x 1000). */
  progressDeadlineMs?: (seconds: number) => number;
}

const DEPLOYMENTS = findType('apps', 'v1', 'deployments')!;
const REPLICASETS = findType('apps', 'v1', 'replicasets')!;
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
  private readonly onChange = (e: WatchEvent) => {
    if (e.type_ !== DEPLOYMENTS || e.type === 'DELETED') return;
    const d = e.object;
    if (d.metadata.generation !== d.status?.observedGeneration)
      this.reconcile(d.metadata.namespace ?? '', d.metadata.name);
  };

  /** The containers of the Pods, and their logs. */
  readonly kubelet: Kubelet;
  /** The Pods of the ReplicaSets. */
  private readonly replicaSets: ReplicaSetController;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: ControllerOptions,
  ) {
    const changed = (namespace: string, rs: string) => this.replicaSetChanged(namespace, rs);
    this.kubelet = new Kubelet(store, options, changed);
    this.replicaSets = new ReplicaSetController(store, this.kubelet, options.containers, changed);
    store.events.on('change', this.onChange);
  }

  /** Stops reacting to changes and cancels pending container and deadline timers. */
  stop() {
    this.store.events.off('change', this.onChange);
    this.replicaSets.stop();
    this.kubelet.stop();
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
    const created = !current;
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
    if (current.spec?.replicas !== desired || created) {
      const verb = created || Number(current.spec?.replicas ?? 0) < desired ? 'up' : 'down';
      this.recordEvent(
        namespace,
        name,
        'ScalingReplicaSet',
        `Scaled ${verb} replica set ${current.metadata.name} to ${desired}`,
      );
      current = this.store.update(REPLICASETS, {
        ...current,
        metadata: { ...current.metadata, resourceVersion: undefined },
        spec: { ...current.spec, replicas: desired },
      });
    }
    const generation = d.metadata.generation;
    const rsName = current.metadata.name;
    this.writeStatus(namespace, name, 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
    const seconds = Number(d.spec.progressDeadlineSeconds ?? 600);
    this.later(this.options.progressDeadlineMs?.(seconds) ?? seconds * 1000, () => {
      const now = this.store.get(DEPLOYMENTS, namespace, name);
      if (!now || now.metadata.generation !== generation || this.complete(now)) return;
      this.writeStatus(
        namespace,
        name,
        'ProgressDeadlineExceeded',
        `ReplicaSet "${rsName}" has timed out progressing.`,
      );
    });
    this.progress(namespace, name);
  }

  /** True when every replica runs the current template and is available, and no old one is left. */
  private complete(d: KubeObject): boolean {
    const desired = Number(d.spec?.replicas ?? 1);
    const s = d.status ?? {};
    return (
      Number(s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
      s.updatedReplicas === desired &&
      s.replicas === desired &&
      s.availableReplicas === desired
    );
  }

  /** A ReplicaSet's Pods changed: its status follows their readiness, and its Deployment's rollout moves on. */
  private replicaSetChanged(namespace: string, name: string) {
    const rs = this.store.get(REPLICASETS, namespace, name);
    if (!rs) return;
    const pods = this.replicaSets.podsOf(rs);
    const ready = pods.filter((p) =>
      (p.status?.conditions as { type: string; status: string }[] | undefined)?.some(
        (c) => c.type === 'Ready' && c.status === 'True',
      ),
    ).length;
    const status = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    this.store.update(
      REPLICASETS,
      { ...rs, metadata: { ...rs.metadata, resourceVersion: undefined }, status },
      'status',
    );
    const owner = rs.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Deployment');
    if (owner) this.progress(namespace, owner.name);
  }

  /** Scales the old ReplicaSets to 0 once the new one is available, and writes the Deployment's status. */
  private progress(namespace: string, name: string) {
    const d = this.store.get(DEPLOYMENTS, namespace, name);
    if (!d?.spec) return;
    const desired = Number(d.spec.replicas ?? 1);
    const owned = this.owned(d);
    const key = canonical(d.spec.template);
    const current = owned.find((rs) => canonical(templateWithoutHash(rs.spec?.template as Template)) === key);
    if (!current) return;
    if (Number(current.status?.availableReplicas ?? 0) >= desired && current.spec?.replicas === desired) {
      for (const rs of owned) {
        if (rs.metadata.name === current.metadata.name || Number(rs.spec?.replicas ?? 0) === 0) continue;
        this.recordEvent(namespace, name, 'ScalingReplicaSet', `Scaled down replica set ${rs.metadata.name} to 0`);
        this.store.update(REPLICASETS, {
          ...rs,
          metadata: { ...rs.metadata, resourceVersion: undefined },
          spec: { ...rs.spec, replicas: 0 },
        });
      }
    }
    this.writeStatus(namespace, name);
    const now = this.store.get(DEPLOYMENTS, namespace, name);
    const progressing = (now?.status?.conditions as { type: string; reason: string }[] | undefined)?.find(
      (c) => c.type === 'Progressing',
    );
    if (now && this.complete(now) && progressing?.reason !== 'NewReplicaSetAvailable') {
      this.writeStatus(
        namespace,
        name,
        'NewReplicaSetAvailable',
        `ReplicaSet "${current.metadata.name}" has successfully progressed.`,
      );
    }
  }

  /** Records a core/v1 Event about the Deployment, as the real deployment controller does when it scales. */
  private recordEvent(namespace: string, name: string, reason: string, message: string) {
    recordEvent(this.store, {
      namespace,
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      type: 'Normal',
      reason,
      message,
      component: 'deployment-controller',
    });
  }

  /** Writes the Deployment's status from its ReplicaSets'; the Progressing reason stays as it is when none is given. */
  private writeStatus(namespace: string, name: string, reason?: string, message?: string) {
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
    const old = (d.status?.conditions ?? []) as {
      type: string;
      status: string;
      reason: string;
      message: string;
      lastTransitionTime: string;
    }[];
    const previous = old.find((c) => c.type === 'Progressing');
    const why = reason ?? previous?.reason ?? 'ReplicaSetUpdated';
    const what = message ?? previous?.message ?? `ReplicaSet "${current?.metadata.name ?? name}" is progressing.`;
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
        condition('Progressing', why === 'ProgressDeadlineExceeded' ? 'False' : 'True', why, what),
      ],
    };
    this.store.update(
      DEPLOYMENTS,
      { ...d, metadata: { ...d.metadata, resourceVersion: undefined }, status: status as never },
      'status',
    );
  }
}
