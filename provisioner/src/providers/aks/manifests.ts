/**
 * The Kubernetes objects one app release becomes in its org's cluster, each validated against the
 * Kubernetes OpenAPI schema (kubernetes-models) before it is sent. An app lives in namespace
 * `{org}-{app}`: deleting the app is deleting the namespace, and no app name can collide with a
 * system namespace (`default`, `kube-system`).
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service } from 'kubernetes-models/v1';
import { altinnAppAddressSettings, altinnPlatformSettings } from '../env.js';
import { type AppRelease, type AppScale, ProviderError } from '../types.js';

/** Label on the pod template naming the release it runs (Altinn's kuberneteswrapper reads `release`). */
export const RELEASE_LABEL = 'release';
/** Annotation on the Deployment with the release revision, for operators and `kubectl rollout history`. */
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** Seconds the Deployment controller gives a rollout before it reports `ProgressDeadlineExceeded`. */
export const PROGRESS_DEADLINE_SECONDS = 600;

/**
 * The Secret in the app's namespace holding what the org got from the platform for its apps: key
 * `subscription-key`, the platform subscription key (`POST /authorization/api/v1/subscriptionkeys/{org}`),
 * given to the app as `PlatformSettings__SubscriptionKey`. Optional: without it the app starts with no key.
 */
export const PLATFORM_SECRET = 'altinn-platform';
/** The key of PLATFORM_SECRET holding the subscription key. */
export const SUBSCRIPTION_KEY_KEY = 'subscription-key';
/** The variable app-lib's `PlatformSettings.SubscriptionKey` is bound from. */
export const SUBSCRIPTION_KEY_ENV = 'PlatformSettings__SubscriptionKey';
/**
 * The Secret in the app's namespace holding the org's app-token signing certificate (a PKCS#12 file without a
 * password, under key ACCESS_TOKEN_FILE), whose public half the org registered with
 * `POST /authentication/api/v1/apptokenkeys/{org}`. Optional: without it the app signs no platform access token.
 */
export const ACCESS_TOKEN_SECRET = 'altinn-accesstoken';
/**
 * Where app-lib's access token client (Altinn.Common.AccessTokenClient 1.1.5, `SigningCredentialsResolver`) reads
 * the certificate by default: the parent of the working directory (`/` for the app image's `WORKDIR /App`) +
 * `AccessTokenSettings.AccessTokenSigningKeysFolder` (`accesstoken/`) + `AccessTokenSigningCertificateFileName`.
 */
export const ACCESS_TOKEN_DIR = '/accesstoken';
/** app-lib's default `AccessTokenSettings.AccessTokenSigningCertificateFileName`, also the key in ACCESS_TOKEN_SECRET. */
export const ACCESS_TOKEN_FILE = 'accesstokencredentials.pfx';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The namespace an app lives in; rejects names that are not DNS labels as `InvalidParameter`. */
export function namespaceOf(org: string, app: string): string {
  const ns = `${org}-${app}`;
  if (!DNS_LABEL.test(org) || !DNS_LABEL.test(app) || ns.length > 63) {
    throw new ProviderError(
      'InvalidParameter',
      `org "${org}" and app "${app}" must make a DNS label of at most 63 characters`,
      false,
    );
  }
  return ns;
}

/** The labels selecting an app's pods (stable across releases, so the selector never changes). */
export const selectorOf = (org: string, app: string) => ({ org, app });

/** How the Deployment of `appManifests` is made beyond the release and scale. */
export interface DeploymentOptions {
  /** The app's rollout deadline; `progressDeadlineSeconds` is its whole seconds, rounded up (600 when absent). */
  progressDeadlineMs?: number;
  /**
   * Leave `spec.replicas` out, so this apply neither sets nor owns it: the autoscaler (and the
   * provisioner's replicas field manager) decide it (see `applyWorkload`).
   */
  omitReplicas?: boolean;
  /** Where the app reaches the platform APIs: app-lib's `PlatformSettings__*` endpoints on it (none when absent). */
  platformUrl?: string;
  /** The base URL the app is reached at as `{appsUrl}/{org}/{app}/`: app-lib's `GeneralSettings__*` (none when absent). */
  appsUrl?: string;
}

/** One container environment variable: a value, or a key of a Secret. */
type EnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { secretKeyRef: { name: string; key: string; optional: boolean } } };

/**
 * The app container's environment: what an unmodified Altinn app needs to reach this platform (its endpoints and
 * own address, see ../env.ts), then the release's own variables, which win on a name clash, then the subscription
 * key from PLATFORM_SECRET unless the release sets it itself.
 */
export function containerEnv(org: string, app: string, release: AppRelease, options: DeploymentOptions = {}): EnvVar[] {
  const values: Record<string, string> = {
    ...(options.platformUrl ? altinnPlatformSettings(options.platformUrl) : {}),
    ...(options.appsUrl ? altinnAppAddressSettings(options.appsUrl, org, app) : {}),
    ...release.env,
  };
  const env: EnvVar[] = Object.entries(values).map(([name, value]) => ({ name, value }));
  if (!(SUBSCRIPTION_KEY_ENV in values)) {
    env.push({
      name: SUBSCRIPTION_KEY_ENV,
      valueFrom: { secretKeyRef: { name: PLATFORM_SECRET, key: SUBSCRIPTION_KEY_KEY, optional: true } },
    });
  }
  return env;
}

/** The Deployment's `progressDeadlineSeconds` for an app's deadline in milliseconds (the default when absent). */
export function progressDeadlineSeconds(progressDeadlineMs: number | undefined): number {
  if (progressDeadlineMs === undefined) return PROGRESS_DEADLINE_SECONDS;
  return Math.max(1, Math.ceil(progressDeadlineMs / 1000));
}

/** Everything `applyApp` sends, in the order it is applied. */
export function appManifests(
  org: string,
  app: string,
  release: AppRelease,
  scale: AppScale,
  options: DeploymentOptions = {},
): KubernetesObject[] {
  const namespace = namespaceOf(org, app);
  const selector = selectorOf(org, app);
  const labels = { ...selector, [RELEASE_LABEL]: String(release.revision), version: release.version };
  const meta = { name: app, namespace, labels: { ...selector, 'app.kubernetes.io/managed-by': 'provisioner' } };
  const configText = JSON.stringify(release.config);
  const checksum = createHash('sha256').update(configText).digest('hex');
  const objects = [
    new Namespace({
      metadata: { name: namespace, labels: { ...selector, 'app.kubernetes.io/managed-by': 'provisioner' } },
    }),
    new ConfigMap({ metadata: { ...meta, name: `${app}-config` }, data: { 'config.json': configText } }),
    new Deployment({
      metadata: {
        ...meta,
        annotations: { [CHANGE_CAUSE]: `release ${release.revision} (version ${release.version})` },
      },
      spec: {
        ...(options.omitReplicas ? {} : { replicas: scale.replicas }),
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: progressDeadlineSeconds(options.progressDeadlineMs),
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { labels, annotations: { 'checksum/config': checksum } },
          spec: {
            containers: [
              {
                name: app,
                image: release.image,
                ports: [{ name: 'http', containerPort: release.port }],
                env: containerEnv(org, app, release, options),
                volumeMounts: [
                  { name: 'config', mountPath: '/app/config', readOnly: true },
                  { name: 'accesstoken', mountPath: ACCESS_TOKEN_DIR, readOnly: true },
                ],
                readinessProbe: {
                  httpGet: { path: '/health', port: release.port },
                  initialDelaySeconds: 5,
                  periodSeconds: 5,
                },
                livenessProbe: {
                  httpGet: { path: '/health', port: release.port },
                  initialDelaySeconds: 30,
                  periodSeconds: 10,
                },
                resources: { requests: { ...release.resources.requests }, limits: { ...release.resources.limits } },
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: `${app}-config` } },
              {
                name: 'accesstoken',
                secret: {
                  secretName: ACCESS_TOKEN_SECRET,
                  optional: true,
                  items: [{ key: ACCESS_TOKEN_FILE, path: ACCESS_TOKEN_FILE }],
                },
              },
            ],
          },
        },
      },
    }),
    new Service({
      metadata: meta,
      spec: { selector, ports: [{ name: 'http', port: 80, targetPort: release.port, protocol: 'TCP' }] },
    }),
    new Ingress({
      metadata: meta,
      spec: {
        ingressClassName: 'nginx',
        rules: [
          {
            http: {
              paths: [
                {
                  path: `/${org}/${app}`,
                  pathType: 'Prefix',
                  backend: { service: { name: app, port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    }),
    autoscaler(org, app, scale),
    new PodDisruptionBudget({ metadata: meta, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } }),
  ];
  return objects.map(validatedManifest);
}

/** The app's HorizontalPodAutoscaler: CPU 75 %, up one pod per 15 s, down one per 60 s after 300 s. */
export function autoscaler(org: string, app: string, scale: AppScale) {
  return new HorizontalPodAutoscaler({
    metadata: { name: app, namespace: namespaceOf(org, app), labels: selectorOf(org, app) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app },
      minReplicas: scale.minReplicas,
      maxReplicas: scale.maxReplicas,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }] },
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      },
    },
  });
}

/** Checks replica bounds; a bad scale is the operator's error, not retryable. */
export function checkScale(scale: AppScale) {
  const { minReplicas, maxReplicas, replicas } = scale;
  if (
    !(
      Number.isInteger(minReplicas) &&
      minReplicas >= 1 &&
      maxReplicas >= minReplicas &&
      replicas >= minReplicas &&
      replicas <= maxReplicas
    )
  ) {
    throw new ProviderError(
      'InvalidParameter',
      `scale must satisfy 1 <= min (${minReplicas}) <= replicas (${replicas}) <= max (${maxReplicas})`,
      false,
    );
  }
}

/** Validates a kubernetes-models object against the schema and returns it as plain JSON. */
export function validatedManifest(o: { validate(): void; toJSON(): unknown }): KubernetesObject {
  try {
    o.validate();
  } catch (e) {
    throw new ProviderError('InvalidParameter', `invalid manifest: ${(e as Error).message}`, false);
  }
  return o.toJSON() as KubernetesObject;
}
