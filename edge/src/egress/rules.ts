import { z } from 'zod';
import { isDnsLabel } from '../routing/schema';
import { rateLimit } from '../sla/schema';

/**
 * An org's egress allow-list: named targets, each allowing one host pattern on some ports, one
 * scheme, some methods and some path prefixes, optionally only for some of the org's apps. A call
 * is allowed when one target allows all of it; anything else is denied (deny by default).
 */

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A host pattern: a lower-case name, `*.` plus a name (any subdomain), `*` (any host) or a dotted quad. */
export const hostPattern = z
  .string()
  .max(255)
  .refine((host) => host === '*' || IPV4.test(host) || HOST_NAME.test(host.startsWith('*.') ? host.slice(2) : host), {
    message: 'must be a lower-case host name, "*.<name>", "*" or a dotted-quad IPv4 address',
  });

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The admin API's body for one target (PUT `/_edge/egress/{org}/targets/{target}`). */
export const targetBody = z
  .object({
    scheme: z.enum(['https', 'http']).default('https'),
    host: hostPattern,
    ports: z.array(z.number().int().min(1).max(65535)).min(1).max(16).optional(),
    methods: z.array(z.enum(METHODS)).min(1).default(['GET']),
    pathPrefixes: z
      .array(
        z
          .string()
          .max(512)
          .regex(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/, 'must start with "/" and hold only unreserved path characters'),
      )
      .min(1)
      .max(32)
      .default(['/']),
    apps: z.array(z.string().refine(isDnsLabel, 'must be a DNS-1123 label')).max(256).optional(),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    maxResponseBytes: z
      .number()
      .int()
      .min(1)
      .max(100 * 1024 * 1024)
      .default(10 * 1024 * 1024),
    maxRedirects: z.number().int().min(0).max(10).default(3),
    /** Calls to this target by all the org's apps together: sliding windows, as an SLA plan's `rate`. */
    rate: z.array(rateLimit).min(1).max(4).optional(),
    /** Calls to this target in flight at once (a slot is held until the response body has been sent). */
    concurrency: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();

/** A target as stored (credential aside). */
export type TargetRule = z.output<typeof targetBody> & { name: string; ports: number[] };

/** The port a scheme implies. */
export function defaultPort(scheme: string): number {
  return scheme === 'http' ? 80 : 443;
}

/** Whether `hostname` (WHATWG-normalised, lower case) matches a host pattern. */
export function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
  return pattern === hostname;
}

/** What is asked of the allow-list: one outbound request by one app. */
export interface EgressAsk {
  app: string;
  scheme: string;
  hostname: string;
  port: number;
  method: string;
  pathname: string;
}

/** Whether `rule` allows `ask`. */
export function ruleAllows(rule: TargetRule, ask: EgressAsk): boolean {
  return (
    rule.scheme === ask.scheme &&
    hostMatches(rule.host, ask.hostname) &&
    rule.ports.includes(ask.port) &&
    (rule.methods as readonly string[]).includes(ask.method) &&
    rule.pathPrefixes.some((prefix) => ask.pathname.startsWith(prefix)) &&
    (rule.apps === undefined || rule.apps.includes(ask.app))
  );
}

/** How specific a rule that allows `ask` is: an exact host first, then the longest matching path prefix. */
function specificity(rule: TargetRule, ask: EgressAsk): number {
  const prefix = Math.max(...rule.pathPrefixes.filter((p) => ask.pathname.startsWith(p)).map((p) => p.length));
  return (rule.host.includes('*') ? 0 : 10_000) + prefix;
}

/**
 * The target that allows `ask`, or null (deny by default). When several do, the most specific wins
 * (exact host over wildcard, then longest path prefix), so its limits and credential are the ones used.
 */
export function matchTarget<T extends TargetRule>(rules: readonly T[], ask: EgressAsk): T | null {
  let found: T | null = null;
  let best = -1;
  for (const rule of rules) {
    if (!ruleAllows(rule, ask)) continue;
    const score = specificity(rule, ask);
    if (score > best) {
      found = rule;
      best = score;
    }
  }
  return found;
}
