/**
 * The one problem model of the platform (RFC 9457 problem+json), shared by the edge worker, its egress proxy, the
 * functions' APIs, the provisioner and the reference app runtime. Dependency-free on purpose: the edge bundles it,
 * the Node side imports it. docs/problems.md lists every kind.
 */

/** Every problem `type` is this URN prefix plus a kind, e.g. `urn:altinn-platform:problem:not-found`. */
export const PROBLEM_TYPE_PREFIX = 'urn:altinn-platform:problem:';

/** Media type of every problem body. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** What a kind means by default: the title and status a problem of that kind has unless it says otherwise. */
export interface ProblemKindInfo {
  readonly title: string;
  readonly status: number;
}

/**
 * Every kind of problem the platform answers, with its default title and status. A problem may give its own
 * title (a more precise summary) and, where a kind covers several, its own status.
 */
export const PROBLEM_KINDS = {
  // Requests the platform cannot read or will not take.
  'bad-request': { title: 'Bad Request', status: 400 },
  validation: { title: 'Invalid request', status: 400 },
  'malformed-request': { title: 'Malformed request', status: 400 },
  'malformed-multipart': { title: 'Malformed multipart body', status: 400 },
  'max-count': { title: 'Too many data elements', status: 409 },
  'payload-too-large': { title: 'Content Too Large', status: 413 },
  'unsupported-media-type': { title: 'Unsupported Media Type', status: 415 },
  unprocessable: { title: 'Unprocessable Content', status: 422 },
  'method-not-allowed': { title: 'Method Not Allowed', status: 405 },
  'not-found': { title: 'Not Found', status: 404 },
  'route-not-found': { title: 'No route', status: 404 },
  conflict: { title: 'Conflict', status: 409 },
  locked: { title: 'Locked', status: 409 },
  'lock-expired': { title: 'Lock expired', status: 422 },
  'data-element-locked': { title: 'Data element locked', status: 409 },
  'precondition-failed': { title: 'Precondition Failed', status: 412 },
  // Who is calling.
  unauthorized: { title: 'Unauthorized', status: 401 },
  unauthenticated: { title: 'Unauthenticated', status: 401 },
  forbidden: { title: 'Forbidden', status: 403 },
  'subscription-key-invalid': { title: 'Subscription key invalid', status: 401 },
  'subscription-required': { title: 'Subscription required', status: 401 },
  // Limits.
  'too-many-requests': { title: 'Too Many Requests', status: 429 },
  'rate-limited': { title: 'Rate limited', status: 429 },
  'quota-exceeded': { title: 'Quota exceeded', status: 429 },
  'concurrency-limited': { title: 'Concurrency limited', status: 429 },
  // The edge's own configuration and upstreams.
  'admin-not-configured': { title: 'Admin API not configured', status: 503 },
  'configuration-refused': { title: 'Configuration refused', status: 403 },
  'app-disabled': { title: 'App disabled', status: 503 },
  'circuit-open': { title: 'Circuit open', status: 503 },
  'limiter-unavailable': { title: 'Limiter unavailable', status: 503 },
  'upstream-timeout': { title: 'Upstream timeout', status: 504 },
  'upstream-unreachable': { title: 'Upstream unreachable', status: 502 },
  'proxy-loop': { title: 'Proxy loop', status: 508 },
  // Services not (yet) able to answer.
  'not-configured': { title: 'Not configured', status: 503 },
  'login-not-configured': { title: 'Login not configured', status: 503 },
  'not-ready': { title: 'Not ready', status: 503 },
  unavailable: { title: 'Service Unavailable', status: 503 },
  'bad-gateway': { title: 'Bad Gateway', status: 502 },
  'gateway-timeout': { title: 'Gateway Timeout', status: 504 },
  internal: { title: 'Internal Server Error', status: 500 },
  // The egress proxy's refusals (`egress-{reason}`, the body's `reason` member too).
  'egress-unauthenticated': { title: 'Egress unauthenticated', status: 401 },
  'egress-not-configured': { title: 'Egress not configured', status: 503 },
  'egress-malformed-target': { title: 'Malformed egress target', status: 400 },
  'egress-forbidden-address': { title: 'Egress denied', status: 403 },
  'egress-forbidden-name': { title: 'Egress denied', status: 403 },
  'egress-resolves-to-forbidden-address': { title: 'Egress denied', status: 403 },
  'egress-unresolvable': { title: 'Egress target unresolvable', status: 502 },
  'egress-resolver-failed': { title: 'Egress resolver failed', status: 502 },
  'egress-not-allowed': { title: 'Egress denied', status: 403 },
  'egress-redirect-denied': { title: 'Egress redirect denied', status: 403 },
  'egress-too-many-redirects': { title: 'Too many redirects', status: 502 },
  'egress-request-too-large': { title: 'Request too large', status: 413 },
  'egress-response-too-large': { title: 'Response too large', status: 502 },
  'egress-credential-unavailable': { title: 'Credential unavailable', status: 502 },
  'egress-target-timeout': { title: 'Target timeout', status: 504 },
  'egress-target-unreachable': { title: 'Target unreachable', status: 502 },
  'egress-rate-limited': { title: 'Rate limited', status: 429 },
  'egress-concurrency-limited': { title: 'Concurrency limited', status: 429 },
} as const satisfies Record<string, ProblemKindInfo>;

/** A kind of problem: the last part of the `type` URN. */
export type ProblemKind = keyof typeof PROBLEM_KINDS;

/** One invalid input field of a validation problem. */
export interface FieldError {
  /** Dotted path of the field, e.g. `party.id` or `items[0].name`; `query.x` style for non-body input. */
  field: string;
  /** What is wrong with it. */
  detail: string;
}

/** What an occurrence says beyond its kind; everything is optional but the kind. */
export interface ProblemFields {
  /** The status; the kind's default when omitted. */
  status?: number;
  /** Human summary; the kind's default title when omitted. */
  title?: string;
  /** Explanation of this occurrence, safe to show to the caller. */
  detail?: string;
  /** The request's path. */
  instance?: string;
  /** The request's correlation id. */
  requestId?: string;
  /** Invalid fields, for validation problems. */
  errors?: FieldError[];
  /** Extra members (e.g. egress's `reason`, a health check's `checks`); never override the standard ones. */
  extensions?: Record<string, unknown>;
}

/** The RFC 9457 body every component answers errors with. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Type URI of a problem kind. */
export function problemType(kind: ProblemKind): string {
  return `${PROBLEM_TYPE_PREFIX}${kind}`;
}

/** Whether `kind` is a registered problem kind. */
export function isProblemKind(kind: string): kind is ProblemKind {
  return Object.hasOwn(PROBLEM_KINDS, kind);
}

/**
 * The one way to build a problem body: `type` from the kind, `title` and `status` from the kind's defaults unless
 * given, then the occurrence's members; absent members are left out.
 */
export function problemBody(kind: ProblemKind, fields: ProblemFields = {}): ProblemBody {
  const defaults: ProblemKindInfo = PROBLEM_KINDS[kind];
  const body: ProblemBody = {
    ...fields.extensions,
    type: problemType(kind),
    title: fields.title ?? defaults.title,
    status: fields.status ?? defaults.status,
  };
  if (fields.detail !== undefined) body.detail = fields.detail;
  if (fields.instance !== undefined) body.instance = fields.instance;
  if (fields.requestId !== undefined) body.requestId = fields.requestId;
  if (fields.errors !== undefined) body.errors = fields.errors;
  return body;
}
