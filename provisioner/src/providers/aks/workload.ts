/**
 * An app in its org's cluster through the Kubernetes API: server-side apply of its objects, rollback
 * to the pod template of an earlier release's ReplicaSet (as `kubectl rollout undo`), scaling, and
 * removal by deleting its namespace. The rollout's judgement is in rollout.ts.
 */
import {
  type KubernetesObject,
  type KubernetesObjectApi,
  PatchStrategy,
  type V1Deployment,
} from '@kubernetes/client-node';
import { type AppDesired, type AppScale, ProviderError, type ProviderState, type Step } from '../types.js';
import { fromKube, kubeStatus } from './errors.js';
import {
  appManifests,
  autoscaler,
  checkScale,
  type DeploymentOptions,
  namespaceOf,
  RELEASE_LABEL,
  selectorOf,
  validatedManifest,
} from './manifests.js';
import { ownedReplicaSets, readDeployment } from './rollout.js';

/** The field manager the provider applies as. */
export const FIELD_MANAGER = 'altinn-provisioner';

/** Server-side applies one object, taking over fields other managers own (the provisioner is authoritative). */
async function apply(api: KubernetesObjectApi, object: KubernetesObject) {
  try {
    await api.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (e) {
    throw fromKube(e, `apply ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`);
  }
}

/** The pod template of the ReplicaSet (owned by the app's Deployment) that ran `revision`, minus `pod-template-hash`. */
async function templateOfRelease(api: KubernetesObjectApi, org: string, app: string, revision: number) {
  const deployment = await readDeployment(api, org, app);
  const namespace = namespaceOf(org, app);
  const owned = deployment
    ? await ownedReplicaSets(api, deployment, { ...selectorOf(org, app), [RELEASE_LABEL]: String(revision) })
    : [];
  const template = owned[0]?.spec?.template;
  if (!deployment || !template) {
    throw new ProviderError(
      'RevisionNotFound',
      `no ReplicaSet of ${namespace}/${app} ran release ${revision}; it cannot be rolled back to`,
      false,
    );
  }
  const copy = structuredClone(template) as NonNullable<typeof template>;
  if (copy.metadata?.labels) delete copy.metadata.labels['pod-template-hash'];
  return copy;
}

/**
 * The field manager that owns a Deployment's `spec.replicas` for the provisioner, apart from the
 * autoscaler. The main apply (FIELD_MANAGER) leaves `spec.replicas` out once the Deployment exists,
 * as Kubernetes recommends with an HPA: re-applying a release never undoes what the autoscaler chose.
 */
export const REPLICAS_MANAGER = 'altinn-provisioner-replicas';

/** Server-side applies only the Deployment's `spec.replicas`, as REPLICAS_MANAGER. */
async function applyReplicas(api: KubernetesObjectApi, org: string, app: string, replicas: number) {
  const namespace = namespaceOf(org, app);
  const object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace }, spec: { replicas } };
  try {
    await api.patch(object, undefined, undefined, REPLICAS_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (e) {
    throw fromKube(e, `scale deployment ${namespace}/${app}`);
  }
}

/**
 * Applies the app's objects; on rollback the Deployment gets the earlier release's ReplicaSet template.
 * The replica count is set when the Deployment is created, and afterwards only when the running count
 * lies outside the requested bounds: between them it is the autoscaler's to choose. So the main apply
 * carries `spec.replicas` only at creation, and REPLICAS_MANAGER owns it from then on (applied before
 * the main apply leaves it out, so the field is never without an owner and reset to 1).
 */
export async function applyWorkload(
  api: KubernetesObjectApi,
  org: string,
  app: string,
  desired: AppDesired,
  addresses: Pick<DeploymentOptions, 'platformUrl' | 'appsUrl'> = {},
) {
  checkScale(desired.scale);
  const live = await readDeployment(api, org, app);
  const running = live?.spec?.replicas;
  const { minReplicas, maxReplicas } = desired.scale;
  const replicas =
    running !== undefined && running >= minReplicas && running <= maxReplicas ? running : desired.scale.replicas;
  if (live) await applyReplicas(api, org, app, replicas);
  const manifests = appManifests(
    org,
    app,
    desired.release,
    { ...desired.scale, replicas },
    { ...addresses, progressDeadlineMs: desired.progressDeadlineMs, omitReplicas: live !== undefined },
  );
  if (desired.rollback) {
    const template = await templateOfRelease(api, org, app, desired.release.revision);
    const deployment = manifests.find((m) => m.kind === 'Deployment') as V1Deployment;
    if (deployment.spec) deployment.spec.template = template;
  }
  for (const object of manifests) await apply(api, object);
  if (!live) await applyReplicas(api, org, app, replicas);
}

/** Sets the autoscaler's bounds and the Deployment's replicas; the release stays as it is. */
export async function scaleWorkload(api: KubernetesObjectApi, org: string, app: string, scale: AppScale) {
  checkScale(scale);
  const namespace = namespaceOf(org, app);
  if (!(await readDeployment(api, org, app)))
    throw new ProviderError('NotFound', `app ${namespace}/${app} is not deployed`, false);
  await apply(api, validatedManifest(autoscaler(org, app, scale)));
  await applyReplicas(api, org, app, scale.replicas);
}

/** One step of removing the app: delete its namespace, then wait until it is gone. */
export async function deleteWorkload(
  api: KubernetesObjectApi,
  org: string,
  app: string,
  state: ProviderState | undefined,
): Promise<Step<null>> {
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceOf(org, app) } };
  try {
    if (!state?.deleting) await api.delete(namespace);
    else await api.read(namespace);
  } catch (e) {
    if (kubeStatus(e) === 404) return { kind: 'done', state: {}, result: null };
    throw fromKube(e, `delete namespace ${namespace.metadata.name}`);
  }
  return {
    kind: 'pending',
    state: { deleting: true },
    retryAfterMs: 2000,
    message: `namespace ${namespace.metadata.name} is terminating`,
  };
}
