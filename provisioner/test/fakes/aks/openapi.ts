/**
 * The fake's OpenAPI v3 documents: only the PATCH operations with their `fieldValidation` query
 * parameter, which is what kubectl reads to learn that the server validates fields itself (so it
 * skips client-side schema validation, and its apply falls back to the built-in patch metadata).
 */
import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from './resources.js';

const gvPath = (t: { group: string; version: string }) =>
  t.group === '' ? `api/${t.version}` : `apis/${t.group}/${t.version}`;

/** `/openapi/v3`: one entry per served group version. */
export function openApiIndex() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const t of RESOURCE_TYPES) paths[gvPath(t)] = { serverRelativeURL: `/openapi/v3/${gvPath(t)}?hash=fake` };
  return { paths };
}

function patchPath(t: ResourceType) {
  const base = `/${gvPath(t)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
  return [
    base,
    {
      patch: {
        operationId: `patch${t.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string' } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
          { name: 'force', in: 'query', schema: { type: 'boolean' } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    },
  ] as const;
}

/** `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`, or undefined for an unknown one. */
export function openApiGroupVersion(path: string) {
  const types = RESOURCE_TYPES.filter((t) => gvPath(t) === path);
  if (types.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-fake', description: apiVersionOf(types[0] as ResourceType) },
    paths: Object.fromEntries(types.map(patchPath)),
    components: { schemas: {} },
  };
}
