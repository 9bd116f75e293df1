import { z } from 'zod';

/** A DNS-1123 label, as Kubernetes requires of namespace and service names: org and app names are both. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Whether `name` is a DNS-1123 label (lower case letters, digits and inner hyphens, at most 63). */
export function isDnsLabel(name: string): boolean {
  return DNS_LABEL.test(name);
}

/**
 * A cluster ingress base URL: http(s), no userinfo, query or fragment. A path is allowed (an
 * ingress mounted below a prefix); a trailing slash is dropped so that `{base}/{org}/{app}` joins cleanly.
 */
export const clusterBase = z
  .string()
  .max(2048)
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return z.NEVER;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'must use http or https' });
      return z.NEVER;
    }
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'must not carry userinfo' });
      return z.NEVER;
    }
    if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
      ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
      return z.NEVER;
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

/** Body of `PUT /_edge/routes/{org}`. */
export const orgRouteBody = z.strictObject({
  clusterBase,
  /** When true, only apps with their own entry are routed; others answer 404. Default false. */
  listedAppsOnly: z.boolean().optional(),
});

/**
 * How an app's circuit treats the app's own 5xx (`breaker` of an app route). Gateway failures always
 * count; the app's 5xx count only with `countAppErrors`, as a ratio over an interval with a minimum
 * volume, and only from at least `minClients` (2 or more) distinct clients: one client never opens it.
 */
export const breakerSettings = z.strictObject({
  countAppErrors: z.boolean(),
  /** Share of the interval's requests that must fail (default 0.5). */
  errorRatio: z.number().min(0.05).max(1).optional(),
  /** Requests the interval needs before the ratio is judged (default 20). */
  minRequests: z.number().int().min(5).max(1_000_000).optional(),
  /** Distinct clients the failures must come from (default 3, at least 2). */
  minClients: z.number().int().min(2).max(1_000).optional(),
  /** Length of the interval in seconds (default 10, Envoy's outlier-detection interval). */
  intervalSeconds: z.number().int().min(1).max(300).optional(),
});

/** An app route's breaker settings. */
export type BreakerSettings = z.output<typeof breakerSettings>;

/** Body of `PUT /_edge/routes/{org}/{app}`: every field optional, unknown fields refused. */
export const appRouteBody = z.strictObject({
  /** Pins the app to another cluster than its org's. */
  clusterBase: clusterBase.optional(),
  /** A disabled app answers 503 with `Retry-After`. */
  disabled: z.boolean().optional(),
  /** `Retry-After` seconds sent while disabled (default 300). */
  retryAfterSeconds: z.number().int().min(1).max(86_400).optional(),
  /** Opt-in: count the app's own 5xx in its circuit (default: only gateway failures). */
  breaker: breakerSettings.optional(),
});

/** Where an org's apps are served. */
export interface OrgRoute {
  org: string;
  clusterBase: string;
  listedAppsOnly: boolean;
  updatedAt: string;
}

/** Per-app overrides of the org route. */
export interface AppRoute {
  org: string;
  app: string;
  clusterBase?: string;
  disabled: boolean;
  retryAfterSeconds?: number;
  breaker?: BreakerSettings;
  updatedAt: string;
}

/** When an app's own 5xx open its circuit: a ratio over a minimum volume per interval, from several clients. */
export interface AppErrorRule {
  /** Share of the interval's requests that failed, 0 to 1 (Envoy: failure_percentage_threshold 85 %). */
  ratio: number;
  /** Requests the interval needs before the ratio is judged (Envoy: failure_percentage_request_volume 50). */
  minRequests: number;
  /** Distinct clients the interval's failures must come from. */
  minClients: number;
  /** Length of the interval (Envoy: interval = 10 s). */
  intervalMs: number;
}
