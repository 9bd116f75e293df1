/**
 * The `aks` provider: one AKS cluster per org through Azure Resource Manager, and each app as
 * Kubernetes objects in namespace `{org}-{app}` of that cluster. Clients are injected; the cluster's
 * Kubernetes API is reached with the kubeconfig ARM hands out (`listClusterUserCredentials`).
 */
import type { ContainerServiceClient } from '@azure/arm-containerservice';
import { CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type {
  AppDesired,
  AppScale,
  ClusterReady,
  ClusterSpec,
  Provider,
  ProviderEvent,
  ProviderState,
  ReplicaLogs,
  RolloutStatus,
  Step,
} from '../types.js';
import { type ClusterTarget, clusterKubeconfig, deleteClusterStep, ensureClusterStep } from './cluster.js';
import { podLogs } from './logs.js';
import { namespaceOf } from './manifests.js';
import { workloadRollout } from './rollout.js';
import { applyWorkload, deleteWorkload, scaleWorkload } from './workload.js';

/** What the aks provider is given. */
export interface AksProviderOptions {
  /** ARM client for the subscription the clusters live in. */
  client: ContainerServiceClient;
  resourceGroup: string;
  /** Base URL of an org's ingress; `{org}` is replaced, e.g. `https://{org}.apps.example.net`. */
  ingressUrlTemplate: string;
  /**
   * Where apps reach the platform APIs (PLATFORM_URL): every app gets app-lib's `PlatformSettings__*` endpoints
   * on it (../env.ts). None when absent.
   */
  platformUrl?: string;
  /**
   * The public base URL apps are reached at as `{appsUrl}/{org}/{app}/` (the edge): app-lib's
   * `GeneralSettings__HostName` and `__ExternalAppBaseUrl`. The org's ingress URL when absent.
   */
  appsUrl?: string;
  /** Makes a KubeConfig of the kubeconfig YAML ARM returns (default: `KubeConfig.loadFromString`). */
  kubeConfigFrom?: (kubeconfig: string) => KubeConfig;
  /** Poll interval when ARM sends no `Retry-After` (default 15 s). */
  pollIntervalMs?: number;
}

/** Makes a KubeConfig of kubeconfig YAML, as ARM's `listClusterUserCredentials` returns it. */
export function kubeConfigFromString(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return kc;
}

/** The fields of a core/v1 Event the provider reads. */
interface KubernetesEvent {
  metadata?: { creationTimestamp?: string | Date };
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string | Date;
  eventTime?: string | Date;
  firstTimestamp?: string | Date;
  involvedObject?: { kind?: string; name?: string };
}

/** The Kubernetes clients of one org's cluster. */
interface ClusterClients {
  objects: KubernetesObjectApi;
  core: CoreV1Api;
}

/** The provider that makes clusters and apps real on Azure Kubernetes Service. */
export class AksProvider implements Provider {
  readonly name = 'aks';
  private readonly target: ClusterTarget;
  private readonly apis = new Map<string, Promise<ClusterClients>>();

  constructor(private readonly options: AksProviderOptions) {
    this.target = {
      client: options.client,
      resourceGroup: options.resourceGroup,
      pollIntervalMs: options.pollIntervalMs ?? 15_000,
    };
  }

  /** The org's cluster's ingress base URL. */
  ingressUrl(org: string): string {
    return this.options.ingressUrlTemplate.replaceAll('{org}', org);
  }

  async ensureCluster(org: string, spec: ClusterSpec, state: ProviderState | undefined): Promise<Step<ClusterReady>> {
    const step = await ensureClusterStep(this.target, org, spec, state);
    if (step.kind === 'pending') return step;
    this.apis.delete(org);
    return { kind: 'done', state: step.state, result: { ingressUrl: this.ingressUrl(org) } };
  }

  async deleteCluster(org: string, state: ProviderState | undefined): Promise<Step<null>> {
    this.apis.delete(org);
    return deleteClusterStep(this.target, org, state);
  }

  async applyApp(org: string, app: string, desired: AppDesired): Promise<void> {
    await applyWorkload(await this.api(org, app), org, app, desired, {
      platformUrl: this.options.platformUrl,
      appsUrl: this.options.appsUrl ?? this.ingressUrl(org),
    });
  }

  async scaleApp(org: string, app: string, scale: AppScale): Promise<void> {
    await scaleWorkload(await this.api(org, app), org, app, scale);
  }

  /** The Kubernetes Events of the app's namespace (the deployment controller's, the kubelet's ...), oldest first. */
  async appEvents(org: string, app: string): Promise<ProviderEvent[]> {
    const api = await this.api(org, app);
    const list = await api.list('v1', 'Event', namespaceOf(org, app)).catch(() => ({ items: [] }));
    return (list.items as KubernetesEvent[])
      .map((e) => ({
        at: new Date(
          e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? 0,
        ).toISOString(),
        type: e.type === 'Warning' ? ('Warning' as const) : ('Normal' as const),
        reason: e.reason ?? 'Unknown',
        message: e.message ?? '',
        replica: e.involvedObject?.kind === 'Pod' ? (e.involvedObject.name ?? null) : null,
      }))
      .sort((a, b) => a.at.localeCompare(b.at));
  }

  /** The last lines of each of the app's Pods' logs (`pods/log`, tailLines), with the release each runs. */
  async appLogs(org: string, app: string): Promise<ReplicaLogs[]> {
    const { core } = await this.clients(org, app);
    return podLogs(core, org, app);
  }

  async rolloutStatus(org: string, app: string): Promise<RolloutStatus> {
    return workloadRollout(await this.api(org, app), org, app);
  }

  async deleteApp(org: string, app: string, state: ProviderState | undefined): Promise<Step<null>> {
    return deleteWorkload(await this.api(org, app), org, app, state);
  }

  async close(): Promise<void> {
    this.apis.clear();
  }

  /** The Kubernetes object client of the org's cluster (validating names first). */
  private async api(org: string, app: string): Promise<KubernetesObjectApi> {
    return (await this.clients(org, app)).objects;
  }

  /** The Kubernetes clients of the org's cluster, made once from its credentials (validating names first). */
  private clients(org: string, app: string): Promise<ClusterClients> {
    namespaceOf(org, app);
    let clients = this.apis.get(org);
    if (!clients) {
      const make = this.options.kubeConfigFrom ?? kubeConfigFromString;
      clients = clusterKubeconfig(this.target, org).then((yaml) => {
        const kc = make(yaml);
        return { objects: KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(CoreV1Api) };
      });
      clients.catch(() => this.apis.delete(org));
      this.apis.set(org, clients);
    }
    return clients;
  }
}
