import { describe, expect, it } from 'vitest';
import type { AppRelease } from '../types.js';
import { appManifests, namespaceOf } from './manifests.js';

const release: AppRelease = {
  revision: 3,
  image: 'altinncr.azurecr.io/ttd/forms:3.1.0',
  version: '3.1.0',
  port: 5005,
  env: { A: 'b' },
  config: { x: 1 },
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
};
const scale = { minReplicas: 2, maxReplicas: 6, replicas: 3 };
// biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON here
const byKind = (kind: string): any => appManifests('ttd', 'forms', release, scale).find((m) => m.kind === kind);

describe('app manifests', () => {
  it('make a Deployment with release labels, probes on /health, resources and a zero-downtime rolling update', () => {
    const d = byKind('Deployment');
    expect(d.metadata.namespace).toBe('ttd-forms');
    expect(d.spec.selector.matchLabels).toEqual({ org: 'ttd', app: 'forms' });
    expect(d.spec.template.metadata.labels).toMatchObject({ org: 'ttd', app: 'forms', release: '3', version: '3.1.0' });
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: 0 });
    expect(d.spec.replicas).toBe(3);
    const c = d.spec.template.spec.containers[0];
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 5005 });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 5005 });
    expect(c.resources.limits.memory).toBe('512Mi');
    expect(d.metadata.annotations['kubernetes.io/change-cause']).toBe('release 3 (version 3.1.0)');
  });

  it("give the Deployment the app's own progress deadline, in whole seconds, and 600 s by default", () => {
    expect(byKind('Deployment').spec.progressDeadlineSeconds).toBe(600);
    const deadline = (progressDeadlineMs: number) =>
      (
        appManifests('ttd', 'forms', release, scale, { progressDeadlineMs }).find(
          (m) => m.kind === 'Deployment',
        ) as never as {
          spec: { progressDeadlineSeconds: number };
        }
      ).spec.progressDeadlineSeconds;
    expect(deadline(120_000)).toBe(120);
    expect(deadline(1500)).toBe(2);
  });

  it('leave spec.replicas out when asked, for the autoscaler to own it', () => {
    const d = appManifests('ttd', 'forms', release, scale, { omitReplicas: true }).find((m) => m.kind === 'Deployment');
    expect((d as never as { spec: Record<string, unknown> }).spec).not.toHaveProperty('replicas');
  });

  it('roll the pods when only the config changes (checksum on the template)', () => {
    const a = byKind('Deployment').spec.template.metadata.annotations['checksum/config'];
    const other = appManifests('ttd', 'forms', { ...release, config: { x: 2 } }, scale).find(
      (m) => m.kind === 'Deployment',
    ) as never as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    expect(other.spec.template.metadata.annotations['checksum/config']).not.toBe(a);
  });

  it('route /{org}/{app} by prefix and autoscale on CPU 75 % within the scale bounds', () => {
    const path = byKind('Ingress').spec.rules[0].http.paths[0];
    expect(path).toMatchObject({ path: '/ttd/forms', pathType: 'Prefix' });
    const hpa = byKind('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(75);
    expect(hpa.spec.behavior.scaleDown).toEqual({
      stabilizationWindowSeconds: 300,
      policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
    });
    expect(byKind('PodDisruptionBudget').apiVersion).toBe('policy/v1');
  });

  it('reject a manifest the Kubernetes schema rejects, before anything is sent', () => {
    expect(() => appManifests('ttd', 'forms', { ...release, port: 5005.5 }, scale)).toThrow(
      expect.objectContaining({ code: 'InvalidParameter', retryable: false }),
    );
  });

  it('give an Altinn app its platform endpoints and its own address, the release overriding them', () => {
    const env = (r: AppRelease) => {
      // biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON here
      const d: any = appManifests('ttd', 'forms', r, scale, {
        platformUrl: 'https://platform.example.no/',
        appsUrl: 'https://apps.example.no',
      }).find((m) => m.kind === 'Deployment');
      return Object.fromEntries(
        // biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON here
        d.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]),
      );
    };
    const plain = env(release);
    expect(plain).toMatchObject({
      A: 'b',
      PlatformSettings__ApiStorageEndpoint: 'https://platform.example.no/storage/api/v1/',
      PlatformSettings__ApiAuthorizationEndpoint: 'https://platform.example.no/authorization/api/v1/',
      PlatformSettings__ApiAccessManagementEndpoint: 'https://platform.example.no/accessmanagement/api/v1/',
      PlatformSettings__ApiPdf2Endpoint: 'https://platform.example.no/pdf',
      GeneralSettings__HostName: 'apps.example.no',
      GeneralSettings__ExternalAppBaseUrl: 'https://apps.example.no/ttd/forms/',
    });
    const overridden = env({
      ...release,
      env: { PlatformSettings__ApiStorageEndpoint: 'https://other.example.no/storage/api/v1/' },
    });
    expect(overridden.PlatformSettings__ApiStorageEndpoint).toBe('https://other.example.no/storage/api/v1/');
    // Without the addresses (e.g. a bare manifest) the Deployment names none.
    expect(byKind('Deployment').spec.template.spec.containers[0].env.map((e: { name: string }) => e.name)).toEqual([
      'A',
      'PlatformSettings__SubscriptionKey',
    ]);
  });

  it('take the subscription key and the access token certificate from optional Secrets of the namespace', () => {
    const spec = byKind('Deployment').spec.template.spec;
    const container = spec.containers[0];
    expect(container.env).toContainEqual({
      name: 'PlatformSettings__SubscriptionKey',
      valueFrom: { secretKeyRef: { name: 'altinn-platform', key: 'subscription-key', optional: true } },
    });
    // AccessTokenClient reads {parent of WORKDIR /App}accesstoken/accesstokencredentials.pfx.
    expect(container.volumeMounts).toContainEqual({ name: 'accesstoken', mountPath: '/accesstoken', readOnly: true });
    expect(spec.volumes).toContainEqual({
      name: 'accesstoken',
      secret: {
        secretName: 'altinn-accesstoken',
        optional: true,
        items: [{ key: 'accesstokencredentials.pfx', path: 'accesstokencredentials.pfx' }],
      },
    });
    // A release that sets the key itself keeps its own value, once.
    // biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON here
    const own: any = appManifests(
      'ttd',
      'forms',
      { ...release, env: { PlatformSettings__SubscriptionKey: 'k' } },
      scale,
    ).find((m) => m.kind === 'Deployment');
    expect(own.spec.template.spec.containers[0].env).toEqual([
      { name: 'PlatformSettings__SubscriptionKey', value: 'k' },
    ]);
  });

  it('reject org and app names that do not make a DNS label', () => {
    expect(() => namespaceOf('TTD', 'forms')).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
    expect(() => namespaceOf('ttd', 'a'.repeat(60))).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
    expect(namespaceOf('ttd', 'forms')).toBe('ttd-forms');
  });
});
