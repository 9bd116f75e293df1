/**
 * The fake cluster's ReplicaSet controller and scheduler: each ReplicaSet gets as many Pods as its
 * `spec.replicas` (named `{replicaset}-{5 chars}`, its template's labels incl. `pod-template-hash`, a
 * controller ownerReference), newest deleted first when it shrinks; each new Pod is bound to the
 * node (or left `Pending` as `Unschedulable`) and handed to the kubelet.
 */
import { recordEvent } from './events.js';
import { type ContainerBehaviour, type Kubelet, NODE } from './kubelet.js';
import type { Json } from './patch.js';
import { findType } from './resources.js';
import type { KubeObject, ObjectStore, WatchEvent } from './store.js';

const PODS = findType('', 'v1', 'pods')!;
const REPLICASETS = findType('apps', 'v1', 'replicasets')!;
const POD_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Keeps each ReplicaSet's Pods. */
export class ReplicaSetController {
  private readonly onChange = (e: WatchEvent) => {
    if (e.type_ === REPLICASETS && e.type !== 'DELETED') {
      const { namespace = '', name } = e.object.metadata;
      queueMicrotask(() => this.syncReplicaSet(namespace, name));
    }
  };

  constructor(
    private readonly store: ObjectStore,
    private readonly kubelet: Kubelet,
    /** The behaviour of a container by its image (`Unschedulable` is the scheduler's to play). */
    private readonly containers: ((image: string) => ContainerBehaviour | undefined) | undefined,
    /** Called when the Pods of a ReplicaSet were created or deleted. */
    private readonly podsChanged: (namespace: string, replicaSet: string) => void,
  ) {
    store.events.on('change', this.onChange);
  }

  /** Stops reacting to changes. */
  stop() {
    this.store.events.off('change', this.onChange);
  }

  /** The Pods a ReplicaSet controls. */
  podsOf(rs: KubeObject): KubeObject[] {
    return this.store.select(
      PODS,
      rs.metadata.namespace,
      (p) => p.metadata.ownerReferences?.some((o) => o.uid === rs.metadata.uid && o.controller) ?? false,
    );
  }

  /** Creates or deletes Pods until the ReplicaSet has `spec.replicas` of them (newest deleted first). */
  private syncReplicaSet(namespace: string, name: string) {
    const rs = this.store.get(REPLICASETS, namespace, name);
    if (!rs) return;
    const pods = this.podsOf(rs);
    const want = Number(rs.spec?.replicas ?? 0);
    if (pods.length === want) return;
    if (pods.length > want) {
      const newest = [...pods].sort((a, b) =>
        (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
      );
      for (const p of newest.slice(0, pods.length - want)) {
        this.store.delete(PODS, namespace, p.metadata.name);
        this.event(namespace, p.metadata.name, 'Normal', 'Killing', `Stopping container ${this.containerOf(p)}`);
      }
    } else {
      for (let i = pods.length; i < want; i++) this.createPod(rs);
    }
    this.podsChanged(namespace, name);
  }

  private containerOf(pod: KubeObject): string {
    return ((pod.spec?.containers ?? []) as { name: string }[])[0]?.name ?? '';
  }

  private createPod(rs: KubeObject) {
    const template = rs.spec?.template as { metadata?: KubeObject['metadata']; spec?: Record<string, Json> };
    const namespace = rs.metadata.namespace ?? '';
    let name: string;
    do {
      name = `${rs.metadata.name}-${Array.from({ length: 5 }, () => POD_SUFFIX[Math.floor(Math.random() * POD_SUFFIX.length)]).join('')}`;
    } while (this.store.get(PODS, namespace, name));
    const containers = (template.spec?.containers ?? []) as { name: string; image: string }[];
    const pod = this.store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${rs.metadata.name}-`,
        namespace,
        labels: { ...template.metadata?.labels },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: rs.metadata.name,
            uid: rs.metadata.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          } as never,
        ],
      },
      spec: { restartPolicy: 'Always', ...template.spec },
      status: { phase: 'Pending', qosClass: 'Burstable' },
    });
    const container = containers[0];
    if (!container) return;
    const behaviour = this.containers?.(container.image) ?? { fate: 'Ready' };
    if (behaviour.fate === 'Unschedulable') {
      const message =
        '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.';
      this.event(namespace, name, 'Warning', 'FailedScheduling', message, 'default-scheduler');
      const status = {
        ...pod.status,
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: now(),
            reason: 'Unschedulable',
            message,
          },
        ],
      };
      this.store.update(PODS, { ...pod, metadata: { ...pod.metadata, resourceVersion: undefined }, status }, 'status');
      return;
    }
    const scheduled = this.store.update(PODS, {
      ...pod,
      metadata: { ...pod.metadata, resourceVersion: undefined },
      spec: { ...pod.spec, nodeName: NODE },
    });
    this.event(
      namespace,
      name,
      'Normal',
      'Scheduled',
      `Successfully assigned ${namespace}/${name} to ${NODE}`,
      'default-scheduler',
    );
    this.kubelet.run(scheduled, container, behaviour);
  }

  /** Records a core/v1 Event about a Pod. */
  private event(
    namespace: string,
    pod: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component = 'kubelet',
  ) {
    recordEvent(this.store, {
      namespace,
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod },
      type,
      reason,
      message,
      component,
    });
  }
}
