import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppDesired, type AppRelease, type ClusterSpec, ProviderError, type Step } from '../types.js';
import { type FakeApiServer, startFakeApiServer } from './fake/apiserver.js';
import { FakeArm, fakeArmClient } from './fake/arm.js';
import { findType } from './fake/resources.js';
import { AksProvider } from './index.js';

const spec: ClusterSpec = { region: 'norwayeast', kubernetesVersion: '1.32', nodeCount: 2, vmSize: 'Standard_D4s_v5' };
const release = (revision: number, tag: string): AppRelease => ({
  revision,
  image: `altinncr.azurecr.io/ttd/forms:${tag}`,
  version: tag,
  port: 5005,
  env: { ASPNETCORE_ENVIRONMENT: 'Production' },
  config: { title: `forms ${tag}` },
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
});
const desired = (r: AppRelease, rollback = false): AppDesired => ({
  release: r,
  scale: { minReplicas: 2, maxReplicas: 6, replicas: 2 },
  rollback,
});

let kube: FakeApiServer;
let arm: FakeArm;
let aks: AksProvider;

async function until<T>(step: () => Promise<Step<T>>, rounds = 50): Promise<T> {
  for (let i = 0; i < rounds; i++) {
    const s = await step();
    if (s.kind === 'done') return s.result;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('never done');
}

async function rolledOut(app = 'forms') {
  for (let i = 0; i < 100; i++) {
    const s = await aks.rolloutStatus('ttd', app);
    if (s.complete || s.failure) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('rollout never finished');
}

function image(): string | undefined {
  const d = kube.store.get(findType('apps', 'v1', 'deployments')!, 'ttd-forms', 'forms');
  const template = d?.spec?.template as { spec: { containers: { image: string }[] } } | undefined;
  return template?.spec.containers[0]?.image;
}

beforeAll(async () => {
  kube = await startFakeApiServer({
    readyDelayMs: 250,
    namespaceDeleteDelayMs: 30,
    containers: (image) => (image.endsWith(':broken') ? { fate: 'NeverReady' } : undefined),
    // One second of an app's progress deadline lasts 5 ms here: 600 s is 3 s, 60 s is 300 ms.
    progressDeadlineMs: (seconds) => seconds * 5,
  });
  arm = new FakeArm().createSucceeds('aks-ttd', 1).credentials(kube.kubeconfig).deleteSucceeds('aks-ttd', 1);
  aks = new AksProvider({
    client: fakeArmClient(arm),
    resourceGroup: arm.resourceGroup,
    ingressUrlTemplate: 'https://{org}.apps.example.net',
    pollIntervalMs: 5,
  });
});
afterAll(async () => {
  await aks.close();
  await kube.close();
});

describe('AksProvider end to end against fake ARM and a fake cluster', () => {
  it('creates the cluster, then rolls out an app release to completion', async () => {
    let state: Step<unknown>['state'] | undefined;
    const ready = await until(async () => {
      const s = await aks.ensureCluster('ttd', spec, state);
      state = s.state;
      return s;
    });
    expect(ready.ingressUrl).toBe('https://ttd.apps.example.net');
    await aks.applyApp('ttd', 'forms', desired(release(1, '1.0.0')));
    const status = await rolledOut();
    expect(status).toMatchObject({
      revision: 1,
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      oldReplicas: 0,
      complete: true,
    });
    expect(status.failure).toBeUndefined();
    const kinds = ['services', 'ingresses', 'horizontalpodautoscalers', 'poddisruptionbudgets', 'configmaps'];
    const group = {
      services: ['', 'v1'],
      configmaps: ['', 'v1'],
      ingresses: ['networking.k8s.io', 'v1'],
      horizontalpodautoscalers: ['autoscaling', 'v2'],
      poddisruptionbudgets: ['policy', 'v1'],
    } as const;
    for (const k of kinds) {
      const [g, v] = group[k as keyof typeof group];
      expect(kube.store.list(findType(g, v, k)!, 'ttd-forms').length, k).toBe(1);
    }
  });

  it('is not complete while a second release is rolling, then is', async () => {
    await aks.applyApp('ttd', 'forms', desired(release(2, '2.0.0')));
    const during = await aks.rolloutStatus('ttd', 'forms');
    expect(during.revision).toBe(2);
    expect(during.complete).toBe(false);
    expect(await rolledOut()).toMatchObject({ revision: 2, complete: true, oldReplicas: 0 });
    expect(image()).toBe('altinncr.azurecr.io/ttd/forms:2.0.0');
  });

  it("reads the app's Kubernetes Events: the deployment controller's scaling of each release", async () => {
    const events = await aks.appEvents('ttd', 'forms');
    const scaling = events.filter((e) => e.reason === 'ScalingReplicaSet');
    expect(scaling.length).toBeGreaterThanOrEqual(2);
    expect(scaling[0]).toMatchObject({
      type: 'Normal',
      message: expect.stringMatching(/^Scaled up replica set forms-\w+ to 2$/),
    });
    expect([...events].map((e) => e.at)).toEqual([...events].map((e) => e.at).sort());
  });

  it('rolls back to release 1 by restoring its ReplicaSet template, reusing that ReplicaSet', async () => {
    const rsType = findType('apps', 'v1', 'replicasets')!;
    const before = kube.store.list(rsType, 'ttd-forms').length;
    // The image given is ignored on rollback: the template must come from release 1's ReplicaSet.
    await aks.applyApp('ttd', 'forms', desired({ ...release(1, '1.0.0'), image: 'not-used:rollback' }, true));
    expect(await rolledOut()).toMatchObject({ revision: 1, complete: true });
    expect(image()).toBe('altinncr.azurecr.io/ttd/forms:1.0.0');
    const sets = kube.store.list(rsType, 'ttd-forms');
    expect(sets).toHaveLength(before);
    const running = sets.find((rs) => Number(rs.spec?.replicas) > 0);
    expect(running?.metadata.labels?.release).toBe('1');
    expect(running?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('drops an environment variable a later release no longer sets (server-side apply prunes it)', async () => {
    await aks.applyApp('ttd', 'envs', desired({ ...release(1, '1.0.0'), env: { A: '1', B: '2' } }));
    await aks.applyApp('ttd', 'envs', desired({ ...release(2, '2.0.0'), env: { A: '1' } }));
    const d = kube.store.get(findType('apps', 'v1', 'deployments')!, 'ttd-envs', 'envs');
    const template = d?.spec?.template as { spec: { containers: { env: { name: string }[] }[] } } | undefined;
    expect(template?.spec.containers[0]?.env.map((e) => e.name)).toEqual(['A']);
  });

  it('refuses to roll back to a release no ReplicaSet ran', async () => {
    const e = await aks.applyApp('ttd', 'forms', desired(release(9, '9.0.0'), true)).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ code: 'RevisionNotFound', retryable: false });
    expect(image()).toBe('altinncr.azurecr.io/ttd/forms:1.0.0');
  });

  it('scales the autoscaler bounds and the replicas', async () => {
    await aks.scaleApp('ttd', 'forms', { minReplicas: 3, maxReplicas: 8, replicas: 4 });
    const hpa = kube.store.get(findType('autoscaling', 'v2', 'horizontalpodautoscalers')!, 'ttd-forms', 'forms');
    expect(hpa?.spec).toMatchObject({ minReplicas: 3, maxReplicas: 8 });
    expect(await rolledOut()).toMatchObject({ replicas: 4, availableReplicas: 4, complete: true, revision: 1 });
  });

  it('keeps the replica count the autoscaler chose when the same release, or a new one, is applied again', async () => {
    const deployments = findType('apps', 'v1', 'deployments')!;
    const replicas = () => kube.store.get(deployments, 'ttd-hpa', 'hpa')?.spec?.replicas;
    await aks.applyApp('ttd', 'hpa', desired(release(1, '1.0.0')));
    expect(replicas()).toBe(2);
    // The HPA scales through the /scale subresource, as the real one does.
    const scaled = await fetch(`${kube.url}/apis/apps/v1/namespaces/ttd-hpa/deployments/hpa/scale`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 5 } }),
    });
    expect(scaled.status).toBe(200);
    await aks.applyApp('ttd', 'hpa', desired(release(1, '1.0.0')));
    expect(replicas()).toBe(5);
    await aks.applyApp('ttd', 'hpa', desired(release(2, '2.0.0')));
    expect(replicas()).toBe(5);
    expect(await rolledOut('hpa')).toMatchObject({ revision: 2, replicas: 5, complete: true });
    // A count outside the new bounds is set to the requested one.
    await aks.applyApp('ttd', 'hpa', {
      ...desired(release(2, '2.0.0')),
      scale: { minReplicas: 6, maxReplicas: 8, replicas: 6 },
    });
    expect(replicas()).toBe(6);
  });

  it("gives the Deployment the app's own progress deadline", async () => {
    await aks.applyApp('ttd', 'deadline', { ...desired(release(1, '1.0.0')), progressDeadlineMs: 90_000 });
    const d = kube.store.get(findType('apps', 'v1', 'deployments')!, 'ttd-deadline', 'deadline');
    expect(d?.spec?.progressDeadlineSeconds).toBe(90);
  });

  it('rejects a scale outside its bounds and scaling an app that is not deployed', async () => {
    await expect(aks.scaleApp('ttd', 'forms', { minReplicas: 3, maxReplicas: 2, replicas: 2 })).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
    await expect(aks.scaleApp('ttd', 'absent', { minReplicas: 1, maxReplicas: 2, replicas: 1 })).rejects.toMatchObject({
      code: 'NotFound',
      retryable: false,
    });
  });

  it('reports ProgressDeadlineExceeded for a release that never becomes ready', async () => {
    await aks.applyApp('ttd', 'broken', { ...desired(release(1, 'broken')), progressDeadlineMs: 60_000 });
    const s = await rolledOut('broken');
    expect(s.complete).toBe(false);
    expect(s.failure?.reason).toBe('ProgressDeadlineExceeded');
  });

  it('reports no revision for an app that does not exist', async () => {
    expect(await aks.rolloutStatus('ttd', 'nothing')).toMatchObject({ revision: null, complete: false, replicas: 0 });
  });

  it('deletes the app (pending while its namespace terminates), and deleting again is done', async () => {
    const first = await aks.deleteApp('ttd', 'forms', undefined);
    expect(first.kind).toBe('pending');
    expect(await until(() => aks.deleteApp('ttd', 'forms', first.state))).toBeNull();
    expect(kube.store.list(findType('apps', 'v1', 'deployments')!, 'ttd-forms')).toHaveLength(0);
    expect(await aks.deleteApp('ttd', 'forms', undefined)).toMatchObject({ kind: 'done' });
  });

  it('deletes the cluster', async () => {
    let state: Step<unknown>['state'] | undefined;
    expect(
      await until(async () => {
        const s = await aks.deleteCluster('ttd', state);
        state = s.state;
        return s;
      }),
    ).toBeNull();
  });
});
