/**
 * A fake Azure Resource Manager for `ContainerServiceClient`: an `httpClient` that replays scripted
 * responses shaped like the azure-rest-api-specs examples for managed clusters
 * (`ManagedClustersCreate_Update.json`, `ManagedClustersDelete.json`, `ManagedClustersListClusterCredentialResult.json`),
 * with the `Azure-AsyncOperation`, `Location` and `Retry-After` headers ARM sends.
 */
import { ContainerServiceClient } from '@azure/arm-containerservice';
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';

/** One scripted HTTP answer. */
export interface ArmResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Which request an answer is for. */
export type ArmRoute = 'put' | 'get' | 'delete' | 'operation' | 'result' | 'credentials';

const HOST = 'https://management.azure.com';
const OPERATION = (sub: string, id: string) =>
  `${HOST}/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/norwayeast/operations/${id}?api-version=2025-10-01`;
const RESULT = (sub: string, id: string) =>
  `${HOST}/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/norwayeast/operationresults/${id}?api-version=2025-10-01`;

/** The managed cluster body ARM answers, with `provisioningState` as given. */
export function clusterBody(sub: string, rg: string, name: string, provisioningState: string) {
  return {
    id: `/subscriptions/${sub}/resourcegroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`,
    location: 'norwayeast',
    name,
    type: 'Microsoft.ContainerService/ManagedClusters',
    identity: {
      type: 'SystemAssigned',
      principalId: '00000000-0000-0000-0000-000000000001',
      tenantId: '00000000-0000-0000-0000-000000000002',
    },
    properties: {
      provisioningState,
      powerState: { code: 'Running' },
      kubernetesVersion: '1.32.4',
      currentKubernetesVersion: '1.32.4',
      dnsPrefix: name,
      fqdn: `${name}-dns-5e1a7f3c.hcp.norwayeast.azmk8s.io`,
      agentPoolProfiles: [
        {
          name: 'nodepool1',
          count: 3,
          vmSize: 'Standard_D4s_v5',
          osType: 'Linux',
          mode: 'System',
          provisioningState,
          maxPods: 110,
        },
      ],
      nodeResourceGroup: `MC_${rg}_${name}_norwayeast`,
      enableRBAC: true,
    },
  };
}

/** An ARM error body (`CloudError`) with a code and message. */
export const armError = (
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): ArmResponse => ({
  status,
  body: { error: { code, message } },
  headers,
});

/** A fake ARM: answers each route from its script (the last answer repeats) and records the requests. */
export class FakeArm implements HttpClient {
  readonly requests: { method: string; url: string; route: ArmRoute; body?: unknown }[] = [];
  private readonly script: Partial<Record<ArmRoute, ArmResponse[]>> = {};

  constructor(
    readonly subscriptionId = '8f2d6c1e-5b7a-4c3d-9e1f-0a2b3c4d5e6f',
    readonly resourceGroup = 'rg-apps',
  ) {}

  /** Queues answers for a route. */
  on(route: ArmRoute, ...responses: ArmResponse[]): this {
    this.queue(route).push(...responses);
    return this;
  }

  /** Answers the next request of a route with `response`, before its scripted answers. */
  failNext(route: ArmRoute, response: ArmResponse): this {
    this.queue(route).unshift(response);
    return this;
  }

  /** A create that is accepted (201), reports InProgress `polls` times, then Succeeded. */
  createSucceeds(name: string, polls = 2): this {
    const op = OPERATION(this.subscriptionId, `create-${name}`);
    return this.on('put', {
      status: 201,
      body: clusterBody(this.subscriptionId, this.resourceGroup, name, 'Creating'),
      headers: { 'azure-asyncoperation': op, 'retry-after': '10' },
    })
      .on(
        'operation',
        ...Array.from({ length: polls }, () => this.operation('InProgress')),
        this.operation('Succeeded'),
      )
      .on('get', { status: 200, body: clusterBody(this.subscriptionId, this.resourceGroup, name, 'Succeeded') });
  }

  /** A create that is accepted and then fails with the ARM error `code`. */
  createFails(name: string, code: string, message: string): this {
    const op = OPERATION(this.subscriptionId, `create-${name}`);
    return this.on('put', {
      status: 201,
      body: clusterBody(this.subscriptionId, this.resourceGroup, name, 'Creating'),
      headers: { 'azure-asyncoperation': op },
    }).on('operation', this.operation('InProgress'), {
      status: 200,
      body: { name: `create-${name}`, status: 'Failed', startTime: new Date().toISOString(), error: { code, message } },
    });
  }

  /** A delete that is accepted (202), reports InProgress `polls` times, then Succeeded. */
  deleteSucceeds(name: string, polls = 1): this {
    const id = `delete-${name}`;
    return this.on('delete', {
      status: 202,
      headers: {
        'azure-asyncoperation': OPERATION(this.subscriptionId, id),
        location: RESULT(this.subscriptionId, id),
        'retry-after': '10',
      },
    })
      .on(
        'operation',
        ...Array.from({ length: polls }, () => this.operation('InProgress')),
        this.operation('Succeeded'),
      )
      .on('result', { status: 204 });
  }

  /** `listClusterUserCredential` answering a kubeconfig (base64, as ARM sends it). */
  credentials(kubeconfig: string): this {
    return this.on('credentials', {
      status: 200,
      body: { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(kubeconfig).toString('base64') }] },
    });
  }

  private queue(route: ArmRoute): ArmResponse[] {
    const q = this.script[route] ?? [];
    this.script[route] = q;
    return q;
  }

  private operation(status: string): ArmResponse {
    return {
      status: 200,
      body: { name: 'op', status, startTime: new Date().toISOString() },
      headers: { 'retry-after': '10' },
    };
  }

  /** Routes a request of `ContainerServiceClient`. */
  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const url = new URL(request.url);
    const path = url.pathname.toLowerCase();
    const route: ArmRoute | undefined = path.includes('/operations/')
      ? 'operation'
      : path.includes('/operationresults/')
        ? 'result'
        : path.endsWith('/listclusterusercredential')
          ? 'credentials'
          : path.includes('/managedclusters/')
            ? ({ PUT: 'put', GET: 'get', DELETE: 'delete' } as const)[request.method as 'PUT' | 'GET' | 'DELETE']
            : undefined;
    const body = typeof request.body === 'string' ? JSON.parse(request.body) : undefined;
    this.requests.push({ method: request.method, url: request.url, route: route ?? ('none' as ArmRoute), body });
    const queue = route ? this.script[route] : undefined;
    const answer =
      (queue && queue.length > 1 ? queue.shift() : queue?.[0]) ??
      armError(404, 'ResourceNotFound', `no scripted answer for ${request.method} ${url.pathname}`);
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    return {
      request,
      status: answer.status,
      headers: createHttpHeaders({
        'content-type': 'application/json; charset=utf-8',
        'x-ms-request-id': crypto.randomUUID(),
        ...answer.headers,
      }),
      bodyAsText: text,
    };
  }
}

/** A `ContainerServiceClient` whose requests go to `arm`, with the SDK's own retries off so each answer is seen. */
export function fakeArmClient(arm: FakeArm): ContainerServiceClient {
  const credential = { getToken: async () => ({ token: 'fake-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  return new ContainerServiceClient(credential, arm.subscriptionId, {
    httpClient: arm,
    retryOptions: { maxRetries: 0 },
  });
}
