import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { forbidden, type Principal, principalOf } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem, validationProblem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import type { PlatformEnv } from '../../../platform/src/request-context/index.js';
import { appResource, eventsRepository } from './repository.js';
import { Subscription, SubscriptionList, SubscriptionRequest } from './schemas.js';

const problem = (description: string) => ({ description, content: problemContent });

const create = createRoute({
  method: 'post',
  path: '/subscriptions',
  summary: "Subscribe to an app's events (an org token for its own apps, or a user for their own party)",
  description:
    'Body: `SubscriptionRequest`; property names match ignoring case, as ASP.NET binds them (app-lib sends ' +
    '`EndPoint`, `SourceFilter`, `TypeFilter`). The source filter names an app (`https://host/{org}/{app}`). ' +
    'Subscriptions are recorded and listed; this platform does not push events to their endpoints.',
  request: { body: { required: true, content: jsonContent(SubscriptionRequest) } },
  responses: {
    201: { description: 'The subscription', content: jsonContent(Subscription) },
    400: problem('Invalid request'),
    401: problem('No valid platform token'),
    403: problem('The caller may not subscribe to that source or subject'),
  },
});

const IdParams = z.object({ id: z.string().regex(/^\d{1,9}$/, 'must be a subscription id') });

const one = createRoute({
  method: 'get',
  path: '/subscriptions/{id}',
  summary: "One of the caller's subscriptions",
  request: { params: IdParams },
  responses: {
    200: { description: 'The subscription', content: jsonContent(Subscription) },
    401: problem('No valid platform token'),
    403: problem("Another consumer's subscription"),
    404: problem('No such subscription'),
  },
});

const all = createRoute({
  method: 'get',
  path: '/subscriptions',
  summary: "The caller's subscriptions",
  responses: {
    200: { description: 'The subscriptions', content: jsonContent(SubscriptionList) },
    401: problem('No valid platform token'),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/subscriptions/{id}',
  summary: "Remove one of the caller's subscriptions",
  request: { params: IdParams },
  responses: {
    200: { description: 'Removed' },
    401: problem('No valid platform token'),
    403: problem("Another consumer's subscription"),
    404: problem('No such subscription'),
  },
});

const badRequest = (detail: string) => new Problem(400, { kind: 'bad-request', detail });

/** Who a subscription belongs to, as Altinn Events names consumers: `/org/ttd` or `/user/1001`. */
export function consumerOf(principal: Principal): string {
  return principal.kind === 'org' ? `/org/${principal.org}` : `/user/${principal.userId}`;
}

/**
 * Altinn Events requires https endpoints and sources. Local apps (loopback, `*.local.altinn.cloud` as app-lib's
 * local default) run on http, so http is accepted for those hosts only.
 */
function isDeliverable(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  const host = url.hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.endsWith('.local.altinn.cloud');
}

/** Lower-cases the top-level property names of a JSON object, as ASP.NET matches them ignoring case. */
function lowerKeys(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key.toLowerCase(), value]));
}

async function jsonBodyOf(c: Context<PlatformEnv>): Promise<unknown> {
  if (!/^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new Problem(415, { kind: 'unsupported-media-type', detail: 'The body must be application/json.' });
  }
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw badRequest('The body is not valid JSON.');
  }
}

/** Adds `subscriptions` (create, list, read, delete) to the Events API. */
export function addSubscriptionRoutes(api: PlatformApp, options: { db: Database; now: () => Date }): void {
  const repository = eventsRepository(options.db);

  async function owned(c: Context<PlatformEnv>, id: number): Promise<Subscription> {
    const subscription = await repository.subscription(id);
    if (!subscription) throw new Problem(404, { kind: 'not-found', detail: `No subscription ${id}.` });
    if (subscription.consumer !== consumerOf(principalOf(c))) {
      throw forbidden(`Subscription ${id} belongs to another consumer.`);
    }
    return subscription;
  }

  api.openapi({ ...create, request: {} }, async (c) => {
    const principal = principalOf(c);
    const parsed = SubscriptionRequest.safeParse(lowerKeys(await jsonBodyOf(c)));
    if (!parsed.success) throw validationProblem(parsed.error, 'json');
    const request = parsed.data;
    const endpoint = new URL(request.endpoint);
    if (!isDeliverable(endpoint)) throw badRequest('Missing or invalid endpoint to push events towards');
    if (!request.sourcefilter) throw badRequest('A source filter naming an app ({host}/{org}/{app}) is required.');
    const source = new URL(request.sourcefilter);
    if (!isDeliverable(source)) throw badRequest('SourceFilter must be an absolute URL with the https scheme.');
    const [, org, app, ...rest] = source.pathname.split('/');
    if (!org || !app || rest.length > 0) {
      throw badRequest('A valid app id is required in source filter {environment}/{org}/{app}');
    }
    const resource = appResource(org, app);
    if (request.resourcefilter && request.resourcefilter !== resource) {
      throw badRequest('Provided resource filter and source filter are not compatible');
    }
    if (principal.kind === 'org') {
      if (principal.org !== org) throw forbidden(`Org ${principal.org} may not subscribe to events of ${org}/${app}.`);
    } else {
      // A user subscribes to events about themself only.
      const own = `/party/${principal.partyId}`;
      if (!request.subjectfilter) throw badRequest('A valid subject to the authenticated identity is required');
      if (request.subjectfilter !== own) throw forbidden(`User ${principal.userId} may subscribe to ${own} only.`);
    }
    if (request.alternativesubjectfilter && !request.subjectfilter) {
      throw badRequest('A valid subject to the authenticated identity is required');
    }
    if (request.includesubunits && !request.subjectfilter)
      throw badRequest('IncludeSubunits requires a subject filter.');
    const consumer = consumerOf(principal);
    const created = await repository.insertSubscription({
      endPoint: endpoint.href,
      sourceFilter: request.sourcefilter,
      resourceFilter: resource,
      subjectFilter: request.subjectfilter ?? null,
      alternativeSubjectFilter: request.alternativesubjectfilter ?? null,
      typeFilter: request.typefilter ?? null,
      consumer,
      createdBy: consumer,
      created: options.now(),
      validated: false,
      includeSubunits: request.includesubunits ?? false,
    });
    return c.json(created, 201, { Location: `/events/api/v1/subscription/${created.id}` });
  });

  api.openapi(all, async (c) => {
    const subscriptions = await repository.subscriptionsOf(consumerOf(principalOf(c)));
    return c.json({ count: subscriptions.length, subscriptions }, 200);
  });

  api.openapi(one, async (c) => c.json(await owned(c, Number(c.req.valid('param').id)), 200));

  api.openapi(remove, async (c) => {
    const { id } = await owned(c, Number(c.req.valid('param').id));
    await repository.deleteSubscription(id);
    return c.body(null, 200);
  });
}
