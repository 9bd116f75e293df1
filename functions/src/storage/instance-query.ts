import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../platform/api/index.js';
import type { Database } from '../platform/db/index.js';
import { Problem } from '../platform/errors/index.js';
import type { StorageAccess } from './access.js';
import { parseInstanceOwnerIdentifier } from './instance-owner.js';
import {
  type DateCondition,
  type DateField,
  type InstanceCursor,
  instanceGuidOf,
  instanceRepository,
} from './instance-repository.js';
import { InstanceQueryResponse, PartyId } from './instance-schemas.js';
import { problemContent } from './problems.js';
import { AppId, Name } from './schemas.js';

/** What the instance query route needs. */
export interface InstanceQueryRoutesOptions {
  db: Database;
  /** Who may query what. */
  access: StorageAccess;
}

const DATE_EXPRESSION =
  /^(?:(gt|gte|lt|lte|eq):)?(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))?)$/;

/** Parses `gt:2024-01-01T00:00:00Z` (no prefix means `eq:`); undefined when it is not such an expression. */
export function parseDateExpression(expression: string): DateCondition | undefined {
  const match = DATE_EXPRESSION.exec(expression);
  if (!match) return undefined;
  const at = Date.parse(match[2]!.length === 10 ? `${match[2]}T00:00:00Z` : match[2]!);
  if (Number.isNaN(at)) return undefined;
  return { op: (match[1] ?? 'eq') as DateCondition['op'], at: new Date(at).toISOString() };
}

/** One or several (repeated) date expressions; several combine with AND. */
const DateFilter = z
  .union([z.string(), z.array(z.string())])
  .superRefine((value, ctx) => {
    for (const expression of typeof value === 'string' ? [value] : value) {
      if (!parseDateExpression(expression)) {
        ctx.addIssue({
          code: 'custom',
          message: `'${expression}' must be gt:, gte:, lt:, lte: or eq: followed by an ISO 8601 date or date-time with Z or an offset`,
        });
      }
    }
  })
  .openapi({ description: 'e.g. gt:2024-01-01T00:00:00Z; repeat the parameter to combine conditions' });

const Bool = z.enum(['true', 'false']);

/** A stakeholder (an org, or a party id) whose completed instances to leave out; repeat for several. */
const Stakeholders = z
  .union([z.string().min(1).max(255), z.array(z.string().min(1).max(255))])
  .openapi({ description: 'Leave out instances this stakeholder has confirmed complete; repeat for several' });

const OWNER_HEADER = 'x-ai-instanceowneridentifier';

/** The `X-Ai-InstanceOwnerIdentifier` header naming the instance owner by national identity number. */
const QueryHeaders = z.object({
  [OWNER_HEADER]: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      const parsed = parseInstanceOwnerIdentifier(value);
      if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
    })
    .openapi({
      description: 'Person:<fødselsnummer> or Organisation:<organisasjonsnummer>; not with instanceOwner.partyId',
    }),
});

const QueryParams = z
  .strictObject({
    org: Name.optional(),
    appId: AppId.optional(),
    'instanceOwner.partyId': PartyId.optional(),
    excludeConfirmedBy: Stakeholders.optional(),
    lastChanged: DateFilter.optional(),
    created: DateFilter.optional(),
    dueBefore: DateFilter.optional(),
    visibleAfter: DateFilter.optional(),
    'process.currentTask': z.string().min(1).optional(),
    'process.isComplete': Bool.optional(),
    'status.isArchived': Bool.optional(),
    'status.isSoftDeleted': Bool.optional(),
    order: z.enum(['desc:lastChanged', 'asc:lastChanged']).optional(),
    size: z.coerce.number().int().min(1).max(1000).optional(),
    continuationToken: z.string().optional(),
  })
  .superRefine((query, ctx) => {
    // Whether org or appId is required depends on the caller (an org must give one): see access.ts.
    if (query.org !== undefined && query.appId !== undefined && !query.appId.startsWith(`${query.org}/`)) {
      ctx.addIssue({ code: 'custom', path: ['appId'], message: `must be an app of org ${query.org}` });
    }
  });

const query = createRoute({
  method: 'get',
  path: '/instances',
  summary: 'Query instances of an org or app, newest lastChanged first, one keyset page at a time',
  request: { query: QueryParams, headers: QueryHeaders },
  responses: {
    200: { description: 'One page; `next` is present only when more instances follow', content: json() },
    400: { description: 'Invalid query; `errors` names each parameter', content: problemContent },
  },
});

function json() {
  return { 'application/json': { schema: InstanceQueryResponse } };
}

/** The opaque continuation token of a page that ends at `cursor`. */
export function encodeContinuationToken(cursor: InstanceCursor): string {
  return Buffer.from(JSON.stringify([cursor.lastChanged, cursor.instanceGuid])).toString('base64url');
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Reads a continuation token; a 400 problem naming `query.continuationToken` when it was not one of ours. */
export function decodeContinuationToken(token: string): InstanceCursor {
  let decoded: unknown;
  try {
    decoded = /^[A-Za-z0-9_-]+$/.test(token) ? JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) : null;
  } catch {
    decoded = null;
  }
  if (Array.isArray(decoded) && decoded.length === 2) {
    const [lastChanged, instanceGuid] = decoded as unknown[];
    if (
      typeof lastChanged === 'string' &&
      typeof instanceGuid === 'string' &&
      GUID.test(instanceGuid) &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(lastChanged) &&
      !Number.isNaN(Date.parse(lastChanged))
    ) {
      return { lastChanged, instanceGuid };
    }
  }
  const detail = 'not a continuation token from a previous page; start again without it';
  throw new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: `Invalid query: query.continuationToken (${detail}).`,
    errors: [{ field: 'query.continuationToken', detail }],
  });
}

/** 400 naming the `X-Ai-InstanceOwnerIdentifier` header. */
function ownerProblem(detail: string): Problem {
  const field = `header.${OWNER_HEADER}`;
  return new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: `Invalid header: ${field} (${detail}).`,
    errors: [{ field, detail }],
  });
}

const DATE_FIELDS: readonly DateField[] = ['lastChanged', 'created', 'dueBefore', 'visibleAfter'];
const bool = (value: 'true' | 'false' | undefined) => (value === undefined ? undefined : value === 'true');

/** Adds `GET instances` (the filtered, keyset-paged instance query) to the Storage app. */
export function addInstanceQueryRoutes(api: PlatformApp, options: InstanceQueryRoutesOptions): void {
  const { db } = options;

  api.openapi(query, async (c) => {
    const params = c.req.valid('query');
    const ownerHeader = c.req.valid('header')[OWNER_HEADER];
    const owner = ownerHeader === undefined ? undefined : parseInstanceOwnerIdentifier(ownerHeader);
    if (owner && 'error' in owner) throw ownerProblem(owner.error);
    if (owner && params['instanceOwner.partyId'] !== undefined) {
      throw ownerProblem('cannot be combined with the query parameter instanceOwner.partyId; give one of them');
    }
    const [org = params.org ?? '', app] = params.appId ? params.appId.split('/') : [params.org];
    const dates: Partial<Record<DateField, DateCondition[]>> = {};
    for (const field of DATE_FIELDS) {
      const value = params[field];
      if (value === undefined) continue;
      dates[field] = (typeof value === 'string' ? [value] : value).map(
        (expression) => parseDateExpression(expression)!,
      );
    }
    const partyId = params['instanceOwner.partyId'];
    await options.access.checkQuery(c, {
      ...(org ? { org } : {}),
      ...(app ? { app } : {}),
      ...(partyId ? { partyId: Number(partyId) } : {}),
    });
    const size = params.size ?? 100;
    const rows = await instanceRepository(db).queryInstances({
      org: org || undefined,
      app,
      partyId: params['instanceOwner.partyId'],
      personNumber: owner && 'personNumber' in owner ? owner.personNumber : undefined,
      organisationNumber: owner && 'organisationNumber' in owner ? owner.organisationNumber : undefined,
      excludeConfirmedBy: params.excludeConfirmedBy === undefined ? undefined : [params.excludeConfirmedBy].flat(),
      dates,
      currentTask: params['process.currentTask'],
      isComplete: bool(params['process.isComplete']),
      isArchived: bool(params['status.isArchived']),
      isSoftDeleted: bool(params['status.isSoftDeleted']) ?? false,
      order: params.order === 'asc:lastChanged' ? 'asc' : 'desc',
      after: params.continuationToken === undefined ? undefined : decodeContinuationToken(params.continuationToken),
      limit: size + 1,
    });
    const instances = rows.slice(0, size);
    const url = new URL(c.req.url);
    const self = `${url.pathname}${url.search}`;
    const last = instances.at(-1);
    let next: string | undefined;
    if (rows.length > size && last) {
      url.searchParams.set(
        'continuationToken',
        encodeContinuationToken({ lastChanged: last.lastChanged, instanceGuid: instanceGuidOf(last) }),
      );
      next = `${url.pathname}${url.search}`;
    }
    return c.json({ count: instances.length, self, ...(next ? { next } : {}), instances }, 200);
  });
}
