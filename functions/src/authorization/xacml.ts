import { z } from '@hono/zod-openapi';
import { CATEGORY_IDS, type XacmlCategory, type XacmlRequest } from './xacml-request.js';

/** Attribute ids of Altinn's decision requests. */
export const ATTRIBUTES = {
  userId: 'urn:altinn:userid',
  partyId: 'urn:altinn:partyid',
  authLevel: 'urn:altinn:authlevel',
  org: 'urn:altinn:org',
  app: 'urn:altinn:app',
  task: 'urn:altinn:task',
  instanceId: 'urn:altinn:instance-id',
  resource: 'urn:altinn:resource',
  organizationNumber: 'urn:altinn:organization:identifier-no',
  actionId: 'urn:oasis:names:tc:xacml:1.0:action:action-id',
} as const;

/** XACML status codes the PDP answers with. */
export const STATUS = {
  ok: 'urn:oasis:names:tc:xacml:1.0:status:ok',
  missingAttribute: 'urn:oasis:names:tc:xacml:1.0:status:missing-attribute',
  syntaxError: 'urn:oasis:names:tc:xacml:1.0:status:syntax-error',
  processingError: 'urn:oasis:names:tc:xacml:1.0:status:processing-error',
} as const;

/** The four XACML decisions. */
export type Decision = 'Permit' | 'Deny' | 'NotApplicable' | 'Indeterminate';

/** One `AttributeAssignment` of an obligation (XACML JSON profile). */
export interface AttributeAssignment {
  attributeId: string;
  value: string;
  category: string;
  dataType: string;
}

/** One obligation of a result. */
export interface Obligation {
  id: string;
  attributeAssignment: AttributeAssignment[];
}

/** One result of a decision response (Altinn's XacmlJsonResult), camelCase as Altinn writes it. */
export interface DecisionResult {
  decision: Decision;
  status: { statusCode: { value: string }; statusMessage?: string };
  obligations?: Obligation[];
  /** The attributes the request marked `includeInResult`, per category: how a PEP maps a result to its action. */
  category?: ResultCategory[];
}

/** Who asks: an end user (with their own party when the request says it) or an org. */
export type DecisionSubject =
  | { kind: 'user'; userId: number; ownPartyId: number | undefined }
  | { kind: 'org'; org: string };

/** One individual decision request, its attributes checked. */
export interface DecisionRequest {
  subject: DecisionSubject;
  action: string;
  org: string;
  app: string;
  /** The party the resource belongs to; required for user subjects. */
  partyId: number | undefined;
  task: string | undefined;
  /** `urn:altinn:instance-id` of the resource, `{partyId}/{instanceGuid}`, when the request names one instance. */
  instanceId?: string;
}

/**
 * One individual request about a resource of the resource registry rather than an app (`urn:altinn:resource` and no
 * `urn:altinn:org`), e.g. app-lib's key-role question: `altinn_keyrole_access` for an organisation number.
 */
export interface SystemResourceRequest {
  kind: 'system-resource';
  subject: DecisionSubject;
  action: string;
  /** The resource registry identifier, e.g. `altinn_keyrole_access`. */
  resource: string;
  /** `urn:altinn:organization:identifier-no` of the resource, when given. */
  organizationNumber: string | undefined;
}

/** Whether an individual request is about a resource registry resource (not an app). */
export function isSystemResourceRequest(
  entry: DecisionRequest | SystemResourceRequest | UnusableRequest,
): entry is SystemResourceRequest {
  return 'kind' in entry && entry.kind === 'system-resource';
}

/** A request that cannot be evaluated: answered Indeterminate with this status. */
export interface UnusableRequest {
  status: string;
  message: string;
}

/** The XACML JSON request body `POST decision` accepts (documentation; the body is bound by xacml-request.ts). */
export const XacmlRequestBody = z
  .object({ request: z.unknown().optional() })
  .passthrough()
  .openapi('XacmlJsonRequestRoot', {
    description:
      "Altinn's XacmlJsonRequestRoot: `request` with `accessSubject`, `action`, `resource` (arrays of categories " +
      'with `id` and `attribute` [{ attributeId, value, dataType, issuer, includeInResult }]) and ' +
      '`multiRequests.requestReference` [{ referenceId }]. Member names in any casing (as ASP.NET binds them); ' +
      'a member given twice in different casings, a single object where a list belongs, or a non-string value is a 400.',
  });

const ResultAttribute = z.object({ attributeId: z.string(), value: z.string(), dataType: z.string().optional() });

/** The XACML JSON response body of `POST decision` (camelCase, as Altinn answers; PascalCase for a `Request` body). */
export const XacmlResponseBody = z
  .object({
    response: z.array(
      z.object({
        decision: z.enum(['Permit', 'Deny', 'NotApplicable', 'Indeterminate']),
        status: z.object({ statusCode: z.object({ value: z.string() }), statusMessage: z.string().optional() }),
        obligations: z
          .array(
            z.object({
              id: z.string(),
              attributeAssignment: z.array(ResultAttribute.extend({ category: z.string() })),
            }),
          )
          .optional(),
        category: z
          .array(z.object({ categoryId: z.string(), id: z.string().optional(), attribute: z.array(ResultAttribute) }))
          .optional(),
      }),
    ),
  })
  .openapi('XacmlJsonResponse');

/** One category of a result: the request's attributes marked `includeInResult` (how PEPs map results back). */
export interface ResultCategory {
  categoryId: string;
  id?: string;
  attribute: { attributeId: string; value: string; dataType: string }[];
}

/** One individual request of a decision request, and what its result echoes back. */
export interface IndividualRequest {
  request: DecisionRequest | SystemResourceRequest | UnusableRequest;
  echo: ResultCategory[];
}

type Category = { id: string | undefined; attributes: Map<string, string[]>; source: XacmlCategory };

const XML_STRING = 'http://www.w3.org/2001/XMLSchema#string';

function categoryOf(source: XacmlCategory): Category {
  const attributes = new Map<string, string[]>();
  for (const { attributeId, value } of source.attributes) {
    attributes.set(attributeId, [...(attributes.get(attributeId) ?? []), value]);
  }
  return { id: source.id, attributes, source };
}

/** The attributes of `category` marked `includeInResult`, as Altinn's PDP echoes them; undefined when none is. */
function echoOf(category: Category, categoryId: string): ResultCategory | undefined {
  const attribute = category.source.attributes
    .filter((a) => a.includeInResult)
    .map((a) => ({
      attributeId: a.attributeId,
      value: a.value,
      dataType: a.dataType === undefined || a.dataType === 'string' ? XML_STRING : a.dataType,
    }));
  return attribute.length === 0 ? undefined : { categoryId, attribute };
}

const missing = (message: string): UnusableRequest => ({ status: STATUS.missingAttribute, message });
const syntax = (message: string): UnusableRequest => ({ status: STATUS.syntaxError, message });

function single(category: Category, id: string, where: string): string | UnusableRequest {
  const values = category.attributes.get(id) ?? [];
  if (values.length === 0) return missing(`${where} has no ${id}`);
  if (values.length > 1) return syntax(`${where} has ${values.length} values of ${id}; one is allowed`);
  return values[0] as string;
}

function optional(category: Category, id: string, where: string): string | undefined | UnusableRequest {
  return category.attributes.has(id) ? single(category, id, where) : undefined;
}

function integer(value: string, id: string): number | UnusableRequest {
  return /^[0-9]{1,15}$/.test(value) ? Number(value) : syntax(`${id} must be a non-negative integer, got '${value}'`);
}

const unusable = (value: unknown): value is UnusableRequest =>
  typeof value === 'object' && value !== null && 'status' in value && 'message' in value;

function subjectOf(category: Category): DecisionSubject | UnusableRequest {
  const userId = optional(category, ATTRIBUTES.userId, 'AccessSubject');
  if (unusable(userId)) return userId;
  if (userId !== undefined) {
    const id = integer(userId, ATTRIBUTES.userId);
    if (unusable(id)) return id;
    const party = optional(category, ATTRIBUTES.partyId, 'AccessSubject');
    if (unusable(party)) return party;
    const ownPartyId = party === undefined ? undefined : integer(party, ATTRIBUTES.partyId);
    if (unusable(ownPartyId)) return ownPartyId;
    return { kind: 'user', userId: id, ownPartyId };
  }
  const org = optional(category, ATTRIBUTES.org, 'AccessSubject');
  if (unusable(org)) return org;
  if (org !== undefined) return { kind: 'org', org };
  return missing(`AccessSubject has neither ${ATTRIBUTES.userId} nor ${ATTRIBUTES.org}`);
}

/** A request about a resource registry resource: its identifier and the organisation number it names, if any. */
function systemResourceRequestOf(
  who: DecisionSubject,
  actionId: string,
  resource: Category,
): SystemResourceRequest | UnusableRequest {
  const id = single(resource, ATTRIBUTES.resource, 'Resource');
  if (unusable(id)) return id;
  const organizationNumber = optional(resource, ATTRIBUTES.organizationNumber, 'Resource');
  if (unusable(organizationNumber)) return organizationNumber;
  return { kind: 'system-resource', subject: who, action: actionId, resource: id, organizationNumber };
}

/** Checks the attributes of one subject, action and resource and makes them a decision request. */
function requestOf(
  subject: Category,
  action: Category,
  resource: Category,
): DecisionRequest | SystemResourceRequest | UnusableRequest {
  const who = subjectOf(subject);
  if (unusable(who)) return who;
  const actionId = single(action, ATTRIBUTES.actionId, 'Action');
  if (unusable(actionId)) return actionId;
  if (resource.attributes.has(ATTRIBUTES.resource) && !resource.attributes.has(ATTRIBUTES.org)) {
    return systemResourceRequestOf(who, actionId, resource);
  }
  const org = single(resource, ATTRIBUTES.org, 'Resource');
  if (unusable(org)) return org;
  const app = single(resource, ATTRIBUTES.app, 'Resource');
  if (unusable(app)) return app;
  const task = optional(resource, ATTRIBUTES.task, 'Resource');
  if (unusable(task)) return task;
  const party = optional(resource, ATTRIBUTES.partyId, 'Resource');
  if (unusable(party)) return party;
  if (party === undefined && who.kind === 'user') {
    return missing(`Resource has no ${ATTRIBUTES.partyId}, which a user subject needs`);
  }
  const partyId = party === undefined ? undefined : integer(party, ATTRIBUTES.partyId);
  if (unusable(partyId)) return partyId;
  const instanceId = optional(resource, ATTRIBUTES.instanceId, 'Resource');
  if (unusable(instanceId)) return instanceId;
  return {
    subject: who,
    action: actionId,
    org,
    app,
    partyId,
    task,
    ...(instanceId === undefined ? {} : { instanceId }),
  };
}

function individual(subject: Category, action: Category, resource: Category): IndividualRequest {
  const echo = [
    echoOf(subject, CATEGORY_IDS.accessSubject),
    echoOf(action, CATEGORY_IDS.action),
    echoOf(resource, CATEGORY_IDS.resource),
  ].filter((category) => category !== undefined);
  return { request: requestOf(subject, action, resource), echo };
}

/**
 * The individual decision requests of a bound request, in the order of `MultiRequests.RequestReference` (each naming
 * one AccessSubject, Action and Resource by `Id`), or one request of the first element of each category when there
 * are no MultiRequests. Anything missing or malformed becomes an UnusableRequest in its place, answered Indeterminate.
 */
export function individualRequests(request: XacmlRequest): IndividualRequest[] {
  const subjects = request.accessSubject.map(categoryOf);
  const actions = request.action.map(categoryOf);
  const resources = request.resource.map(categoryOf);
  const none = (problem: UnusableRequest): IndividualRequest => ({ request: problem, echo: [] });
  if (request.multiRequests.length === 0) {
    const [subject, action, resource] = [subjects[0], actions[0], resources[0]];
    if (!subject) return [none(missing('Request has no AccessSubject'))];
    if (!action) return [none(missing('Request has no Action'))];
    if (!resource) return [none(missing('Request has no Resource'))];
    return [individual(subject, action, resource)];
  }
  return request.multiRequests.map((ids, index) => {
    const pick = (categories: Category[], name: string): Category | UnusableRequest => {
      const found = categories.filter((category) => category.id !== undefined && ids.includes(category.id));
      if (found.length === 1) return found[0] as Category;
      return found.length === 0
        ? missing(`RequestReference[${index}] names no ${name}`)
        : syntax(`RequestReference[${index}] names ${found.length} ${name} categories; one is allowed`);
    };
    const subject = pick(subjects, 'AccessSubject');
    if (unusable(subject)) return none(subject);
    const action = pick(actions, 'Action');
    if (unusable(action)) return none(action);
    const resource = pick(resources, 'Resource');
    if (unusable(resource)) return none(resource);
    return individual(subject, action, resource);
  });
}

/** Whether a parsed entry is evaluable or must be answered Indeterminate. */
export function isUnusable(entry: DecisionRequest | SystemResourceRequest | UnusableRequest): entry is UnusableRequest {
  return 'status' in entry;
}

/** The Indeterminate result for an unusable request. */
export function indeterminate(problem: UnusableRequest): DecisionResult {
  return {
    decision: 'Indeterminate',
    status: { statusCode: { value: problem.status }, statusMessage: problem.message },
  };
}

/** A result with the ok status. */
export function decided(decision: Exclude<Decision, 'Indeterminate'>, obligations?: Obligation[]): DecisionResult {
  return { decision, status: { statusCode: { value: STATUS.ok } }, ...(obligations ? { obligations } : {}) };
}

/** The minimum authentication level obligation of a Permit, as Altinn's PDP returns it. */
export function minimumAuthenticationLevelObligation(level: number): Obligation[] {
  return [
    {
      id: 'urn:altinn:obligation:authenticationLevel1',
      attributeAssignment: [
        {
          attributeId: 'urn:altinn:obligation-assignment:1',
          value: String(level),
          category: 'urn:altinn:minimum-authenticationlevel',
          dataType: 'http://www.w3.org/2001/XMLSchema#integer',
        },
      ],
    },
  ];
}

const pascal = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(pascal);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, entry]) => [key.charAt(0).toUpperCase() + key.slice(1), pascal(entry)]),
  );
};

/**
 * The response body of `results`: camelCase as Altinn's Authorization writes it (ASP.NET's web defaults), or
 * PascalCase (`Response`, `Decision` ...) for a caller that spelled its request so.
 */
export function responseBody(results: DecisionResult[], style: XacmlRequest['style']): Record<string, unknown> {
  const body = { response: results };
  return style === 'camel' ? body : (pascal(body) as Record<string, unknown>);
}
