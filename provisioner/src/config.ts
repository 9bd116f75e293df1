import { z } from 'zod';
import { isStrongSecret, type PlatformMode } from '../../platform/src/config/index.js';

const blankIsUnset = <T extends z.ZodType>(inner: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), inner);

const httpUrl = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http:// or https:// URL');
const positiveInt = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1');

const schema = z.object({
  PROVISIONER_PROVIDER: blankIsUnset(z.enum(['local', 'aks'], { error: 'must be local or aks' }).optional()),
  PROVISIONER_ADMIN_TOKEN: blankIsUnset(z.string().min(16, 'must be at least 16 characters').optional()),
  EDGE_ADMIN_URL: blankIsUnset(httpUrl.optional()),
  EDGE_ADMIN_TOKEN: blankIsUnset(z.string().min(16, 'must be at least 16 characters').optional()),
  PLATFORM_URL: blankIsUnset(httpUrl.optional()),
  APPS_PUBLIC_URL: blankIsUnset(httpUrl.optional()),
  PROVISIONER_POLL_MS: blankIsUnset(positiveInt.optional()),
  PROVISIONER_PROGRESS_DEADLINE_SECONDS: blankIsUnset(positiveInt.optional()),
  PROVISIONER_RECONCILE_INTERVAL_MS: blankIsUnset(positiveInt.optional()),
  PROVISIONER_RECONCILE_SLICE_MS: blankIsUnset(positiveInt.optional()),
  PROVISIONER_AUTOSCALE: blankIsUnset(z.enum(['on', 'off'], { error: 'must be on or off' }).optional()),
  PROVISIONER_AUTOSCALE_INTERVAL_MS: blankIsUnset(positiveInt.optional()),
  AZURE_SUBSCRIPTION_ID: blankIsUnset(z.guid('must be a subscription id (a GUID)').optional()),
  AZURE_RESOURCE_GROUP: blankIsUnset(
    z
      .string()
      .regex(/^[-\w._()]{1,90}$/, 'must be a resource group name')
      .optional(),
  ),
  AKS_INGRESS_DOMAIN: blankIsUnset(
    z
      .string()
      .regex(/^[a-z0-9.-]+$/, 'must be a DNS domain')
      .optional(),
  ),
});

/** The provisioner's settings, read once at start. */
export interface ProvisionerConfig {
  /** `local` (processes on this machine, the default) or `aks` (PROVISIONER_PROVIDER). */
  provider: 'local' | 'aks';
  /** The operator's bearer token for clusters (PROVISIONER_ADMIN_TOKEN); without one only org tokens work. */
  adminToken: string | undefined;
  /** The edge's admin API (EDGE_ADMIN_URL and EDGE_ADMIN_TOKEN, both or neither); routes are not registered without. */
  edge: { url: string; token: string } | undefined;
  /** Base URL apps call the platform APIs at (PLATFORM_URL; the local host's by default). */
  platformUrl: string;
  /**
   * The public base URL apps are reached at as `{appsUrl}/{org}/{app}/` (APPS_PUBLIC_URL; the edge, EDGE_ADMIN_URL,
   * whose host serves `/{org}/{app}/...`, by default). The aks provider tells apps their address from it.
   */
  appsUrl?: string | undefined;
  /** How often rollouts are polled (PROVISIONER_POLL_MS; 250 local, 5000 aks). */
  pollMs: number;
  /** A rollout's deadline (PROVISIONER_PROGRESS_DEADLINE_SECONDS; 120 s local, 600 s aks as Kubernetes). */
  progressDeadlineMs: number;
  /** The local reconciler loop's idle interval (PROVISIONER_RECONCILE_INTERVAL_MS; 1000). */
  reconcileIntervalMs: number;
  /** How long one Azure timer run of the reconciler steps operations (PROVISIONER_RECONCILE_SLICE_MS; 8000, under the 10 s schedule). */
  reconcileSliceMs: number;
  /**
   * Usage-based autoscaling from the edge's metrics (PROVISIONER_AUTOSCALE; on for local, off for aks, whose
   * HPA scales in the cluster), decided every `intervalMs` (PROVISIONER_AUTOSCALE_INTERVAL_MS; 15000, HPA's
   * sync period). Needs the edge (`edge`).
   */
  autoscale: { enabled: boolean; intervalMs: number };
  /** For aks: where clusters are made. */
  azure: { subscriptionId: string; resourceGroup: string; ingressDomain: string } | undefined;
}

/**
 * Reads the provisioner's settings; throws one line per bad variable. In production mode (the platform's, see
 * PLATFORM_MODE) the `local` provider is refused, `aks` is the default, and the admin token is required and strong.
 */
export function loadProvisionerConfig(
  env: NodeJS.ProcessEnv,
  defaults: { platformUrl: string; mode: PlatformMode },
): ProvisionerConfig {
  const parsed = schema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (!parsed.success) throw new Error(`Invalid provisioner configuration:\n  ${problems.join('\n  ')}`);
  const v = parsed.data;
  if ((v.EDGE_ADMIN_URL === undefined) !== (v.EDGE_ADMIN_TOKEN === undefined)) {
    problems.push('EDGE_ADMIN_URL, EDGE_ADMIN_TOKEN: set both or neither');
  }
  const production = defaults.mode === 'production';
  const provider = v.PROVISIONER_PROVIDER ?? (production ? 'aks' : 'local');
  if (production) {
    if (provider === 'local') {
      problems.push('PROVISIONER_PROVIDER: the local provider is for local mode only (PLATFORM_MODE=local)');
    }
    if (!v.PROVISIONER_ADMIN_TOKEN || !isStrongSecret(v.PROVISIONER_ADMIN_TOKEN)) {
      problems.push(
        'PROVISIONER_ADMIN_TOKEN: required in production mode, at least 32 random bytes (43 base64url characters)',
      );
    }
    if (v.EDGE_ADMIN_TOKEN !== undefined && !isStrongSecret(v.EDGE_ADMIN_TOKEN)) {
      problems.push('EDGE_ADMIN_TOKEN: at least 32 random bytes (43 base64url characters) in production mode');
    }
  }
  if (provider === 'aks' && (!v.AZURE_SUBSCRIPTION_ID || !v.AZURE_RESOURCE_GROUP)) {
    problems.push('AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP: required with PROVISIONER_PROVIDER=aks');
  }
  if (problems.length > 0) throw new Error(`Invalid provisioner configuration:\n  ${problems.join('\n  ')}`);
  const local = provider === 'local';
  return {
    provider,
    adminToken: v.PROVISIONER_ADMIN_TOKEN,
    edge: v.EDGE_ADMIN_URL && v.EDGE_ADMIN_TOKEN ? { url: v.EDGE_ADMIN_URL, token: v.EDGE_ADMIN_TOKEN } : undefined,
    platformUrl: v.PLATFORM_URL ?? defaults.platformUrl,
    appsUrl: v.APPS_PUBLIC_URL ?? v.EDGE_ADMIN_URL,
    pollMs: v.PROVISIONER_POLL_MS ?? (local ? 250 : 5_000),
    progressDeadlineMs: (v.PROVISIONER_PROGRESS_DEADLINE_SECONDS ?? (local ? 120 : 600)) * 1000,
    reconcileIntervalMs: v.PROVISIONER_RECONCILE_INTERVAL_MS ?? 1_000,
    reconcileSliceMs: v.PROVISIONER_RECONCILE_SLICE_MS ?? 8_000,
    autoscale: {
      enabled: (v.PROVISIONER_AUTOSCALE ?? (local ? 'on' : 'off')) === 'on',
      intervalMs: v.PROVISIONER_AUTOSCALE_INTERVAL_MS ?? 15_000,
    },
    azure:
      v.AZURE_SUBSCRIPTION_ID && v.AZURE_RESOURCE_GROUP
        ? {
            subscriptionId: v.AZURE_SUBSCRIPTION_ID,
            resourceGroup: v.AZURE_RESOURCE_GROUP,
            ingressDomain: v.AKS_INGRESS_DOMAIN ?? 'apps.example.net',
          }
        : undefined,
  };
}
