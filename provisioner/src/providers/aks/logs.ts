/**
 * The last lines of an app's Pods' logs, read through the `pods/log` subresource with `tailLines` and
 * `timestamps` (the kubelet serves them: for a container waiting to restart after a crash, those of
 * its last run). Kubernetes does not keep stdout and stderr apart there, so every line is `stdout`.
 */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { ReplicaLogs } from '../types.js';
import { fromKube, kubeStatus } from './errors.js';
import { namespaceOf, RELEASE_LABEL, selectorOf } from './manifests.js';

/** Lines read from each Pod. */
export const LOG_TAIL_LINES = 50;

/** One `kubectl logs --timestamps` line: an RFC 3339 time, a space, the text. */
function parseLine(raw: string): ReplicaLogs['lines'][number] {
  const space = raw.indexOf(' ');
  const at = space > 0 ? Date.parse(raw.slice(0, space)) : Number.NaN;
  if (Number.isNaN(at)) return { at: new Date().toISOString(), stream: 'stdout', line: raw };
  return { at: new Date(at).toISOString(), stream: 'stdout', line: raw.slice(space + 1) };
}

/**
 * The last LOG_TAIL_LINES lines of each of the app's Pods (its container named like the app). A Pod
 * whose container has not started (its image cannot be pulled, it is being created) has no lines.
 */
export async function podLogs(core: CoreV1Api, org: string, app: string): Promise<ReplicaLogs[]> {
  const namespace = namespaceOf(org, app);
  const labelSelector = Object.entries(selectorOf(org, app))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  let pods: V1Pod[];
  try {
    pods = (await core.listNamespacedPod({ namespace, labelSelector })).items;
  } catch (e) {
    if (kubeStatus(e) === 404) return [];
    throw fromKube(e, `list pods of ${namespace}`);
  }
  return Promise.all(
    pods.map(async (pod) => {
      const name = pod.metadata?.name ?? '';
      const container = pod.spec?.containers.find((c) => c.name === app)?.name ?? pod.spec?.containers[0]?.name;
      let text = '';
      try {
        text = await core.readNamespacedPodLog({
          name,
          namespace,
          container,
          tailLines: LOG_TAIL_LINES,
          timestamps: true,
        });
      } catch (e) {
        const status = kubeStatus(e);
        // 400: the container waits to start; 404: the Pod went away meanwhile.
        if (status !== 400 && status !== 404) throw fromKube(e, `read the log of pod ${namespace}/${name}`);
      }
      return {
        replica: name,
        revision: Number(pod.metadata?.labels?.[RELEASE_LABEL] ?? 0),
        lines: text
          .split('\n')
          .filter((l) => l !== '')
          .map(parseLine),
      };
    }),
  );
}
