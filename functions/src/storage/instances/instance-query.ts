import { createRoute, z } from '@hono/zod-openapi';
import { parseAspNetBoolean, queryValuesIgnoringCase } from '../../../../platform/src/api/aspnet.js';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { principalOf } from '../../../../platform/src/auth/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import { Problem } from '../../../../platform/src/errors/index.js';
import { parseDotNetDateTime } from '../models/instance-event-schemas.js';
import { InstanceQueryResponse } from '../models/instance-schemas.js';
import { type InstanceQuery, type QueryDateField, queryInstances } from '../repositories/instance-query-repository.js';
import { type DateCondition, type InstanceCursor, instanceGuidOf } from '../repositories/instance-repository.js';
import type { StorageAccess } from '../shared/access.js';
import { problemContent } from '../shared/problems.js';
import type { InstanceLinks } from './instance-links.js';
import { parseInstanceOwnerIdentifier } from './instance-owner.js';

/** What the instance query route needs. */
export interface InstanceQueryRoutesOptions {
  db: Database;
  /** Who may query what. */
  access: StorageAccess;
  /** Absolute links from the configured public URL, never from the request's Host. */
  links: InstanceLinks;
}

/**
 * Parses `gt:2024-01-01T00:00:00Z` (no prefix means `eq:`): the operator, then a date or date-time as .NET's
 * `DateTime.Parse` reads it (without a zone it is UTC). Undefined when it is not such an expression.
 */
export function parseDateExpression(expression: string): DateCondition | undefined {
  const match = /^(?:(gt|gte|lt|lte|eq):)?(.+)$/i.exec(expression.trim());
  const at = match?.[2] === undefined ? undefined : parseDotNetDateTime(match[2]);
  if (!match || at === undefined) return undefined;
  return { op: (match[1]?.toLowerCase() ?? 'eq') as DateCondition['op'], at };
}

/** A query value as Hono hands it over: one string, or several for a repeated parameter. */
const QueryValue = z.union([z.string(), z.array(z.string())]).optional();

/**
 * The query parameters Altinn Storage binds (InstanceQueryParameters), for the OpenAPI description. They are read
 * as ASP.NET reads them (see readInstanceQuery): names in any casing, `True`/`False`, unknown parameters ignored.
 */
const QUERY_PARAMETERS = [
  'org',
  'appId',
  'instanceOwner.partyId',
  'process.currentTask',
  'process.isComplete',
  'process.endEvent',
  'process.ended',
  'lastChanged',
  'created',
  'visibleAfter',
  'dueBefore',
  'excludeConfirmedBy',
  'confirmed',
  'status.isArchived',
  'status.isSoftDeleted',
  'status.isHardDeleted',
  'mainVersionInclude',
  'mainVersionExclude',
  'searchString',
  'A3Ref',
  'dataValues.A2ArchRef',
  'includeDataElements',
  'order',
  'size',
  'continuationToken',
] as const;

const QueryParams = z.looseObject(Object.fromEntries(QUERY_PARAMETERS.map((name) => [name, QueryValue]))).openapi({
  description:
    'Date parameters take gt:, gte:, lt:, lte: or eq: and an ISO 8601 date or date-time (repeat to combine); booleans True/False',
});

const OWNER_HEADER = 'x-ai-instanceowneridentifier';

/** The `X-Ai-InstanceOwnerIdentifier` header naming the instance owner by national identity number. */
const QueryHeaders = z.object({
  [OWNER_HEADER]: z.string().optional().openapi({
    description: 'Person:<fødselsnummer> or Organisation:<organisasjonsnummer>; not with instanceOwner.partyId',
  }),
});

const query = createRoute({
  method: 'get',
  path: '/instances',
  summary: 'Query instances of an org or app, or of one owner, newest lastChanged first, one keyset page at a time',
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

/** Pages larger than this are cut to it (Altinn sets no limit); `next` then leads on. */
export const MAX_PAGE_SIZE = 1000;

const DATE_PARAMETERS: [string, QueryDateField][] = [
  ['lastChanged', 'lastChanged'],
  ['created', 'created'],
  ['dueBefore', 'dueBefore'],
  ['visibleAfter', 'visibleAfter'],
  ['process.ended', 'processEnded'],
];

/** What a query asks for, read from the URL; `errors` names each parameter ASP.NET would not bind. */
interface ReadQuery {
  query: Omit<InstanceQuery, 'limit' | 'after' | 'isHardDeleted'>;
  org: string | undefined;
  app: string | undefined;
  partyId: string | undefined;
  isHardDeleted: boolean | undefined;
  /** Nothing can match (e.g. migrated Altinn 2 instances asked for): answer an empty page. */
  none: boolean;
  includeDataElements: boolean;
  size: number;
  continuationToken: string | undefined;
  errors: { field: string; detail: string }[];
}

/**
 * Reads the query as ASP.NET binds Altinn's InstanceQueryParameters: names in any casing, the first value of a
 * single-valued parameter, `True`/`False` booleans, integers; unknown parameters are ignored.
 */
export function readInstanceQuery(url: URL): ReadQuery {
  const errors: { field: string; detail: string }[] = [];
  const all = (name: string) => queryValuesIgnoringCase(url, name);
  const first = (name: string) => {
    const value = all(name)[0];
    return value === undefined || value === '' ? undefined : value;
  };
  const bool = (name: string) => {
    const value = first(name);
    if (value === undefined) return undefined;
    const parsed = parseAspNetBoolean(value);
    if (parsed === undefined) errors.push({ field: `query.${name}`, detail: `'${value}' is not true or false` });
    return parsed;
  };
  const int = (name: string) => {
    const value = first(name);
    if (value === undefined) return undefined;
    if (!/^\s*[+-]?\d{1,9}\s*$/.test(value)) {
      errors.push({ field: `query.${name}`, detail: `'${value}' is not a whole number` });
      return undefined;
    }
    return Number(value);
  };
  const dates: InstanceQuery['dates'] = {};
  for (const [name, field] of DATE_PARAMETERS) {
    for (const expression of all(name).filter((value) => value !== '')) {
      const condition = parseDateExpression(expression);
      if (condition) dates[field] = [...(dates[field] ?? []), condition];
      else {
        errors.push({
          field: `query.${name}`,
          detail: `'${expression}' must be gt:, gte:, lt:, lte: or eq: followed by an ISO 8601 date or date-time`,
        });
      }
    }
  }
  const appId = first('appId');
  const [appOrg, app, extra] = appId?.split('/') ?? [];
  const org = first('org') ?? appOrg;
  const partyId = int('instanceOwner.partyId');
  const a3Ref = first('A3Ref');
  if (a3Ref !== undefined && a3Ref.length !== 12) {
    errors.push({ field: 'query.A3Ref', detail: 'The A3 reference needs to be exactly 12 characters long.' });
  }
  // Every instance here is an Altinn 3 one (main version 3): Altinn's default includes only those.
  const include = a3Ref !== undefined ? 3 : first('dataValues.A2ArchRef') !== undefined ? 2 : int('mainVersionInclude');
  const exclude = int('mainVersionExclude');
  const size = int('size') ?? 100;
  if (size < 1) errors.push({ field: 'query.size', detail: 'must be 1 or more' });
  const excludeConfirmedBy = all('excludeConfirmedBy').filter((value) => value !== '');
  return {
    query: {
      org: first('org'),
      appOrg: appId === undefined ? undefined : (appOrg ?? ''),
      app: appId === undefined ? undefined : extra === undefined ? (app ?? '') : `${app}/${extra}`,
      partyId: partyId === undefined ? undefined : String(partyId),
      excludeConfirmedBy: excludeConfirmedBy.length > 0 ? excludeConfirmedBy : undefined,
      confirmed: bool('confirmed'),
      dates,
      currentTask: first('process.currentTask'),
      endEvent: first('process.endEvent'),
      isComplete: bool('process.isComplete'),
      isArchived: bool('status.isArchived'),
      isSoftDeleted: bool('status.isSoftDeleted'),
      a3Ref,
      searchString: first('searchString'),
      order: first('order')?.toLowerCase().startsWith('desc:') === false ? 'asc' : 'desc',
    },
    org,
    app: appId === undefined ? undefined : app,
    partyId: partyId === undefined ? undefined : String(partyId),
    isHardDeleted: bool('status.isHardDeleted'),
    none: (include !== undefined && include !== 3) || exclude === 3,
    includeDataElements: bool('includeDataElements') ?? true,
    size: Math.min(size, MAX_PAGE_SIZE),
    continuationToken: first('continuationToken'),
    errors,
  };
}

/** Adds `GET instances` (the filtered, keyset-paged instance query) to the Storage app. */
export function addInstanceQueryRoutes(api: PlatformApp, options: InstanceQueryRoutesOptions): void {
  const { db } = options;

  api.openapi(query, async (c) => {
    const url = new URL(c.req.url);
    const read = readInstanceQuery(url);
    const ownerHeader = c.req.valid('header')[OWNER_HEADER];
    const owner = ownerHeader === undefined ? undefined : parseInstanceOwnerIdentifier(ownerHeader);
    if (read.errors.length > 0) {
      const fields = read.errors.map((error) => `${error.field} (${error.detail})`).join('; ');
      throw new Problem(400, {
        kind: 'validation',
        title: 'Invalid request',
        detail: `Invalid query: ${fields}.`,
        errors: read.errors,
      });
    }
    if (owner && 'error' in owner) throw ownerProblem(owner.error);
    if (owner && read.partyId !== undefined) {
      throw ownerProblem('cannot be combined with the query parameter instanceOwner.partyId; give one of them');
    }
    const visible = await options.access.checkQuery(c, {
      ...(read.org ? { org: read.org } : {}),
      ...(read.app ? { app: read.app } : {}),
      ...(read.partyId ? { partyId: Number(read.partyId) } : {}),
      ownerByHeader: owner !== undefined,
    });
    // Only the app's owner sees hard-deleted instances, as Altinn's.
    const owned = principalOf(c).kind === 'org';
    const after = read.continuationToken === undefined ? undefined : decodeContinuationToken(read.continuationToken);
    const self = options.links.queryUrl(url.search);
    const empty = { count: 0, self, instances: [] };
    if (read.none || (!owned && read.isHardDeleted === true)) return c.json(empty, 200);
    const rows = await queryInstances(db, {
      ...read.query,
      personNumber: owner && 'personNumber' in owner ? owner.personNumber : undefined,
      organisationNumber: owner && 'organisationNumber' in owner ? owner.organisationNumber : undefined,
      isHardDeleted: owned ? read.isHardDeleted : false,
      after,
      limit: read.size + 1,
    });
    const page = rows.slice(0, read.size);
    const last = page.at(-1);
    let next: string | undefined;
    if (rows.length > read.size && last) {
      const nextUrl = new URL(url);
      for (const key of [...nextUrl.searchParams.keys()]) {
        if (key.toLowerCase() === 'continuationtoken') nextUrl.searchParams.delete(key);
      }
      nextUrl.searchParams.set(
        'continuationToken',
        encodeContinuationToken({ lastChanged: last.lastChanged, instanceGuid: instanceGuidOf(last) }),
      );
      next = options.links.queryUrl(nextUrl.search);
    }
    // As Altinn's: an end user's page leaves out what they may not read (so it may hold fewer than `size`).
    const instances = (await visible(page)).map((instance) =>
      options.links.instance(read.includeDataElements ? instance : { ...instance, data: [] }),
    );
    return c.json({ count: instances.length, self, ...(next ? { next } : {}), instances }, 200);
  });
}
