/**
 * `bench/kube.ts`: how fast the fake Kubernetes API server (provisioner/test/fakes/aks) takes
 * Deployments through @kubernetes/client-node: server-side apply of new Deployments, server-side apply
 * of a changed image (the fake's Deployment controller then makes a ReplicaSet), and the two-request
 * create-or-replace path (read, then replace), side by side in one run; plus whole apps (seven objects
 * each) through AksProvider.applyApp. Ratios are printed against server-side apply of new Deployments.
 */
import { type KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { AksProvider, kubeConfigFromString } from '../provisioner/src/providers/aks/index.js';
import { startFakeApiServer } from '../provisioner/test/fakes/aks/apiserver.js';
import { FakeArm, fakeArmClient } from '../provisioner/test/fakes/aks/arm.js';
import { median } from './report.js';
import { reportFigures } from './summary.js';

const DEPLOYMENTS = Number(process.env.BENCH_KUBE_DEPLOYMENTS ?? 200);
const APPS = Number(process.env.BENCH_KUBE_APPS ?? 50);
const ROUNDS = Number(process.env.BENCH_KUBE_ROUNDS ?? 3);
const NAMESPACE = 'bench';

/** Deployment `i` of the bench, running `image`. */
function deployment(i: number, image: string): KubernetesObject {
  const labels = { app: `app-${i}` };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `app-${i}`, namespace: NAMESPACE, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 5005 }] }] },
      },
    },
  } as KubernetesObject;
}

/** Deployments per second of `apply` over `count` objects. */
async function rate(count: number, apply: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await apply(i);
  return count / ((performance.now() - start) / 1000);
}

/** Runs the bench and prints deployments/s, apps/s and ratios; 0 on success. */
export async function runKubeBench(): Promise<number> {
  let conflicts = 0;
  const rows: Record<string, number[]> = {
    'apply (create)': [],
    'apply (new image)': [],
    'read + replace': [],
    'applyApp (7 objects)': [],
  };
  for (let round = 0; round < ROUNDS; round++) {
    const server = await startFakeApiServer({ readyDelayMs: 1000 });
    try {
      const api = KubernetesObjectApi.makeApiClient(kubeConfigFromString(server.kubeconfig));
      await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
      const ssa = (o: KubernetesObject) =>
        api.patch(o, undefined, undefined, 'bench', true, PatchStrategy.ServerSideApply);
      rows['apply (create)']?.push(await rate(DEPLOYMENTS, (i) => ssa(deployment(i, 'app:1'))));
      rows['apply (new image)']?.push(await rate(DEPLOYMENTS, (i) => ssa(deployment(i, 'app:2'))));
      rows['read + replace']?.push(
        await rate(DEPLOYMENTS, async (i) => {
          // The controller writes status between a read and a replace now and then; like any client
          // (client-go's RetryOnConflict), read again and retry on 409.
          for (let attempt = 0; ; attempt++) {
            const live = await api.read({
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name: `app-${i}`, namespace: NAMESPACE },
            });
            const next = deployment(i, 'app:3');
            next.metadata = { ...next.metadata, resourceVersion: live.metadata?.resourceVersion };
            try {
              await api.replace(next);
              return;
            } catch (error) {
              if ((error as { code?: number }).code !== 409 || attempt >= 5) throw error;
              conflicts++;
            }
          }
        }),
      );
      const arm = new FakeArm().credentials(server.kubeconfig);
      const aks = new AksProvider({
        client: fakeArmClient(arm),
        resourceGroup: arm.resourceGroup,
        ingressUrlTemplate: 'https://{org}.example',
      });
      const release = {
        image: 'app:1',
        version: '1',
        port: 5005,
        env: {},
        config: {},
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
      };
      rows['applyApp (7 objects)']?.push(
        await rate(APPS, (i) =>
          aks.applyApp('ttd', `app-${i}`, {
            release: { ...release, revision: 1 },
            scale: { minReplicas: 2, maxReplicas: 6, replicas: 2 },
            rollback: false,
          }),
        ),
      );
    } finally {
      await server.close();
    }
  }
  console.log(
    `fake Kubernetes API: deployments applied per second (@kubernetes/client-node, ${DEPLOYMENTS} Deployments, median of ${ROUNDS} rounds)`,
  );
  console.log('path                       per second   range');
  const base = median(rows['apply (create)'] ?? []);
  for (const [name, values] of Object.entries(rows)) {
    const m = median(values);
    const unit = name.startsWith('applyApp') ? 'apps/s' : 'deploy/s';
    console.log(
      `${name.padEnd(26)} ${m.toFixed(0).padStart(8)} ${unit.padEnd(9)} ${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`,
    );
  }
  const ratio = (name: string) => (median(rows[name] ?? []) / base).toFixed(2);
  console.log(
    `ratios to apply (create): new image ${ratio('apply (new image)')}x  read+replace ${ratio('read + replace')}x  applyApp ${ratio('applyApp (7 objects)')}x`,
  );
  reportFigures(
    'kube',
    Object.entries(rows).map(([name, values]) => ({
      name: `fake Kubernetes API: ${name}`,
      value: `${median(values).toFixed(0)} ${name.startsWith('applyApp') ? 'apps/s' : 'deployments/s'}`,
      ratio: `${(median(values) / base).toFixed(2)} of apply (create)`,
    })),
  );
  console.log(`read + replace: ${conflicts} optimistic-concurrency conflict(s) (409) retried after a fresh read`);
  return 0;
}
