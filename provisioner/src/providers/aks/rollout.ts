/**
 * An app's rollout as Kubernetes judges it, and why it fails: the Deployment's status and conditions
 * (`kubectl rollout status`'s rules), the new ReplicaSet's available replicas, and the states of the
 * new ReplicaSet's Pods' containers, which say what the Deployment's conditions do not
 * (`ImagePullFailed`, `CrashLoopBackOff`, `ReadinessFailed`).
 */
import type { KubernetesObjectApi, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { noRollout, type RolloutStatus } from '../types.js';
import { fromKube, kubeStatus } from './errors.js';
import { namespaceOf, RELEASE_LABEL, selectorOf } from './manifests.js';

const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';
/** Waiting reasons of a container whose image the kubelet cannot pull (or parse). */
const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
/**
 * Restarts after which a container that keeps exiting without becoming ready is a crash loop, as the
 * local provider counts them: one or two crashes may be a dependency that was not up yet.
 */
export const CRASH_LOOP_RESTARTS = 3;

/** The Deployment of the app, or undefined when there is none. */
export async function readDeployment(
  api: KubernetesObjectApi,
  org: string,
  app: string,
): Promise<V1Deployment | undefined> {
  try {
    return (await api.read({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: app, namespace: namespaceOf(org, app) },
    })) as V1Deployment;
  } catch (e) {
    if (kubeStatus(e) === 404) return undefined;
    throw fromKube(e, `read deployment ${org}-${app}/${app}`);
  }
}

/** Lists objects of the app's namespace matching `labels`. */
async function list<T>(api: KubernetesObjectApi, kind: string, namespace: string, labels: Record<string, string>) {
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  try {
    const apiVersion = kind === 'Pod' ? 'v1' : 'apps/v1';
    const result = await api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, selector);
    return result.items as T[];
  } catch (e) {
    throw fromKube(e, `list ${kind.toLowerCase()}s of ${namespace}`);
  }
}

/** The ReplicaSets the Deployment controls, newest revision first. */
export async function ownedReplicaSets(
  api: KubernetesObjectApi,
  deployment: V1Deployment,
  labels: Record<string, string>,
): Promise<V1ReplicaSet[]> {
  const items = await list<V1ReplicaSet>(api, 'ReplicaSet', deployment.metadata?.namespace ?? '', labels);
  return items
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === deployment.metadata?.uid))
    .sort(
      (a, b) => Number(b.metadata?.annotations?.[REVISION] ?? 0) - Number(a.metadata?.annotations?.[REVISION] ?? 0),
    );
}

/** The Pods a ReplicaSet controls (by its `pod-template-hash` and owner reference). */
async function podsOf(api: KubernetesObjectApi, rs: V1ReplicaSet, labels: Record<string, string>): Promise<V1Pod[]> {
  const hash = rs.metadata?.labels?.[HASH];
  const items = await list<V1Pod>(
    api,
    'Pod',
    rs.metadata?.namespace ?? '',
    hash ? { ...labels, [HASH]: hash } : labels,
  );
  return items.filter((p) => p.metadata?.ownerReferences?.some((o) => o.controller && o.uid === rs.metadata?.uid));
}

/**
 * Why the Pods of a new ReplicaSet fail, if they do: an image that cannot be pulled (at once), a
 * container that keeps crashing before it is ready, or (once the progress deadline has passed) a
 * container that runs but never passes its readiness probe.
 */
export function podFailure(pods: V1Pod[], deadlineExceeded: boolean): RolloutStatus['failure'] {
  const containers = pods.flatMap((pod) =>
    [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((c) => ({
      pod: pod.metadata?.name ?? '',
      phase: pod.status?.phase,
      c,
    })),
  );
  for (const { pod, c } of containers) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return {
        reason: 'ImagePullFailed',
        message: `pod ${pod} cannot pull image ${c.image}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
      };
    }
  }
  for (const { pod, c } of containers) {
    const exited = c.state?.terminated ?? c.lastState?.terminated;
    const looping = c.state?.waiting?.reason === 'CrashLoopBackOff' || c.state?.terminated !== undefined;
    if (!c.ready && looping && c.restartCount >= CRASH_LOOP_RESTARTS) {
      const how = exited
        ? `; last exit code ${exited.exitCode}${exited.reason ? ` (${exited.reason})` : ''}${exited.message ? `: ${exited.message}` : ''}`
        : '';
      return {
        reason: 'CrashLoopBackOff',
        message: `container ${c.name} of pod ${pod} crashed ${c.restartCount} times without becoming ready${how}`,
      };
    }
  }
  if (deadlineExceeded) {
    const unready = containers.find(({ phase, c }) => phase === 'Running' && c.state?.running && !c.ready);
    if (unready) {
      return {
        reason: 'ReadinessFailed',
        message: `container ${unready.c.name} of pod ${unready.pod} runs but did not pass its readiness probe within the progress deadline`,
      };
    }
  }
  return undefined;
}

/**
 * The rollout as Kubernetes judges it: complete when the Deployment controller has observed the
 * current spec, every replica runs the new template, none of an older one is left, all are available,
 * the new ReplicaSet itself has them all available, and the Progressing condition says
 * `NewReplicaSetAvailable`. While it is not, the new ReplicaSet's Pods say whether it fails.
 */
export async function workloadRollout(api: KubernetesObjectApi, org: string, app: string): Promise<RolloutStatus> {
  const d = await readDeployment(api, org, app);
  if (!d) return noRollout();
  const s = d.status ?? {};
  const replicas = d.spec?.replicas ?? 1;
  const updatedReplicas = s.updatedReplicas ?? 0;
  const oldReplicas = Math.max(0, (s.replicas ?? 0) - updatedReplicas);
  const availableReplicas = s.availableReplicas ?? 0;
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  const release = d.spec?.template?.metadata?.labels?.[RELEASE_LABEL];
  const selector = selectorOf(org, app);
  // Once the controller has observed the spec, the new ReplicaSet is the one with the highest revision.
  const newReplicaSet = observed ? (await ownedReplicaSets(api, d, selector))[0] : undefined;
  const complete =
    observed &&
    newReplicaSet !== undefined &&
    updatedReplicas === replicas &&
    (s.replicas ?? 0) === replicas &&
    availableReplicas === replicas &&
    (newReplicaSet.status?.availableReplicas ?? 0) >= replicas &&
    (!progressing || progressing.reason === 'NewReplicaSetAvailable');
  const status: RolloutStatus = {
    revision: release === undefined ? null : Number(release),
    replicas,
    updatedReplicas,
    readyReplicas: s.readyReplicas ?? 0,
    availableReplicas,
    oldReplicas,
    complete,
  };
  if (complete || !observed) return status;
  const deadlineExceeded = progressing?.reason === 'ProgressDeadlineExceeded';
  const failure = newReplicaSet ? podFailure(await podsOf(api, newReplicaSet, selector), deadlineExceeded) : undefined;
  if (failure) status.failure = failure;
  else if (deadlineExceeded) {
    status.failure = {
      reason: 'ProgressDeadlineExceeded',
      message: progressing?.message ?? 'the rollout exceeded its progress deadline',
    };
  }
  return status;
}
