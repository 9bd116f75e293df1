import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { principalOf, unauthorized } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import { type AppEventQuery, eventsRepository } from './repository.js';
import { AppCloudEventRequest, CloudEvent } from './schemas.js';

/** Most events one query answers, whatever `size` asks. */
export const MAX_PAGE_SIZE = 1000;

const problem = (description: string) => ({ description, content: problemContent });

const publish = createRoute({
  method: 'post',
  path: '/app',
  summary: "Record an app's cloud event (the app's PlatformAccessToken and a platform token)",
  description:
    'As Altinn Events: the platform assigns the id and time; the source must be an instance URL of the calling ' +
    'app (`https://.../{org}/{app}/instances/...`). Answers 201 with the id as a JSON string. Events are recorded ' +
    'and queryable here; nothing is pushed to subscribers.',
  request: { body: { required: true, content: jsonContent(AppCloudEventRequest) } },
  responses: {
    201: { description: 'The new event id, a JSON string; Location is the subject', content: jsonContent(z.string()) },
    400: problem('Missing or invalid fields'),
    401: problem('No valid platform token, or the source is not an app of the PlatformAccessToken'),
    403: problem('No PlatformAccessToken'),
    413: problem('Body too large'),
  },
});

const AppParams = z.object({
  org: z.string().regex(/^[a-z0-9-]{2,}$/, 'must be an org code'),
  app: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be an app name'),
});

const list = createRoute({
  method: 'get',
  path: '/app/{org}/{app}',
  summary: "An app's recorded events, oldest first (the app's org token)",
  description:
    'Query as Altinn Events: `after` (an event id) or `from` (with a time zone) is required; `to`, `party`, ' +
    '`unit`, header `person`, `type` (repeatable) and `size` (default 50) narrow it. A `next` header links the ' +
    'page after.',
  request: {
    params: AppParams,
    query: z.object({
      after: z.string().optional(),
      from: z.string().optional(),
      to: z.string().optional(),
      party: z.string().optional(),
      unit: z.string().optional(),
      type: z.union([z.string(), z.array(z.string())]).optional(),
      size: z.string().optional(),
    }),
  },
  responses: {
    200: { description: 'The events', content: jsonContent(z.array(CloudEvent)) },
    400: problem('Invalid query'),
    401: problem('No valid platform token, or not an org token'),
    403: problem('An org asking for another org’s app'),
  },
});

const badQuery = (detail: string) => new Problem(400, { kind: 'bad-request', detail });

/** The `{org}/{app}/instances/{partyId}/{guid}` an app event's source names, as Altinn Events reads it. */
function sourceParts(source: URL): { org: string; app: string; instance: string | null } | undefined {
  const [, org, app, , partyId, guid] = source.pathname.split('/');
  if (!org || !app) return undefined;
  return { org, app, instance: partyId && guid ? `${partyId}/${guid}` : null };
}

/** Parses a .NET-bound `DateTime?` query value that must carry a time zone; 400 otherwise. */
function zonedDate(name: string, value: string | undefined): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const time = Date.parse(value.replace(' ', 'T'));
  if (Number.isNaN(time)) throw badQuery(`The '${name}' parameter is not a date-time.`);
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(value.trim())) {
    throw badQuery(`The '${name}' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC`);
  }
  return new Date(time);
}

/** Parses a .NET-bound `int` query value; 400 when it is not one. */
function intParam(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^[+-]?\d{1,10}$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw badQuery(`The '${name}' parameter must be a whole number.`);
  }
  return Number(value);
}

/** Adds `POST app` (apps publishing) and `GET app/{org}/{app}` (orgs reading) to the Events API. */
export function addAppEventRoutes(api: PlatformApp, options: { db: Database; now: () => Date }): void {
  const events = eventsRepository(options.db);

  // The PlatformAccessToken is checked before the body, so a caller without one learns that first (403).
  api.use('/app', async (c, next) => {
    if (c.req.method === 'POST' && !c.get('appIdentity')) {
      throw new Problem(403, {
        kind: 'forbidden',
        detail: "Publishing app events needs the app's PlatformAccessToken header.",
      });
    }
    await next();
  });

  api.openapi(publish, async (c) => {
    principalOf(c);
    const app = c.get('appIdentity');
    if (!app) throw new Problem(403, { kind: 'forbidden', detail: 'No PlatformAccessToken.' });
    const event = c.req.valid('json');
    const source = new URL(event.source);
    const parts = sourceParts(source);
    if (!parts || parts.org !== app.org || parts.app !== app.app) {
      throw unauthorized(
        `${app.org}/${app.app} is not authorized to create events for ${event.source}`,
        'Bearer realm="platform", error="insufficient_scope"',
      );
    }
    const recorded = await events.insertEvent({
      id: randomUUID(),
      org: app.org,
      app: app.app,
      source: event.source,
      subject: event.subject,
      alternativeSubject: event.alternativesubject || null,
      type: event.type,
      time: options.now(),
      resourceInstance: parts.instance,
      data: event.data,
      dataschema: event.dataschema ?? null,
    });
    c.get('logger')?.info('app event recorded', { org: app.org, app: app.app, type: recorded.type });
    return c.json(recorded.id, 201, { Location: recorded.subject });
  });

  api.openapi(list, async (c) => {
    const principal = principalOf(c);
    if (principal.kind !== 'org') {
      throw unauthorized('Only orgs can call this api', 'Bearer realm="platform", error="insufficient_scope"');
    }
    const { org, app } = c.req.valid('param');
    if (principal.org !== org)
      throw new Problem(403, {
        kind: 'forbidden',
        detail: `Org ${principal.org} may not read events of ${org}/${app}.`,
      });
    const query = c.req.valid('query');
    const from = zonedDate('From', query.from);
    const to = zonedDate('To', query.to);
    if (!query.after && !from) throw badQuery("The 'From' or 'After' parameter must be defined.");
    const size = intParam('Size', query.size, 50);
    if (size < 1) throw badQuery("The 'Size' parameter must be a number larger that 0.");
    const party = intParam('Party', query.party, 0);
    const person = c.req.header('person');
    if (person && party > 0) throw badQuery("Only one of 'Party' or 'Person' can be defined.");
    if (query.unit && party > 0) throw badQuery("Only one of 'Party' or 'Unit' can be defined.");
    if (query.unit && !/^\d{9}$/.test(query.unit)) throw badQuery("Value of 'Unit' needs to be exactly 9 digits.");
    if (query.after && !z.uuid().safeParse(query.after).success)
      throw badQuery("The 'After' parameter must be an event id.");
    const types = query.type === undefined ? [] : Array.isArray(query.type) ? query.type : [query.type];
    const filter: AppEventQuery = {
      org,
      app,
      after: query.after || undefined,
      from,
      to,
      subject: party > 0 ? `/party/${party}` : undefined,
      alternativeSubject: query.unit ? `/org/${query.unit}` : person ? `/person/${person}` : undefined,
      types: types.filter((type) => type !== ''),
      size: Math.min(size, MAX_PAGE_SIZE),
    };
    const found = await events.listAppEvents(filter);
    const last = found.at(-1);
    if (last) {
      const url = new URL(c.req.url);
      url.searchParams.delete('after');
      const rest = url.searchParams.toString();
      c.header('next', `${url.origin}${url.pathname}?after=${last.id}${rest ? `&${rest}` : ''}`);
    }
    return c.json(found, 200);
  });
}
