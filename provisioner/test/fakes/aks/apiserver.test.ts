import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifests } from '../../../src/providers/aks/manifests.js';
import { type FakeApiServer, startFakeApiServer } from './apiserver.js';

const run = promisify(execFile);
let server: FakeApiServer;
let dir: string;

const manifest = (image: string, cause: string) => `apiVersion: v1
kind: Namespace
metadata: { name: demo }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  annotations: { kubernetes.io/change-cause: "${cause}" }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ${image}
          ports: [{ containerPort: 5005 }]
`;

async function kubectl(...args: string[]) {
  const { stdout } = await run('kubectl', args, {
    env: { ...process.env, KUBECONFIG: join(dir, 'config') },
    timeout: 25_000,
  });
  return stdout;
}

async function apply(image: string, cause: string) {
  const file = join(dir, `${image.replace(/\W/g, '-')}.yaml`);
  writeFileSync(file, manifest(image, cause));
  return kubectl('apply', '-f', file);
}

async function deployment() {
  return JSON.parse(await kubectl('-n', 'demo', 'get', 'deploy', 'web', '-o', 'json'));
}

beforeAll(async () => {
  server = await startFakeApiServer({
    readyDelayMs: 200,
    containers: (image) => (image.startsWith('never-ready') ? { fate: 'NeverReady' } : undefined),
    // One second of progressDeadlineSeconds lasts 300 ms here: the default 600 s is 3 min, 1 s is 300 ms.
    progressDeadlineMs: (seconds) => seconds * 300,
  });
  dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  writeFileSync(join(dir, 'config'), server.kubeconfig);
});
afterAll(() => server.close());

describe('real kubectl against the fake API server', () => {
  it('applies a Deployment and waits for its rollout', async () => {
    expect(await apply('nginx:1.1', 'release 1')).toContain('deployment.apps/web created');
    const out = await kubectl('-n', 'demo', 'rollout', 'status', 'deploy/web', '--timeout=20s');
    expect(out).toContain('successfully rolled out');
    const d = await deployment();
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    expect(d.metadata.annotations['deployment.kubernetes.io/revision'] ?? '1').toBe('1');
  });

  it("lists the ReplicaSet's pods with kubectl get pods -o json, as the kubelet writes them, and reads their logs", async () => {
    const pods = JSON.parse(await kubectl('-n', 'demo', 'get', 'pods', '-o', 'json')).items as {
      metadata: {
        name: string;
        labels: Record<string, string>;
        ownerReferences: { kind: string; controller: boolean }[];
      };
      spec: { nodeName: string };
      status: {
        phase: string;
        conditions: { type: string; status: string }[];
        containerStatuses: { name: string; ready: boolean; restartCount: number; state: { running?: object } }[];
      };
    }[];
    expect(pods).toHaveLength(2);
    const rs = JSON.parse(await kubectl('-n', 'demo', 'get', 'rs', '-o', 'json')).items[0];
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(new RegExp(`^${rs.metadata.name}-[a-z0-9]{5}$`));
      expect(pod.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': rs.metadata.labels['pod-template-hash'] });
      expect(pod.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ReplicaSet', controller: true })]);
      expect(pod.spec.nodeName).toBeTruthy();
      expect(pod.status.phase).toBe('Running');
      expect(pod.status.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
      expect(pod.status.containerStatuses[0]).toMatchObject({ name: 'web', ready: true, restartCount: 0 });
      expect(pod.status.containerStatuses[0]?.state.running).toBeDefined();
    }
    const name = pods[0]?.metadata.name ?? '';
    expect(await kubectl('-n', 'demo', 'logs', name, '--tail=5')).toBe('listening on port 5005\n');
    expect(await kubectl('-n', 'demo', 'logs', name, '--timestamps')).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z listening on port 5005\n$/,
    );
  });

  it('rolls a changed image out as revision 2, and undo returns to the first template as revision 3', async () => {
    expect(await apply('nginx:1.2', 'release 2')).toContain('deployment.apps/web configured');
    expect(await kubectl('-n', 'demo', 'rollout', 'status', 'deploy/web', '--timeout=20s')).toContain(
      'successfully rolled out',
    );
    expect((await deployment()).spec.template.spec.containers[0].image).toBe('nginx:1.2');

    expect(await kubectl('-n', 'demo', 'rollout', 'undo', 'deploy/web')).toContain('rolled back');
    expect(await kubectl('-n', 'demo', 'rollout', 'status', 'deploy/web', '--timeout=20s')).toContain(
      'successfully rolled out',
    );
    const d = await deployment();
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.1');
    expect(d.metadata.generation).toBe(3);
    const rs = JSON.parse(await kubectl('-n', 'demo', 'get', 'rs', '-o', 'json')).items as {
      metadata: { annotations: Record<string, string> };
      spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    }[];
    expect(rs).toHaveLength(2);
    const byImage = Object.fromEntries(rs.map((r) => [r.spec.template.spec.containers[0]?.image, r]));
    expect(byImage['nginx:1.1']?.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(byImage['nginx:1.1']?.spec.replicas).toBe(2);
    expect(byImage['nginx:1.2']?.spec.replicas).toBe(0);
  });

  it('lists the rollout history with revisions and change causes', async () => {
    const out = await kubectl('-n', 'demo', 'rollout', 'history', 'deploy/web');
    expect(out).toMatch(/2\s+release 2/);
    expect(out).toMatch(/3\s+release 1/);
    expect(out).not.toMatch(/^1\s/m);
  });

  it('shows one revision of the history with its pod template', async () => {
    const out = await kubectl('-n', 'demo', 'rollout', 'history', 'deploy/web', '--revision=2');
    expect(out).toContain('nginx:1.2');
    expect(out).not.toContain('nginx:1.1');
  });

  it('takes a server-side apply from kubectl and rolls the new image out', async () => {
    const file = join(dir, 'ssa.yaml');
    writeFileSync(file, manifest('nginx:1.3', 'release 4'));
    expect(await kubectl('apply', '--server-side', '-f', file)).toContain('deployment.apps/web serverside-applied');
    expect(await kubectl('-n', 'demo', 'rollout', 'status', 'deploy/web', '--timeout=20s')).toContain(
      'successfully rolled out',
    );
    const d = await deployment();
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.3');
    expect(d.metadata.generation).toBe(4);
  });

  it('scales through the /scale subresource with kubectl scale', async () => {
    expect(await kubectl('-n', 'demo', 'scale', 'deploy/web', '--replicas=3')).toContain('deployment.apps/web scaled');
    expect(await kubectl('-n', 'demo', 'rollout', 'status', 'deploy/web', '--timeout=20s')).toContain(
      'successfully rolled out',
    );
    expect((await deployment()).status).toMatchObject({ replicas: 3, availableReplicas: 3 });
  });

  it('lets kubectl scale take spec.replicas from the server-side applier, so an apply without it keeps the count', async () => {
    const file = join(dir, 'owned.yaml');
    const owned = manifest('nginx:1.4', 'owned').replaceAll('web', 'owned');
    writeFileSync(file, owned);
    await kubectl('apply', '--server-side', '-f', file);
    await kubectl('-n', 'demo', 'scale', 'deploy/owned', '--replicas=3');
    writeFileSync(file, owned.replace('  replicas: 2\n', ''));
    await kubectl('apply', '--server-side', '-f', file);
    const d = JSON.parse(await kubectl('-n', 'demo', 'get', 'deploy', 'owned', '-o', 'json'));
    expect(d.spec.replicas).toBe(3);
    await kubectl('-n', 'demo', 'delete', 'deploy', 'owned');
  });

  it('makes kubectl rollout status fail when the new template never becomes ready (ProgressDeadlineExceeded)', async () => {
    const file = join(dir, 'stuck.yaml');
    writeFileSync(
      file,
      manifest('never-ready:1', 'stuck')
        .replaceAll('web', 'stuck')
        .replace('replicas: 2', 'replicas: 2\n  progressDeadlineSeconds: 1'),
    );
    await kubectl('apply', '-f', file);
    const e = await kubectl('-n', 'demo', 'rollout', 'status', 'deploy/stuck', '--timeout=20s').catch(
      (err: { stderr: string }) => err.stderr,
    );
    expect(e).toContain('deployment "stuck" exceeded its progress deadline');
  });

  it('answers kubectl with NotFound for an absent object', async () => {
    await expect(kubectl('-n', 'demo', 'get', 'deploy', 'nope')).rejects.toThrow(/deployments.apps "nope" not found/);
  });

  it('deleting the Deployment garbage-collects its ReplicaSets', async () => {
    await kubectl('-n', 'demo', 'delete', 'deploy', 'web');
    const rs = JSON.parse(await kubectl('-n', 'demo', 'get', 'rs', '-o', 'json'));
    const names = (rs.items as { metadata: { name: string } }[]).map((r) => r.metadata.name);
    expect(names.filter((n) => n.startsWith('web-'))).toEqual([]);
    expect(names.filter((n) => n.startsWith('stuck-'))).toHaveLength(1);
  });

  it("takes the provider's own manifests for an Altinn app, with the optional Secret references, and rolls them out", async () => {
    const release = {
      revision: 1,
      image: 'altinncr.azurecr.io/ttd/forms:1.0.0',
      version: '1.0.0',
      port: 5005,
      env: { ASPNETCORE_ENVIRONMENT: 'Production' },
      config: {},
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    };
    const items = appManifests(
      'ttd',
      'forms',
      release,
      { minReplicas: 1, maxReplicas: 2, replicas: 1 },
      {
        platformUrl: 'https://platform.example.no',
        appsUrl: 'https://apps.example.no',
      },
    );
    const file = join(dir, 'altinn-app.json');
    // Every object the provider applies, one JSON document after another (kubectl's v1 List is not served here).
    writeFileSync(file, items.map((o) => JSON.stringify(o)).join('\n'));
    expect(await kubectl('apply', '--server-side', '-f', file)).toContain('deployment.apps/forms serverside-applied');
    // Neither Secret exists: optional references do not hold the rollout back.
    expect(await kubectl('-n', 'ttd-forms', 'rollout', 'status', 'deploy/forms', '--timeout=20s')).toContain(
      'successfully rolled out',
    );
    const spec = JSON.parse(await kubectl('-n', 'ttd-forms', 'get', 'deploy', 'forms', '-o', 'json')).spec.template
      .spec;
    expect(spec.containers[0].env).toContainEqual({
      name: 'PlatformSettings__SubscriptionKey',
      valueFrom: { secretKeyRef: { name: 'altinn-platform', key: 'subscription-key', optional: true } },
    });
    expect(spec.volumes).toContainEqual(
      expect.objectContaining({ name: 'accesstoken', secret: expect.objectContaining({ optional: true }) }),
    );
  });
});
