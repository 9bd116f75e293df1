/** Core/v1 Events the fake cluster's controllers, scheduler and kubelet record. */
import { findType } from './resources.js';
import type { ObjectStore } from './store.js';

const EVENTS = findType('', 'v1', 'events')!;
let sequence = 0;

/** What an Event is about and says. */
export interface EventRecord {
  namespace: string;
  involvedObject: { apiVersion: string; kind: string; name: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** `deployment-controller`, `kubelet`, `default-scheduler`. */
  component: string;
  host?: string;
}

/**
 * Records an Event; the same one again (same object, reason and message, e.g. each `BackOff` of a
 * crash loop) bumps the first one's `count` and `lastTimestamp`, as the real event recorder aggregates.
 */
export function recordEvent(store: ObjectStore, e: EventRecord) {
  const at = new Date().toISOString();
  const same = store.select(EVENTS, e.namespace, (o) => {
    const involved = o.involvedObject as { kind?: string; name?: string } | undefined;
    return (
      involved?.kind === e.involvedObject.kind &&
      involved.name === e.involvedObject.name &&
      o.reason === e.reason &&
      o.message === e.message
    );
  })[0];
  if (same) {
    store.update(EVENTS, {
      ...same,
      metadata: { ...same.metadata, resourceVersion: undefined },
      count: Number(same.count ?? 1) + 1,
      lastTimestamp: at,
    });
    return;
  }
  store.create(EVENTS, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${e.involvedObject.name}.${Date.now().toString(16)}${(++sequence).toString(16)}`,
      namespace: e.namespace,
    },
    involvedObject: { ...e.involvedObject, namespace: e.namespace },
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component: e.component, ...(e.host ? { host: e.host } : {}) },
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  });
}
