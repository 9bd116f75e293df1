import { describe, expect, it } from 'vitest';
import { armError, FakeArm, fakeArmClient } from '../../../test/fakes/aks/arm.js';
import { type ClusterReady, type ClusterSpec, ProviderError, type Step } from '../types.js';
import { AksProvider } from './index.js';

const spec: ClusterSpec = {
  region: 'norwayeast',
  kubernetesVersion: '1.32',
  nodeCount: 3,
  maxNodes: 6,
  vmSize: 'Standard_D4s_v5',
};

function provider(arm: FakeArm) {
  return new AksProvider({
    client: fakeArmClient(arm),
    resourceGroup: arm.resourceGroup,
    ingressUrlTemplate: 'https://{org}.apps.example.net',
    pollIntervalMs: 5,
  });
}

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

describe('ensureCluster against ARM', () => {
  it('starts the create with the spec, answers pending with the poller, and is done when ARM says Succeeded', async () => {
    const arm = new FakeArm().createSucceeds('aks-ttd', 2);
    const aks = provider(arm);
    const first = await aks.ensureCluster('ttd', spec, undefined);
    expect(first.kind).toBe('pending');
    const put = arm.requests.find((r) => r.route === 'put');
    expect(put?.url).toContain('/resourceGroups/rg-apps/providers/Microsoft.ContainerService/managedClusters/aks-ttd');
    expect(put?.body).toMatchObject({
      location: 'norwayeast',
      identity: { type: 'SystemAssigned' },
      properties: {
        kubernetesVersion: '1.32',
        dnsPrefix: 'aks-ttd',
        agentPoolProfiles: [{ count: 3, vmSize: 'Standard_D4s_v5', enableAutoScaling: true, minCount: 3, maxCount: 6 }],
      },
    });
    if (first.kind !== 'pending') throw new Error('expected pending');
    expect(typeof first.state.poller).toBe('string');
    expect(first.retryAfterMs).toBe(10_000);
    let step: Step<ClusterReady> = first;
    let rounds = 0;
    while (step.kind === 'pending' && rounds++ < 10) step = await aks.ensureCluster('ttd', spec, step.state);
    expect(step).toEqual({ kind: 'done', state: {}, result: { ingressUrl: 'https://ttd.apps.example.net' } });
    expect(arm.requests.filter((r) => r.route === 'put')).toHaveLength(1);
    expect(arm.requests.filter((r) => r.route === 'operation').length).toBe(3);
  });

  it('resumes the poller from stored state in a new client and provider, as after a restart', async () => {
    const arm = new FakeArm().createSucceeds('aks-ttd', 1);
    const first = await provider(arm).ensureCluster('ttd', spec, undefined);
    if (first.kind !== 'pending') throw new Error('expected pending');
    const stored = JSON.parse(JSON.stringify(first.state));
    const restarted = provider(arm);
    const second = await restarted.ensureCluster('ttd', spec, stored);
    const third = second.kind === 'pending' ? await provider(arm).ensureCluster('ttd', spec, second.state) : second;
    expect(third.kind).toBe('done');
    expect(arm.requests.filter((r) => r.route === 'put')).toHaveLength(1);
  });

  it('reports a create that ends Failed as final, with the ARM error code', async () => {
    const arm = new FakeArm().createFails(
      'aks-ttd',
      'VMExtensionProvisioningError',
      'The VM extension failed to provision',
    );
    const aks = provider(arm);
    const first = await aks.ensureCluster('ttd', spec, undefined);
    if (first.kind !== 'pending') throw new Error('expected pending');
    const e = await failure(aks.ensureCluster('ttd', spec, first.state));
    expect(e.code).toBe('VMExtensionProvisioningError');
    expect(e.retryable).toBe(false);
  });

  it('does not retry 409 OperationNotAllowed', async () => {
    const arm = new FakeArm().on(
      'put',
      armError(409, 'OperationNotAllowed', 'Operation is not allowed: another operation (Upgrading) is in progress.'),
    );
    const e = await failure(provider(arm).ensureCluster('ttd', spec, undefined));
    expect(e).toMatchObject({ code: 'OperationNotAllowed', retryable: false });
  });

  it('retries 429 after Retry-After, and the next call succeeds', async () => {
    const arm = new FakeArm()
      .on('put', armError(429, 'TooManyRequests', 'Too many requests', { 'retry-after': '17' }))
      .createSucceeds('aks-ttd', 0);
    const aks = provider(arm);
    const e = await failure(aks.ensureCluster('ttd', spec, undefined));
    expect(e).toMatchObject({ code: 'TooManyRequests', retryable: true, retryAfterMs: 17_000 });
    let step = await aks.ensureCluster('ttd', spec, undefined);
    if (step.kind === 'pending') step = await aks.ensureCluster('ttd', spec, step.state);
    expect(step.kind).toBe('done');
  });

  it('ends with a clear final error when the quota is exceeded', async () => {
    const arm = new FakeArm().on(
      'put',
      armError(
        400,
        'QuotaExceeded',
        'Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota.',
      ),
    );
    const e = await failure(provider(arm).ensureCluster('ttd', spec, undefined));
    expect(e).toMatchObject({ code: 'QuotaExceeded', retryable: false });
    expect(e.message).toMatch(/quota/);
  });

  it('retries a 5xx from ARM', async () => {
    const arm = new FakeArm().on('put', armError(503, 'ServiceUnavailable', 'try later'));
    const e = await failure(provider(arm).ensureCluster('ttd', spec, undefined));
    expect(e).toMatchObject({ code: 'ServiceUnavailable', retryable: true });
  });

  it('retries a 5xx while polling, keeping the operation', async () => {
    const arm = new FakeArm().createSucceeds('aks-ttd', 1);
    const aks = provider(arm);
    const first = await aks.ensureCluster('ttd', spec, undefined);
    if (first.kind !== 'pending') throw new Error('expected pending');
    arm.failNext('operation', armError(500, 'InternalServerError', 'An internal error occurred'));
    const e = await failure(aks.ensureCluster('ttd', spec, first.state));
    expect(e).toMatchObject({ code: 'InternalServerError', retryable: true });
    let step: Step<ClusterReady> = await aks.ensureCluster('ttd', spec, first.state);
    if (step.kind === 'pending') step = await aks.ensureCluster('ttd', spec, step.state);
    expect(step.kind).toBe('done');
  });
});

describe('deleteCluster against ARM', () => {
  it('deletes with a poller and is done when the operation succeeds', async () => {
    const arm = new FakeArm().deleteSucceeds('aks-ttd', 1);
    const aks = provider(arm);
    let step = await aks.deleteCluster('ttd', undefined);
    expect(step.kind).toBe('pending');
    let rounds = 0;
    while (step.kind === 'pending' && rounds++ < 5) step = await aks.deleteCluster('ttd', step.state);
    expect(step).toEqual({ kind: 'done', state: {}, result: null });
    expect(arm.requests.filter((r) => r.route === 'delete')).toHaveLength(1);
  });

  it('treats an absent cluster (404) as deleted', async () => {
    const arm = new FakeArm().on(
      'delete',
      armError(
        404,
        'ResourceNotFound',
        "The Resource 'Microsoft.ContainerService/managedClusters/aks-ttd' was not found.",
      ),
    );
    expect(await provider(arm).deleteCluster('ttd', undefined)).toEqual({ kind: 'done', state: {}, result: null });
  });

  it('does not retry a delete ARM refuses with OperationNotAllowed', async () => {
    const arm = new FakeArm().on('delete', armError(409, 'OperationNotAllowed', 'cluster is being upgraded'));
    const e = await failure(provider(arm).deleteCluster('ttd', undefined));
    expect(e).toMatchObject({ code: 'OperationNotAllowed', retryable: false });
  });
});
