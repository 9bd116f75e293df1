/** Watch streams of the fake Kubernetes API server: newline-delimited `{type, object}` events. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, type ObjectStore, type WatchEvent } from './store.js';

/** Streams the changes of one resource type (in a namespace, matching selectors) until the client leaves. */
export function watch(
  req: IncomingMessage,
  res: ServerResponse,
  store: ObjectStore,
  target: { type: ResourceType; namespace?: string },
  q: URLSearchParams,
) {
  const labels = q.get('labelSelector');
  const fields = q.get('fieldSelector');
  const relevant = (e: WatchEvent) =>
    e.type_ === target.type &&
    (target.namespace === undefined || e.object.metadata.namespace === target.namespace) &&
    matchesLabels(e.object.metadata.labels, labels) &&
    matchesFields(e.object, fields);
  const write = (e: WatchEvent) => {
    if (!relevant(e)) return;
    res.write(
      `${JSON.stringify({ type: e.type, object: { apiVersion: apiVersionOf(target.type), kind: target.type.kind, ...e.object } })}\n`,
    );
  };
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const since = Number(q.get('resourceVersion') ?? store.resourceVersion);
  if (since > 0) for (const e of store.eventsSince(target.type, since)) write(e);
  store.events.on('change', write);
  const timeout = Number(q.get('timeoutSeconds') ?? 0);
  const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
  const stop = () => {
    store.events.off('change', write);
    if (timer) clearTimeout(timer);
  };
  req.on('close', stop);
  res.on('close', stop);
}
