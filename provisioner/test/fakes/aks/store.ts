/**
 * The fake Kubernetes API server's object store: objects in memory with the metadata the real server
 * keeps (uid, resourceVersion, generation, creationTimestamp), its error Status objects, label and
 * field selectors, and watch events.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Json } from './patch.js';
import type { ResourceType } from './resources.js';

/** A stored Kubernetes object. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    [key: string]: unknown;
  };
  spec?: { [key: string]: Json | undefined };
  status?: { [key: string]: Json | undefined };
  [key: string]: unknown;
};

/** A watch event as the API server streams it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  rv: number;
  type_: ResourceType;
}

/** An error the server answers as a `Status` object with the real reason and code. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The `Status` body Kubernetes sends for this error. */
  toStatus() {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/** `deployments.apps` or `configmaps`: the qualified resource name used in error messages. */
export const qualified = (t: ResourceType) => (t.group ? `${t.resource}.${t.group}` : t.resource);

/** 404 NotFound for `name` of type `t`. */
export function notFound(t: ResourceType, name: string) {
  return new StatusError(404, 'NotFound', `${qualified(t)} "${name}" not found`, {
    name,
    group: t.group,
    kind: t.resource,
  });
}

/** True when `labels` satisfy a label selector string (`a=b,c!=d,e in (f,g),h,!i`). */
export function matchesLabels(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  const terms = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return terms.every((raw) => {
    const term = raw.trim();
    const set = term.match(/^(\S+)\s+(in|notin)\s+\((.*)\)$/);
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => v.trim());
      const has = values.includes(l[set[1] ?? ''] ?? '\u0000');
      return set[2] === 'in' ? has : !has;
    }
    const ne = term.split('!=');
    if (ne.length === 2) return l[ne[0] ?? ''] !== ne[1];
    const eq = term.split(/==?/);
    if (eq.length === 2) return l[eq[0] ?? ''] === eq[1];
    if (term.startsWith('!')) return !(term.slice(1) in l);
    return term in l;
  });
}

/** True when the object satisfies a field selector on `metadata.name` / `metadata.namespace`. */
export function matchesFields(obj: KubeObject, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [field, value] = term.split(/==?/) as [string, string];
    const actual =
      field === 'metadata.name'
        ? obj.metadata.name
        : field === 'metadata.namespace'
          ? obj.metadata.namespace
          : undefined;
    return actual === value;
  });
}

/** The objects of every type, keyed by type and `namespace/name`, and the event stream of changes. */
export class ObjectStore {
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private rv = 0;
  /** Recent events, for watches that start from an older resourceVersion. */
  private readonly history: WatchEvent[] = [];
  readonly events = new EventEmitter().setMaxListeners(0);

  /** The current resourceVersion of the whole store. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  private table(t: ResourceType) {
    let m = this.objects.get(t);
    if (!m) {
      m = new Map();
      this.objects.set(t, m);
    }
    return m;
  }

  /** A copy of the object, or undefined. */
  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.table(t).get(`${namespace ?? ''}/${name}`);
    return o && structuredClone(o);
  }

  /** Copies of the objects in `namespace` (all when undefined) that match the selectors. */
  list(
    t: ResourceType,
    namespace?: string,
    labelSelector: string | null = null,
    fieldSelector: string | null = null,
  ): KubeObject[] {
    return [...this.table(t).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => matchesLabels(o.metadata.labels, labelSelector) && matchesFields(o, fieldSelector))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((o) => structuredClone(o));
  }

  /** Copies of the objects in `namespace` that satisfy `keep`, without copying the others. */
  select(t: ResourceType, namespace: string | undefined, keep: (o: KubeObject) => boolean): KubeObject[] {
    return [...this.table(t).values()]
      .filter((o) => o.metadata.namespace === namespace && keep(o))
      .map((o) => structuredClone(o));
  }

  /** Stores a new object; 409 AlreadyExists when the name is taken. */
  create(t: ResourceType, obj: KubeObject): KubeObject {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    if (this.table(t).has(key)) {
      throw new StatusError(409, 'AlreadyExists', `${qualified(t)} "${obj.metadata.name}" already exists`, {
        name: obj.metadata.name,
        group: t.group,
        kind: t.resource,
      });
    }
    const stored: KubeObject = structuredClone(obj);
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    stored.metadata.generation = 1;
    delete stored.metadata.deletionTimestamp;
    return this.commit(t, key, stored, 'ADDED');
  }

  /**
   * Replaces an object with `obj`; 409 Conflict when `obj` carries a stale resourceVersion. The
   * generation is bumped when the spec changed; the status is kept unless `subresource` is `status`.
   */
  update(t: ResourceType, obj: KubeObject, subresource?: string): KubeObject {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const live = this.table(t).get(key);
    if (!live) throw notFound(t, obj.metadata.name);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== live.metadata.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(t)} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: obj.metadata.name, group: t.group, kind: t.resource },
      );
    }
    const next: KubeObject = structuredClone(
      subresource === 'status' ? { ...live, status: obj.status } : { ...obj, status: live.status },
    );
    next.metadata = {
      ...next.metadata,
      uid: live.metadata.uid,
      creationTimestamp: live.metadata.creationTimestamp,
      generation: live.metadata.generation,
    };
    if (live.metadata.deletionTimestamp) next.metadata.deletionTimestamp = live.metadata.deletionTimestamp;
    if (subresource !== 'status' && JSON.stringify(next.spec) !== JSON.stringify(live.spec)) {
      next.metadata.generation = (live.metadata.generation ?? 1) + 1;
    }
    if (
      JSON.stringify(next) ===
      JSON.stringify({ ...live, metadata: { ...live.metadata, resourceVersion: next.metadata.resourceVersion } })
    ) {
      return structuredClone(live);
    }
    return this.commit(t, key, next, 'MODIFIED');
  }

  /** Removes an object; 404 when absent. */
  delete(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = `${namespace ?? ''}/${name}`;
    const live = this.table(t).get(key);
    if (!live) throw notFound(t, name);
    this.table(t).delete(key);
    this.rv += 1;
    this.emit({ type: 'DELETED', object: structuredClone(live), rv: this.rv, type_: t });
    return structuredClone(live);
  }

  /** Events of type `t` after resourceVersion `since` that are still remembered. */
  eventsSince(t: ResourceType, since: number): WatchEvent[] {
    return this.history.filter((e) => e.type_ === t && e.rv > since);
  }

  private commit(t: ResourceType, key: string, obj: KubeObject, type: WatchEvent['type']): KubeObject {
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    this.table(t).set(key, obj);
    this.emit({ type, object: structuredClone(obj), rv: this.rv, type_: t });
    return structuredClone(obj);
  }

  private emit(e: WatchEvent) {
    this.history.push(e);
    if (this.history.length > 2000) this.history.splice(0, 1000);
    this.events.emit('change', e);
  }
}
