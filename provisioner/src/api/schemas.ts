import { z } from '@hono/zod-openapi';
import { isReservedEnvName } from '../providers/env.js';

/** A DNS-1123 label, as Kubernetes requires of namespaces and services: org and app names are both. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const label = (what: string) =>
  z.string().regex(DNS_LABEL, `${what} must be a DNS-1123 label: lower-case letters, digits and inner hyphens, 1-63`);

/** `{org}` path parameter. */
export const OrgParams = z.strictObject({ org: label('org') });
/** `{org}/apps/{app}` path parameters; the app's namespace `{org}-{app}` must be a DNS label too. */
export const AppParams = z.strictObject({ org: label('org'), app: label('app') }).superRefine((params, ctx) => {
  const length = params.org.length + 1 + params.app.length;
  if (length > 63) {
    ctx.addIssue({
      code: 'custom',
      path: ['app'],
      message: `org and app make the namespace "{org}-{app}", which must be at most 63 characters (here ${length})`,
    });
  }
});

/** `?force=true` of cluster delete. */
export const ForceQuery = z.strictObject({ force: z.enum(['true', 'false']).optional() });

/** A Kubernetes CPU quantity (`250m`, `1`, `0.5`). */
const cpu = z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, 'must be a CPU quantity such as 250m or 1');
/** A Kubernetes memory quantity (`256Mi`, `1Gi`, `512M`). */
const memory = z.string().regex(/^\d+(Ki|Mi|Gi|Ti|K|M|G|T)?$/, 'must be a memory quantity such as 256Mi or 1Gi');
const resourceList = z.strictObject({ cpu: cpu.optional(), memory: memory.optional() });

/** Body of `PUT clusters/{org}`: the org's cluster. Unknown fields are refused. */
export const ClusterInput = z
  .strictObject({
    region: z
      .string()
      .regex(/^[a-z][a-z0-9]{1,39}$/, 'must be an Azure region name such as norwayeast')
      .default('norwayeast'),
    kubernetesVersion: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)?$/, 'must be major.minor or major.minor.patch, e.g. 1.33')
      .default('1.33'),
    nodeCount: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(3),
    maxNodes: z.number().int().min(1).max(1000).optional(),
    vmSize: z
      .string()
      .regex(/^Standard_[A-Za-z0-9_]{2,60}$/, 'must be an Azure VM size such as Standard_D4s_v5')
      .default('Standard_D4s_v5'),
  })
  .refine((spec) => spec.maxNodes === undefined || spec.maxNodes >= spec.nodeCount, {
    path: ['maxNodes'],
    message: 'must be at least nodeCount',
  })
  .openapi('ClusterInput');

const replicaCount = (what: string) =>
  z.number().int(`${what} must be a whole number`).min(0, `${what} must not be negative`).max(1000);

/** An OCI image reference: `[registry/]repository[:tag][@sha256:...]`. */
const IMAGE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

const stabilizationSeconds = z
  .number()
  .int('must be a whole number of seconds')
  .min(0, 'must not be negative')
  .max(3600, 'must be at most 3600');

/** `autoscaling` of an app: targets per replica (null: not a signal) and HPA-style stabilisation windows. */
const AutoscalingInput = z
  .strictObject({
    enabled: z.boolean().optional(),
    requestsPerSecond: z.number().gt(0, 'must be greater than 0').max(1_000_000).nullable().optional(),
    inFlight: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000).nullable().optional(),
    scaleUpStabilizationSeconds: stabilizationSeconds.optional(),
    scaleDownStabilizationSeconds: stabilizationSeconds.optional(),
  })
  .refine((a) => a.enabled === false || a.requestsPerSecond !== null || a.inFlight !== null, {
    path: ['requestsPerSecond'],
    message: 'requestsPerSecond and inFlight must not both be null while autoscaling is enabled',
  });

/** Body of `PUT clusters/{org}/apps/{app}`: the release to run and its replica bounds. */
export const AppInput = z
  .strictObject({
    image: z.string().max(512).regex(IMAGE, 'must be an image reference such as registry.example/org/app:1.2.3'),
    version: z
      .string()
      .regex(/^[\w][\w.+-]{0,127}$/, 'must be a version label such as 1.2.3')
      .optional(),
    port: z.number().int().min(1).max(65_535).default(5005),
    minReplicas: replicaCount('minReplicas').min(1, 'minReplicas must be at least 1').default(2),
    maxReplicas: replicaCount('maxReplicas').min(1, 'maxReplicas must be at least 1').default(6),
    replicas: replicaCount('replicas').min(1, 'replicas must be at least 1').optional(),
    env: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')
          .refine(
            (name) => !isReservedEnvName(name),
            'is reserved: set by the platform or changes how the runtime starts',
          ),
        z.string(),
      )
      .default({}),
    config: z.record(z.string(), z.unknown()).default({}),
    resources: z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() }).default({}),
    /** Roll back to the serving release when a rollout fails. */
    autoRollback: z.boolean().default(true),
    /** Usage-based autoscaling between minReplicas and maxReplicas; on with the defaults when absent. */
    autoscaling: AutoscalingInput.optional(),
    /** The rollout's deadline (Kubernetes' progressDeadlineSeconds); the provisioner's default when absent. */
    progressDeadlineSeconds: z.number().int().min(1, 'must be at least 1').max(3600, 'must be at most 3600').optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.minReplicas > spec.maxReplicas) {
      ctx.addIssue({ code: 'custom', path: ['minReplicas'], message: 'must not be greater than maxReplicas' });
    }
    if (spec.replicas !== undefined && (spec.replicas < spec.minReplicas || spec.replicas > spec.maxReplicas)) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'must lie between minReplicas and maxReplicas' });
    }
  })
  .openapi('AppInput');

/** Body of `POST .../scale`: a replica target and/or new bounds. */
export const ScaleInput = z
  .strictObject({
    replicas: replicaCount('replicas').min(1, 'replicas must be at least 1').optional(),
    minReplicas: replicaCount('minReplicas').min(1, 'minReplicas must be at least 1').optional(),
    maxReplicas: replicaCount('maxReplicas').min(1, 'maxReplicas must be at least 1').optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'give replicas, minReplicas or maxReplicas' })
  .openapi('ScaleInput');

/** Body of `POST .../rollback`: the release to return to; the previously served one when absent. */
export const RollbackInput = z.strictObject({ revision: z.number().int().min(1).optional() }).openapi('RollbackInput');

/** `{id}` of an operation. */
export const OperationParams = z.strictObject({ id: z.uuid('must be an operation id (a UUID)') });

/** Any JSON object, for response documentation. */
export const Resource = z.object({}).passthrough();
