/**
 * An in-process fake Kubernetes API server on 127.0.0.1: discovery, CRUD, list with selectors, watch,
 * JSON / merge / strategic-merge / server-side-apply patches, Status errors with real reasons, a
 * Deployment controller, Pods with a kubelet whose containers' fate a test sets per image, `pods/log`,
 * owner-reference garbage collection and namespace termination. Real `kubectl` and `@kubernetes/client-node` talk to it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadYaml } from '@kubernetes/client-node';
import { serverSideApply } from './apply.js';
import { type ControllerOptions, DeploymentController } from './controller.js';
import { readBody, send } from './http.js';
import { openApiGroupVersion, openApiIndex } from './openapi.js';
import { type Json, jsonPatch, mergePatch, PatchError, strategicMerge } from './patch.js';
import {
  apiVersionOf,
  coreVersions,
  findType,
  groupList,
  RESOURCE_TYPES,
  type ResourceType,
  resourceList,
  VERSION_INFO,
} from './resources.js';
import { scale } from './scale.js';
import { type KubeObject, notFound, ObjectStore, StatusError } from './store.js';
import { watch } from './watch.js';

/** Knobs of the fake cluster. */
export interface FakeApiServerOptions extends Partial<ControllerOptions> {
  /** Milliseconds a deleted namespace stays `Terminating` before it and its objects are gone. */
  namespaceDeleteDelayMs?: number;
}

/** A running fake API server. */
export interface FakeApiServer {
  url: string;
  store: ObjectStore;
  /** A kubeconfig (YAML) that points at this server, for kubectl and `KubeConfig.loadFromString`. */
  kubeconfig: string;
  close(): Promise<void>;
}

const NAMESPACES = findType('', 'v1', 'namespaces')!;
const PODS = findType('', 'v1', 'pods')!;

/** Parsed request path: the type, the namespace and name when given, and the subresource. */
interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function parseTarget(parts: string[]): Target | undefined {
  // parts after /api or /apis: [group?] version (namespaces ns)? resource (name (sub)?)?
  const [group, version, ...rest] = parts[0] === 'api' ? ['', ...parts.slice(1)] : parts.slice(1);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest.splice(0, 2);
  }
  const type = findType(group ?? '', version ?? '', rest[0] ?? '');
  if (!type || rest.length > 3) return undefined;
  if (type === NAMESPACES && namespace === undefined && rest[1]) return { type, name: rest[1], subresource: rest[2] };
  return { type, namespace, name: rest[1], subresource: rest[2] };
}

/** Starts the fake API server on a random port of 127.0.0.1. */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const store = new ObjectStore();
  const controller = new DeploymentController(store, { readyDelayMs: 50, ...options });
  const terminations = new Set<NodeJS.Timeout>();
  /** What each field manager last applied to each object, to drop the fields it stops applying. */
  const appliedBy = new Map<string, Json>();

  const withKind = (t: ResourceType, o: KubeObject): KubeObject => ({
    apiVersion: apiVersionOf(t),
    kind: t.kind,
    ...o,
  });

  function parseObject(text: string, contentType: string): KubeObject {
    try {
      return (contentType.includes('yaml') ? loadYaml(text) : JSON.parse(text)) as KubeObject;
    } catch {
      throw new StatusError(400, 'BadRequest', 'the request body could not be decoded');
    }
  }

  function requireNamespace(t: Target) {
    if (t.type.namespaced && t.namespace && !store.get(NAMESPACES, undefined, t.namespace)) {
      throw new StatusError(404, 'NotFound', `namespaces "${t.namespace}" not found`, {
        name: t.namespace,
        kind: 'namespaces',
      });
    }
  }

  function create(t: Target, obj: KubeObject): KubeObject {
    if (!obj?.metadata?.name)
      throw new StatusError(
        422,
        'Invalid',
        `${t.type.kind} is invalid: metadata.name: Required value: name is required`,
      );
    if (t.type.namespaced) {
      const ns = t.namespace ?? obj.metadata.namespace;
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        throw new StatusError(
          400,
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = ns;
    }
    requireNamespace(t);
    const ns = t.type.namespaced && t.namespace ? store.get(NAMESPACES, undefined, t.namespace) : undefined;
    if (ns?.metadata.deletionTimestamp) {
      throw new StatusError(
        403,
        'Forbidden',
        `${t.type.resource} "${obj.metadata.name}" is forbidden: unable to create new content in namespace ${t.namespace} because it is being terminated`,
      );
    }
    if (t.type === NAMESPACES) obj.status = { phase: 'Active' };
    return store.create(t.type, withKind(t.type, obj));
  }

  function remove(t: Target & { name: string }): KubeObject {
    if (t.type === NAMESPACES) {
      const ns = store.get(NAMESPACES, undefined, t.name);
      if (!ns) throw notFound(t.type, t.name);
      if (ns.metadata.deletionTimestamp) return ns;
      ns.metadata.deletionTimestamp = new Date().toISOString();
      const terminating = store.update(NAMESPACES, { ...ns, status: { phase: 'Terminating' } }, 'status');
      const timer = setTimeout(() => {
        terminations.delete(timer);
        for (const type of RESOURCE_TYPES.filter((r) => r.namespaced)) {
          for (const o of store.list(type, t.name)) store.delete(type, t.name, o.metadata.name);
        }
        store.delete(NAMESPACES, undefined, t.name);
      }, options.namespaceDeleteDelayMs ?? 20);
      terminations.add(timer);
      return terminating;
    }
    const gone = store.delete(t.type, t.namespace, t.name);
    // The garbage collector: dependents go with their owner, and theirs with them (Deployment, ReplicaSets, Pods).
    const collect = (owner: KubeObject) => {
      for (const type of RESOURCE_TYPES.filter((r) => r.namespaced)) {
        for (const o of store.list(type, t.namespace)) {
          if (o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid))
            collect(store.delete(type, t.namespace, o.metadata.name));
        }
      }
    };
    collect(gone);
    return gone;
  }

  function patch(t: Target & { name: string }, text: string, contentType: string, manager: string): KubeObject {
    const live = store.get(t.type, t.namespace, t.name);
    if (contentType.startsWith('application/apply-patch')) {
      const applied = parseObject(text, 'yaml');
      const object = `${t.type.resource}/${t.namespace ?? ''}/${t.name}/`;
      const key = `${object}${manager}`;
      if (!live) {
        // A new object: what managers applied to an earlier one of the same name no longer counts.
        for (const k of [...appliedBy.keys()]) if (k.startsWith(object)) appliedBy.delete(k);
        appliedBy.set(key, applied as unknown as Json);
        return create(t, applied);
      }
      const previous = appliedBy.get(key);
      appliedBy.set(key, applied as unknown as Json);
      const others = [...appliedBy].filter(([k]) => k.startsWith(object) && k !== key).map(([, v]) => v);
      const merged = serverSideApply(
        live as unknown as Json,
        applied as unknown as Json,
        previous,
        others,
      ) as unknown as KubeObject;
      return store.update(t.type, { ...merged, metadata: { ...merged.metadata, resourceVersion: undefined } });
    }
    if (!live) throw notFound(t.type, t.name);
    let next: Json;
    try {
      const body = JSON.parse(text) as Json;
      if (contentType.startsWith('application/json-patch+json')) next = jsonPatch(live as unknown as Json, body);
      else if (contentType.startsWith('application/merge-patch+json')) next = mergePatch(live as unknown as Json, body);
      else if (contentType.startsWith('application/strategic-merge-patch+json'))
        next = strategicMerge(live as unknown as Json, body);
      else
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        );
    } catch (e) {
      if (e instanceof StatusError) throw e;
      throw new StatusError(
        e instanceof PatchError ? 422 : 400,
        e instanceof PatchError ? 'Invalid' : 'BadRequest',
        (e as Error).message,
      );
    }
    const obj = next as unknown as KubeObject;
    return store.update(t.type, obj, t.subresource);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const parts = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    if (url.pathname === '/version') return send(res, 200, VERSION_INFO);
    if (url.pathname === '/api') return send(res, 200, coreVersions());
    if (url.pathname === '/apis') return send(res, 200, groupList());
    if (url.pathname === '/openapi/v3') return send(res, 200, openApiIndex());
    if (url.pathname.startsWith('/openapi/v3/')) {
      const doc = openApiGroupVersion(url.pathname.slice('/openapi/v3/'.length));
      if (doc) return send(res, 200, doc);
    }
    if (parts[0] === 'api' && parts.length === 2) return discovery(res, '', parts[1] ?? '');
    if (parts[0] === 'apis' && parts.length === 3) return discovery(res, parts[1] ?? '', parts[2] ?? '');
    const t = parts[0] === 'api' || parts[0] === 'apis' ? parseTarget(parts) : undefined;
    if (!t) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const q = url.searchParams;
    const contentType = req.headers['content-type'] ?? 'application/json';
    if (!t.name) {
      if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1'))
        return watch(req, res, store, t, q);
      if (method === 'GET') {
        const items = store.list(t.type, t.namespace, q.get('labelSelector'), q.get('fieldSelector'));
        return send(res, 200, {
          kind: `${t.type.kind}List`,
          apiVersion: apiVersionOf(t.type),
          metadata: { resourceVersion: store.resourceVersion },
          items,
        });
      }
      if (method === 'POST') return send(res, 201, create(t, parseObject(await readBody(req), contentType)));
      throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    const named = t as Target & { name: string };
    if (t.subresource === 'scale' && t.type.subresources.includes('scale')) {
      await scale(store, res, named, method, req, contentType);
      // An update through /scale (the HPA's, kubectl scale) takes spec.replicas from the managers that applied it.
      if (method !== 'GET' && res.statusCode === 200) {
        const object = `${t.type.resource}/${t.namespace ?? ''}/${named.name}/`;
        for (const [k, v] of appliedBy) {
          const spec = k.startsWith(object) && typeof v === 'object' && v && !Array.isArray(v) ? v.spec : undefined;
          if (spec && typeof spec === 'object' && !Array.isArray(spec)) delete spec.replicas;
        }
      }
      return;
    }
    if (t.type === PODS && t.subresource === 'log' && method === 'GET' && t.namespace) {
      const text = controller.kubelet.log(t.namespace, named.name, q);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      return res.end(text);
    }
    if (t.subresource && t.subresource !== 'status')
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    switch (method) {
      case 'GET': {
        const o = store.get(t.type, t.namespace, named.name);
        if (!o) throw notFound(t.type, named.name);
        return send(res, 200, o);
      }
      case 'PUT': {
        const obj = parseObject(await readBody(req), contentType);
        if (obj.metadata?.name !== named.name)
          throw new StatusError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        if (t.namespace) obj.metadata.namespace = t.namespace;
        return send(res, 200, store.update(t.type, withKind(t.type, obj), t.subresource));
      }
      case 'PATCH': {
        const body = await readBody(req);
        const before = store.get(t.type, t.namespace, named.name);
        const out = patch(named, body, contentType, q.get('fieldManager') ?? '');
        return send(res, before ? 200 : 201, out);
      }
      case 'DELETE':
        return send(res, 200, remove(named));
      default:
        throw new StatusError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
    }
  }

  function discovery(res: ServerResponse, group: string, version: string) {
    const list = resourceList(group, version);
    if (!list) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    send(res, 200, list);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err =
        e instanceof StatusError
          ? e
          : new StatusError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
      if (!res.headersSent) send(res, err.code, err.toStatus());
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    kubeconfig: kubeconfigFor(url),
    async close() {
      controller.stop();
      for (const t of terminations) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A kubeconfig with one cluster, user and context named `fake` pointing at `url`. */
export function kubeconfigFor(url: string, name = 'fake'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    // client-node refuses plain http unless TLS verification is (trivially) skipped.
    `clusters: [{ name: ${name}, cluster: { server: "${url}", insecure-skip-tls-verify: true } }]`,
    `users: [{ name: ${name}-user, user: { token: fake-token } }]`,
    `contexts: [{ name: ${name}, context: { cluster: ${name}, user: ${name}-user } }]`,
    `current-context: ${name}`,
    '',
  ].join('\n');
}
