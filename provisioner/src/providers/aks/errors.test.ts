import { ApiException, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from '../../../test/fakes/aks/apiserver.js';
import { ProviderError } from '../types.js';
import { fromKube, retryAfterMs } from './errors.js';
import { kubeConfigFromString } from './index.js';

let kube: FakeApiServer;
let api: KubernetesObjectApi;
const cm = (name: string, resourceVersion?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ttd-forms', resourceVersion },
  data: { a: name },
});

async function caught(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  kube = await startFakeApiServer();
  api = KubernetesObjectApi.makeApiClient(kubeConfigFromString(kube.kubeconfig));
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ttd-forms' } });
});
afterAll(() => kube.close());

describe('Kubernetes failures as the fake answers them, and as the provider maps them', () => {
  it('answers a missing object with 404 NotFound, mapped to a final error', async () => {
    const e = await caught(api.read(cm('missing')));
    expect(e).toBeInstanceOf(ApiException);
    expect((e as ApiException<unknown>).code).toBe(404);
    expect(fromKube(e, 'read')).toMatchObject({ code: 'NotFound', retryable: false });
  });

  it('answers a second create with 409 AlreadyExists', async () => {
    await api.create(cm('one'));
    const e = (await caught(api.create(cm('one')))) as ApiException<string>;
    expect(e.code).toBe(409);
    expect(JSON.parse(e.body)).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'configmaps "one" already exists',
    });
    expect(fromKube(e, 'create')).toMatchObject({ code: 'AlreadyExists', retryable: true });
  });

  it('answers a replace with a stale resourceVersion with 409 Conflict, retryable', async () => {
    const created = await api.create(cm('two'));
    const rv = created.metadata?.resourceVersion;
    await api.replace({ ...cm('two', rv), data: { a: 'changed' } });
    const e = (await caught(api.replace(cm('two', rv)))) as ApiException<string>;
    expect(e.code).toBe(409);
    expect(JSON.parse(e.body).reason).toBe('Conflict');
    expect(fromKube(e, 'replace')).toMatchObject({ code: 'Conflict', retryable: true });
  });

  it('answers a create in a missing namespace with 404 for the namespace', async () => {
    const e = (await caught(
      api.create({ ...cm('x'), metadata: { name: 'x', namespace: 'nowhere' } }),
    )) as ApiException<string>;
    expect(e.code).toBe(404);
    expect(JSON.parse(e.body).message).toBe('namespaces "nowhere" not found');
  });

  it('maps an unreachable cluster to a retryable error', async () => {
    const gone = KubernetesObjectApi.makeApiClient(
      kubeConfigFromString(kube.kubeconfig.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:1')),
    );
    const e = await caught(gone.read(cm('one')));
    expect(fromKube(e, 'read')).toMatchObject({ code: 'ClusterUnreachable', retryable: true });
  });

  it('keeps a ProviderError as it is and reads Retry-After in seconds or as a date', () => {
    const original = new ProviderError('X', 'x', false);
    expect(fromKube(original, 'a')).toBe(original);
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
