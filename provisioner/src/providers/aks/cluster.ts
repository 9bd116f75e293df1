/**
 * An org's AKS cluster through Azure Resource Manager: create-or-update and delete as long-running
 * operations whose poller state is kept in the operation record (`poller.toString()`) and resumed with
 * `resumeFrom`, so a step never blocks and survives a restart of the provisioner.
 */
import type { ContainerServiceClient, ManagedCluster } from '@azure/arm-containerservice';
import type { ClusterSpec, ProviderState, Step } from '../types.js';
import { ProviderError } from '../types.js';
import { fromArm, retryAfterMs } from './errors.js';

/** Where an org's clusters live in Azure. */
export interface ClusterTarget {
  client: ContainerServiceClient;
  resourceGroup: string;
  /** Milliseconds to wait between polls when ARM sends no `Retry-After`. */
  pollIntervalMs: number;
}

/** The managed cluster's name for an org. */
export const clusterName = (org: string) => `aks-${org}`;

/** The ARM body of an org's cluster: one autoscaled (or fixed) system pool, system-assigned identity. */
export function clusterParameters(org: string, spec: ClusterSpec): ManagedCluster {
  const autoscale = spec.maxNodes !== undefined;
  return {
    location: spec.region,
    tags: { org, 'managed-by': 'provisioner' },
    identity: { type: 'SystemAssigned' },
    kubernetesVersion: spec.kubernetesVersion,
    dnsPrefix: clusterName(org),
    enableRbac: true,
    agentPoolProfiles: [
      {
        name: 'system',
        mode: 'System',
        osType: 'Linux',
        type: 'VirtualMachineScaleSets',
        vmSize: spec.vmSize,
        count: spec.nodeCount,
        enableAutoScaling: autoscale,
        ...(autoscale ? { minCount: spec.nodeCount, maxCount: spec.maxNodes } : {}),
      },
    ],
  };
}

interface RawResponse {
  status: number;
  headers: { get(name: string): string | undefined };
  parsedBody?: unknown;
}

/** Captures the last raw response of a poller's requests (initial and polls) to read error codes and Retry-After. */
function recorder() {
  let last: RawResponse | undefined;
  return {
    onResponse: (raw: RawResponse) => {
      last = raw;
    },
    get last() {
      return last;
    },
  };
}

/** The ARM error code of a long-running operation that ended `Failed`, read from the response body. */
function failureCode(raw: RawResponse | undefined): { code: string; message: string } | undefined {
  const body = raw?.parsedBody as
    | { status?: string; error?: { code?: string; message?: string }; properties?: { provisioningState?: string } }
    | undefined;
  const state = body?.status ?? body?.properties?.provisioningState;
  if (state !== 'Failed' && state !== 'Canceled' && !body?.error) return undefined;
  return {
    code: body?.error?.code ?? (state === 'Canceled' ? 'Canceled' : 'ProvisioningFailed'),
    message: body?.error?.message ?? `the operation ended ${state}`,
  };
}

type Poller<T> = { isDone(): boolean; getResult(): T | undefined; toString(): string };

/** Runs one step of a long-running ARM operation: start it, or resume it from `state` and poll once. */
async function step<T, R>(
  target: ClusterTarget,
  state: ProviderState | undefined,
  action: string,
  begin: (options: {
    resumeFrom?: string;
    updateIntervalInMs: number;
    onResponse: (raw: RawResponse) => void;
  }) => Promise<Poller<T>>,
  done: (result: T | undefined) => Promise<R>,
  absent?: R,
): Promise<Step<R>> {
  const rec = recorder();
  const resumeFrom = typeof state?.poller === 'string' ? state.poller : undefined;
  let poller: Poller<T>;
  try {
    poller = await begin({ resumeFrom, updateIntervalInMs: target.pollIntervalMs, onResponse: rec.onResponse });
  } catch (e) {
    if (absent !== undefined && (e as { statusCode?: number }).statusCode === 404)
      return { kind: 'done', state: {}, result: absent };
    const failed = failureCode(rec.last);
    if (failed && !(e as { statusCode?: number }).statusCode) {
      throw new ProviderError(failed.code, `${action} failed: ${failed.message}`, false);
    }
    throw fromArm(e, action);
  }
  if (!poller.isDone()) {
    const wait = retryAfterMs(rec.last?.headers.get('retry-after')) ?? target.pollIntervalMs;
    return {
      kind: 'pending',
      state: { poller: poller.toString() },
      retryAfterMs: wait,
      message: `${action}: in progress`,
    };
  }
  return { kind: 'done', state: {}, result: await done(poller.getResult()) };
}

/** One step of creating or updating the org's cluster; done when ARM reports `Succeeded`. */
export async function ensureClusterStep(
  target: ClusterTarget,
  org: string,
  spec: ClusterSpec,
  state: ProviderState | undefined,
): Promise<Step<ManagedCluster>> {
  const name = clusterName(org);
  return step(
    target,
    state,
    `create cluster ${name}`,
    (options) =>
      target.client.managedClusters.beginCreateOrUpdate(
        target.resourceGroup,
        name,
        clusterParameters(org, spec),
        options as never,
      ),
    async (result) => {
      if (result?.provisioningState && result.provisioningState !== 'Succeeded') {
        throw new ProviderError('ProvisioningFailed', `cluster ${name} ended ${result.provisioningState}`, false);
      }
      return result ?? (await target.client.managedClusters.get(target.resourceGroup, name));
    },
  );
}

/** One step of deleting the org's cluster; an absent cluster is done. */
export async function deleteClusterStep(
  target: ClusterTarget,
  org: string,
  state: ProviderState | undefined,
): Promise<Step<null>> {
  const name = clusterName(org);
  return step(
    target,
    state,
    `delete cluster ${name}`,
    (options) =>
      target.client.managedClusters.beginDelete(target.resourceGroup, name, options as never) as Promise<
        Poller<unknown>
      >,
    async () => null,
    null,
  );
}

/** The kubeconfig (YAML) of the org's cluster, from `listClusterUserCredentials`. */
export async function clusterKubeconfig(target: ClusterTarget, org: string): Promise<string> {
  try {
    const creds = await target.client.managedClusters.listClusterUserCredentials(
      target.resourceGroup,
      clusterName(org),
    );
    const value = creds.kubeconfigs?.[0]?.value;
    if (!value) throw new ProviderError('NoCredentials', `cluster ${clusterName(org)} returned no kubeconfig`, false);
    return Buffer.from(value).toString('utf8');
  } catch (e) {
    throw fromArm(e, `credentials of ${clusterName(org)}`);
  }
}
