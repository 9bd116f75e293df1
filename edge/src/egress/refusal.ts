/**
 * The egress proxy's own answers (as opposed to a target's, which pass through untouched): RFC 9457
 * problem+json with a machine-readable `reason`, so an app can tell "denied by policy" from
 * "target timed out".
 */

import { PROBLEM_CONTENT_TYPE, problemBody } from '../../../contracts/problems';

/** Why the proxy refused or failed a call. */
export type EgressReason =
  | 'unauthenticated'
  | 'not-configured'
  | 'malformed-target'
  | 'forbidden-address'
  | 'forbidden-name'
  | 'resolves-to-forbidden-address'
  | 'unresolvable'
  | 'resolver-failed'
  | 'not-allowed'
  | 'redirect-denied'
  | 'too-many-redirects'
  | 'request-too-large'
  | 'response-too-large'
  | 'credential-unavailable'
  | 'target-timeout'
  | 'target-unreachable'
  | 'rate-limited'
  | 'concurrency-limited';

/** A refusal: thrown inside the egress proxy, answered by `refusalResponse`. */
export class EgressRefusal extends Error {
  override name = 'EgressRefusal';
  /** The target (rule) the call had reached when it was refused, for the audit log; null before a match. */
  target: string | null = null;
  constructor(
    readonly status: number,
    readonly reason: EgressReason,
    readonly title: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

/** The problem+json response of a refusal. */
export function refusalResponse(refusal: EgressRefusal, instance: string, requestId: string): Response {
  const { status, title, detail, reason } = refusal;
  const body = problemBody(`egress-${reason}`, { status, title, detail, instance, requestId, extensions: { reason } });
  const headers = new Headers(refusal.headers);
  headers.set('content-type', PROBLEM_CONTENT_TYPE);
  headers.set('cache-control', 'no-store');
  headers.set('x-request-id', requestId);
  return new Response(JSON.stringify(body), { status: refusal.status, headers });
}

/** 403: the call is refused by the egress rules or the SSRF defences. */
export function denied(reason: EgressReason, detail: string): EgressRefusal {
  return new EgressRefusal(403, reason, 'Egress denied', detail);
}
