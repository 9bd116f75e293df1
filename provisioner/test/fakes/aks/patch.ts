/**
 * The patch formats the fake Kubernetes API server accepts: JSON patch (RFC 6902), JSON merge patch
 * (RFC 7386) and strategic merge patch with the list merge keys of the built-in types it serves.
 */

/** A JSON value as stored by the fake. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Raised when a patch cannot be applied; the server answers 422 or 400 with the message. */
export class PatchError extends Error {}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** List fields merged by key in a strategic merge patch (from the Kubernetes types' patchMergeKey tags). */
export const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  conditions: 'type',
  ownerReferences: 'uid',
  imagePullSecrets: 'name',
  tolerations: 'key',
};

/** RFC 7386: objects merge, `null` deletes, everything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/** A strategic merge patch: like a merge patch, but keyed lists merge element by element. */
export function strategicMerge(target: Json, patch: Json, field = ''): Json {
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, MERGE_KEYS[field]);
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return rest;
  }
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k.startsWith('$deleteFromPrimitiveList/')) continue;
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k] ?? null, v, k);
  }
  return out;
}

function mergeList(target: Json[], patch: Json[], key: string | undefined): Json[] {
  if (!key) return patch;
  const out = [...target];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const at = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = strategicMerge(out[at] ?? null, item);
    else out.push(strategicMerge(null, item));
  }
  return out;
}

/** RFC 6902 JSON patch: add, remove, replace, test, move, copy. */
export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations');
  let out = structuredClone(doc);
  for (const op of ops as { op: string; path: string; value?: Json; from?: string }[]) {
    switch (op.op) {
      case 'add':
      case 'replace':
        out = setAt(out, op.path, op.value ?? null, op.op);
        break;
      case 'remove':
        out = setAt(out, op.path, undefined, 'remove');
        break;
      case 'test':
        if (JSON.stringify(getAt(out, op.path)) !== JSON.stringify(op.value))
          throw new PatchError(`test failed at ${op.path}`);
        break;
      case 'copy':
      case 'move': {
        const value = structuredClone(getAt(out, op.from ?? ''));
        if (value === undefined) throw new PatchError(`missing value at ${op.from}`);
        if (op.op === 'move') out = setAt(out, op.from ?? '', undefined, 'remove');
        out = setAt(out, op.path, value, 'add');
        break;
      }
      default:
        throw new PatchError(`unknown json patch operation ${op.op}`);
    }
  }
  return out;
}

const tokens = (path: string) =>
  path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));

function getAt(doc: Json, path: string): Json | undefined {
  let cur: Json | undefined = doc;
  for (const t of tokens(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

function setAt(doc: Json, path: string, value: Json | undefined, op: string): Json {
  const parts = tokens(path);
  const last = parts.pop();
  if (last === undefined) return value ?? null;
  const parent = getAt(doc, parts.length ? `/${parts.join('/')}` : '');
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new PatchError(`bad index ${last} in ${path}`);
    if (op === 'remove') parent.splice(i, 1);
    else if (op === 'add') parent.splice(i, 0, value ?? null);
    else parent[i] = value ?? null;
  } else if (isObject(parent)) {
    if (op !== 'add' && !(last in parent)) throw new PatchError(`no value at ${path} to ${op}`);
    if (op === 'remove') delete parent[last];
    else parent[last] = value ?? null;
  } else throw new PatchError(`no parent for ${path}`);
  return doc;
}
