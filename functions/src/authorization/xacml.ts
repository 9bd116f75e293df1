import { z } from '@hono/zod-openapi';

/** Attribute ids of Altinn's decision requests. */
export const ATTRIBUTES = {
  userId: 'urn:altinn:userid',
  partyId: 'urn:altinn:partyid',
  authLevel: 'urn:altinn:authlevel',
  org: 'urn:altinn:org',
  app: 'urn:altinn:app',
  task: 'urn:altinn:task',
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
  AttributeId: string;
  Value: string;
  Category?: string;
  DataType?: string;
}

/** One result of a decision response (XACML JSON profile `Result`). */
export interface DecisionResult {
  Decision: Decision;
  Status?: { StatusCode: { Value: string }; StatusMessage?: string };
  Obligations?: { Id: string; AttributeAssignment: AttributeAssignment[] }[];
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
}

/** A request that cannot be evaluated: answered Indeterminate with this status. */
export interface UnusableRequest {
  status: string;
  message: string;
}

/** The XACML JSON request body `POST decision` accepts; attributes are checked by the PDP, not here. */
export const XacmlRequestBody = z
  .object({ Request: z.unknown().optional() })
  .passthrough()
  .openapi('XacmlJsonRequest', {
    description: 'XACML 3.0 JSON profile request: Request.AccessSubject, Action, Resource and MultiRequests',
  });

/** The XACML JSON response body of `POST decision`. */
export const XacmlResponseBody = z
  .object({
    Response: z.array(
      z.object({
        Decision: z.enum(['Permit', 'Deny', 'NotApplicable', 'Indeterminate']),
        Status: z
          .object({ StatusCode: z.object({ Value: z.string() }), StatusMessage: z.string().optional() })
          .optional(),
        Obligations: z.array(z.object({ Id: z.string(), AttributeAssignment: z.array(z.any()) })).optional(),
      }),
    ),
  })
  .openapi('XacmlJsonResponse');

type Category = { id: string | undefined; attributes: Map<string, string[]> };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON profile lets a category or a list be a single object; both become lists. */
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

function categoryOf(value: unknown): Category {
  const attributes = new Map<string, string[]>();
  const record = isObject(value) ? value : {};
  for (const attribute of listOf(record.Attribute)) {
    if (!isObject(attribute) || typeof attribute.AttributeId !== 'string') continue;
    const values = listOf(attribute.Value).flatMap((v) =>
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : [],
    );
    attributes.set(attribute.AttributeId, [...(attributes.get(attribute.AttributeId) ?? []), ...values]);
  }
  return { id: typeof record.Id === 'string' ? record.Id : undefined, attributes };
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
  isObject(value) && 'status' in value && 'message' in value;

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

/** Checks the attributes of one subject, action and resource and makes them a decision request. */
function requestOf(subject: Category, action: Category, resource: Category): DecisionRequest | UnusableRequest {
  const who = subjectOf(subject);
  if (unusable(who)) return who;
  const actionId = single(action, ATTRIBUTES.actionId, 'Action');
  if (unusable(actionId)) return actionId;
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
  return { subject: who, action: actionId, org, app, partyId, task };
}

/**
 * Reads a XACML 3.0 JSON request into individual decision requests, in the order of
 * `MultiRequests.RequestReference` (each naming one AccessSubject, Action and Resource by `Id`), or one request of
 * the first element of each category when there are no MultiRequests. Anything missing or malformed becomes an
 * UnusableRequest in its place, answered Indeterminate.
 */
export function individualRequests(body: unknown): (DecisionRequest | UnusableRequest)[] {
  const request = isObject(body) ? body.Request : undefined;
  if (!isObject(request)) return [syntax('The body has no Request object')];
  const subjects = listOf(request.AccessSubject).map(categoryOf);
  const actions = listOf(request.Action).map(categoryOf);
  const resources = listOf(request.Resource).map(categoryOf);
  const multi = isObject(request.MultiRequests) ? listOf(request.MultiRequests.RequestReference) : [];
  if (multi.length === 0) {
    const [subject, action, resource] = [subjects[0], actions[0], resources[0]];
    if (!subject) return [missing('Request has no AccessSubject')];
    if (!action) return [missing('Request has no Action')];
    if (!resource) return [missing('Request has no Resource')];
    return [requestOf(subject, action, resource)];
  }
  return multi.map((reference, index) => {
    const ids = isObject(reference) ? listOf(reference.ReferenceId).filter((id) => typeof id === 'string') : [];
    const pick = (categories: Category[], name: string): Category | UnusableRequest => {
      const found = categories.filter((category) => category.id !== undefined && ids.includes(category.id));
      if (found.length === 1) return found[0] as Category;
      return found.length === 0
        ? missing(`RequestReference[${index}] names no ${name}`)
        : syntax(`RequestReference[${index}] names ${found.length} ${name} categories; one is allowed`);
    };
    const subject = pick(subjects, 'AccessSubject');
    if (!('attributes' in subject)) return subject;
    const action = pick(actions, 'Action');
    if (!('attributes' in action)) return action;
    const resource = pick(resources, 'Resource');
    if (!('attributes' in resource)) return resource;
    return requestOf(subject, action, resource);
  });
}

/** Whether a parsed entry is evaluable or must be answered Indeterminate. */
export function isUnusable(entry: DecisionRequest | UnusableRequest): entry is UnusableRequest {
  return 'status' in entry;
}

/** The Indeterminate result for an unusable request. */
export function indeterminate(problem: UnusableRequest): DecisionResult {
  return {
    Decision: 'Indeterminate',
    Status: { StatusCode: { Value: problem.status }, StatusMessage: problem.message },
  };
}

/** The minimum authentication level obligation of a Permit, as Altinn's PDP returns it. */
export function minimumAuthenticationLevelObligation(level: number): DecisionResult['Obligations'] {
  return [
    {
      Id: 'urn:altinn:obligation:authenticationLevel1',
      AttributeAssignment: [
        {
          AttributeId: 'urn:altinn:obligation-assignment:1',
          Value: String(level),
          Category: 'urn:altinn:minimum-authenticationlevel',
          DataType: 'http://www.w3.org/2001/XMLSchema#integer',
        },
      ],
    },
  ];
}
