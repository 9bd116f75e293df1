/** The `/scale` subresource of the fake API server. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, send } from './http.js';
import { type Json, jsonPatch, mergePatch } from './patch.js';
import type { ResourceType } from './resources.js';
import { type KubeObject, notFound, type ObjectStore, StatusError } from './store.js';

/** The `/scale` subresource (autoscaling/v1 Scale) of a Deployment or ReplicaSet, as `kubectl scale` uses it. */
export async function scale(
  store: ObjectStore,
  res: ServerResponse,
  t: { type: ResourceType; namespace?: string; name: string },
  method: string,
  req: IncomingMessage,
  contentType: string,
) {
  const live = store.get(t.type, t.namespace, t.name);
  if (!live) throw notFound(t.type, t.name);
  const view = (o: KubeObject) => ({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
    },
    spec: { replicas: o.spec?.replicas ?? 1 },
    status: { replicas: o.status?.replicas ?? 0 },
  });
  if (method === 'GET') return send(res, 200, view(live));
  const body = await readBody(req);
  let next: { spec?: { replicas?: number } };
  try {
    const current = view(live) as unknown as Json;
    const parsed = JSON.parse(body) as Json;
    next = (
      method === 'PUT'
        ? parsed
        : contentType.startsWith('application/json-patch')
          ? jsonPatch(current, parsed)
          : mergePatch(current, parsed)
    ) as typeof next;
  } catch (e) {
    throw new StatusError(400, 'BadRequest', (e as Error).message);
  }
  const replicas = next.spec?.replicas;
  if (!Number.isInteger(replicas) || (replicas as number) < 0)
    throw new StatusError(422, 'Invalid', `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value`);
  const updated = store.update(t.type, {
    ...live,
    metadata: { ...live.metadata, resourceVersion: undefined },
    spec: { ...live.spec, replicas },
  });
  return send(res, 200, view(updated));
}
