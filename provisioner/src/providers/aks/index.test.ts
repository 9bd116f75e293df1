import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from '../../../test/fakes/aks/apiserver.js';
import { FakeArm, fakeArmClient } from '../../../test/fakes/aks/arm.js';
import { findType } from '../../../test/fakes/aks/resources.js';
import { type AppDesired, type AppRelease, type ClusterSpec, ProviderError, type Step } from '../types.js';
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

const CRASH_LINE = 'Unhandled exception. System.InvalidOperationException: no connection string';

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
    // The fake kubelet's rule: what a container does, by its image's tag.
    containers: (image) => {
      const tag = image.split(':').at(-1);
      if (tag === 'unready') return { fate: 'NeverReady' };
      if (tag === 'unschedulable') return { fate: 'Unschedulable' };
      if (tag === 'missing') return { fate: 'ImagePullFails' };
      if (tag === 'crash') return { fate: 'CrashLoops', exitCode: 139, logs: ['starting forms', CRASH_LINE] };
      if (tag === 'late') return { fate: 'Ready', readyAfterMs: 1000 };
      return undefined;
    },
    // One second of an app's progress deadline lasts 5 ms here: 600 s is 3 s, 60 s is 300 ms.
    progressDeadlineMs: (seconds) => seconds * 5,
  });
  arm = new FakeArm().createSucceeds('aks-ttd', 1).credentials(kube.kubeconfig).deleteSucceeds('aks-ttd', 1);
  aks = new AksProvider({
    client: fakeArmClient(arm),
    resourceGroup: arm.resourceGroup,
    ingressUrlTemplate: 'https://{org}.apps.example.net',
    platformUrl: 'https://platform.example.net',
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
    const names = template?.spec.containers[0]?.env.map((e) => e.name);
    expect(names).toContain('A');
    expect(names).not.toContain('B');
  });

  it("applies an Altinn app's platform settings, its address on the org's ingress and the optional Secrets", async () => {
    await aks.applyApp(
      'ttd',
      'altinn',
      desired({
        ...release(1, '1.0.0'),
        env: { ASPNETCORE_ENVIRONMENT: 'Production', GeneralSettings__HostName: 'own' },
      }),
    );
    const d = kube.store.get(findType('apps', 'v1', 'deployments')!, 'ttd-altinn', 'altinn');
    const template = d?.spec?.template as
      | {
          spec: {
            containers: { env: { name: string; value?: string; valueFrom?: unknown }[]; volumeMounts: unknown[] }[];
            volumes: { name: string; secret?: { secretName: string; optional: boolean } }[];
          };
        }
      | undefined;
    const spec = template!.spec;
    const env = Object.fromEntries(spec.containers[0]!.env.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      ASPNETCORE_ENVIRONMENT: 'Production',
      PlatformSettings__ApiStorageEndpoint: 'https://platform.example.net/storage/api/v1/',
      PlatformSettings__ApiAccessManagementEndpoint: 'https://platform.example.net/accessmanagement/api/v1/',
      GeneralSettings__HostName: 'own',
      GeneralSettings__ExternalAppBaseUrl: 'https://ttd.apps.example.net/ttd/altinn/',
      PlatformSettings__SubscriptionKey: {
        secretKeyRef: { name: 'altinn-platform', key: 'subscription-key', optional: true },
      },
    });
    expect(spec.containers[0]!.volumeMounts).toContainEqual({
      name: 'accesstoken',
      mountPath: '/accesstoken',
      readOnly: true,
    });
    expect(spec.volumes.find((v) => v.name === 'accesstoken')?.secret).toMatchObject({
      secretName: 'altinn-accesstoken',
      optional: true,
    });
    // No Secret exists in the namespace: the optional references do not keep the app from rolling out.
    const status = await rolledOut('altinn');
    expect(status.complete).toBe(true);
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

  it('reports ProgressDeadlineExceeded for a release whose pods cannot be scheduled', async () => {
    await aks.applyApp('ttd', 'stuck', { ...desired(release(1, 'unschedulable')), progressDeadlineMs: 60_000 });
    const s = await rolledOut('stuck');
    expect(s.complete).toBe(false);
    expect(s.failure).toEqual({
      reason: 'ProgressDeadlineExceeded',
      message: expect.stringMatching(/^ReplicaSet "stuck-\w+" has timed out progressing\.$/),
    });
  });

  it('fails a release whose image cannot be pulled with ImagePullFailed, and its pods have no log lines', async () => {
    await aks.applyApp('ttd', 'pull', desired(release(1, 'missing')));
    const s = await rolledOut('pull');
    expect(s).toMatchObject({ complete: false, failure: { reason: 'ImagePullFailed' } });
    expect(s.failure?.message).toMatch(
      /cannot pull image altinncr.azurecr.io\/ttd\/forms:missing: (ErrImagePull|ImagePullBackOff)/,
    );
    const logs = await aks.appLogs('ttd', 'pull');
    expect(logs).toHaveLength(2);
    expect(logs.every((l) => l.revision === 1 && l.lines.length === 0)).toBe(true);
  });

  it('fails a release that crashes at start with CrashLoopBackOff while the old release keeps serving, with the crash in its logs', async () => {
    await aks.applyApp('ttd', 'steady', desired(release(1, '1.0.0')));
    expect(await rolledOut('steady')).toMatchObject({ revision: 1, complete: true });
    await aks.applyApp('ttd', 'steady', desired(release(2, 'crash')));
    const s = await rolledOut('steady');
    expect(s).toMatchObject({ revision: 2, complete: false, oldReplicas: 2, failure: { reason: 'CrashLoopBackOff' } });
    expect(s.failure?.message).toMatch(/crashed \d+ times without becoming ready; last exit code 139/);
    expect(s.availableReplicas).toBeGreaterThanOrEqual(2);
    const logs = await aks.appLogs('ttd', 'steady');
    const crashed = logs.filter((l) => l.revision === 2);
    expect(crashed).toHaveLength(2);
    expect(crashed[0]?.lines.map((l) => l.line)).toEqual(['starting forms', CRASH_LINE]);
    expect(crashed[0]?.lines[0]).toMatchObject({ stream: 'stdout', at: expect.stringMatching(/^\d{4}-/) });
    const events = await aks.appEvents('ttd', 'steady');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'BackOff', replica: expect.stringMatching(/^steady-/) }),
    );
    // The kubelet's repeated BackOff events are one Event per pod, counted, as the real event recorder keeps them.
    const backOffs = kube.store.list(findType('', 'v1', 'events')!, 'ttd-steady').filter((e) => e.reason === 'BackOff');
    expect(backOffs).toHaveLength(2);
    expect(backOffs.every((e) => Number(e.count) >= 2)).toBe(true);
    // Rolling back to release 1 leaves no pod of release 2.
    await aks.applyApp('ttd', 'steady', desired(release(1, '1.0.0'), true));
    expect(await rolledOut('steady')).toMatchObject({ revision: 1, complete: true });
    expect((await aks.appLogs('ttd', 'steady')).map((l) => l.revision)).toEqual([1, 1]);
  });

  it('fails a release that runs but never passes its readiness probe with ReadinessFailed at its deadline', async () => {
    await aks.applyApp('ttd', 'unready', { ...desired(release(1, 'unready')), progressDeadlineMs: 60_000 });
    const early = await aks.rolloutStatus('ttd', 'unready');
    expect(early.failure).toBeUndefined();
    const s = await rolledOut('unready');
    expect(s).toMatchObject({ complete: false, failure: { reason: 'ReadinessFailed' } });
    expect(s.failure?.message).toMatch(
      /^container unready of pod unready-\w+-\w{5} runs but did not pass its readiness probe/,
    );
  });

  it('completes a release that becomes ready late but within its deadline, reporting no failure meanwhile', async () => {
    await aks.applyApp('ttd', 'late', desired(release(1, 'late')));
    await new Promise((r) => setTimeout(r, 500));
    const during = await aks.rolloutStatus('ttd', 'late');
    expect(during).toMatchObject({ complete: false, readyReplicas: 0 });
    expect(during.failure).toBeUndefined();
    expect(await rolledOut('late')).toMatchObject({ revision: 1, complete: true, readyReplicas: 2 });
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
