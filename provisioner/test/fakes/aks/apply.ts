/**
 * Server-side apply as far as the fake needs it: the applied configuration is merged into the live
 * object (keyed lists by their merge keys), and fields the same field manager applied last time but
 * left out now are removed, as the real server does for fields a manager stops owning, unless another
 * manager's last applied configuration still sets them (co-ownership keeps a field).
 */
import { type Json, MERGE_KEYS, strategicMerge } from './patch.js';

type JsonObject = { [key: string]: Json };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The object after `manager` applies `applied`, given what it applied before (`previous`) and what
 * the other managers of the object last applied (`others`).
 */
export function serverSideApply(live: Json, applied: Json, previous: Json | undefined, others: Json[] = []): Json {
  const merged = strategicMerge(live, applied);
  if (previous !== undefined) prune(merged, previous, applied, '', others);
  return merged;
}

/** Removes from `target` what `previous` set and `applied` no longer does, unless one of `others` sets it. */
function prune(target: Json, previous: Json, applied: Json, field: string, others: Json[]) {
  if (isObject(target) && isObject(previous) && isObject(applied)) {
    for (const key of Object.keys(previous)) {
      const owners = others.filter(isObject).flatMap((o) => (key in o ? [o[key] ?? null] : []));
      if (!(key in applied)) {
        if (owners.length === 0) delete target[key];
      } else prune(target[key] ?? null, previous[key] ?? null, applied[key] ?? null, key, owners);
    }
    return;
  }
  const mergeKey = MERGE_KEYS[field];
  if (!mergeKey || !Array.isArray(target) || !Array.isArray(previous) || !Array.isArray(applied)) return;
  const keyOf = (v: Json) => (isObject(v) ? JSON.stringify(v[mergeKey] ?? null) : undefined);
  for (const old of previous) {
    const key = keyOf(old);
    const now = applied.find((a) => keyOf(a) === key);
    const at = target.findIndex((t) => keyOf(t) === key);
    if (at < 0) continue;
    const owners = others.flatMap((o) => (Array.isArray(o) ? o.filter((e) => keyOf(e) === key) : []));
    if (now === undefined) {
      if (owners.length === 0) target.splice(at, 1);
    } else prune(target[at] ?? null, old, now, '', owners);
  }
}
