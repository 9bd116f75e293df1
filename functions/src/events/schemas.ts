import { z } from '@hono/zod-openapi';

/** The CloudEvents version Altinn's app library publishes, the only one accepted. */
export const SPEC_VERSION = '1.0';

const absoluteUrl = z.string().refine((value) => URL.canParse(value), 'must be an absolute URL');

/**
 * A cloud event as app-lib's `EventsClient.AddEvent` posts it (`CloudEvent`, System.Text.Json): the platform
 * assigns `id` and `time` itself, as Altinn Events does, so the app's `id` (sent as null) is ignored.
 */
export const AppCloudEventRequest = z
  .object({
    id: z.string().nullish(),
    source: absoluteUrl,
    specversion: z.literal(SPEC_VERSION, { error: `must be "${SPEC_VERSION}"` }),
    type: z.string().trim().min(1, 'must not be empty').max(255),
    subject: z.string().trim().min(1, 'must not be empty').max(255),
    time: z.iso.datetime({ offset: true, local: true, error: 'must be an ISO 8601 date-time' }).nullish(),
    alternativesubject: z.string().max(255).nullish(),
    data: z.unknown().optional(),
    dataschema: absoluteUrl.nullish(),
    contenttype: z.unknown().optional(),
  })
  .openapi('AppCloudEventRequest');
export type AppCloudEventRequest = z.infer<typeof AppCloudEventRequest>;

/** A recorded event as Altinn Events answers it (CloudEvents JSON, with Altinn's `resource` extensions). */
export const CloudEvent = z
  .object({
    specversion: z.string(),
    id: z.string(),
    source: z.string(),
    type: z.string(),
    subject: z.string(),
    time: z.string(),
    resource: z.string(),
    resourceinstance: z.string().optional(),
    alternativesubject: z.string().optional(),
    data: z.unknown().optional(),
    dataschema: z.string().optional(),
  })
  .openapi('CloudEvent');
export type CloudEvent = z.infer<typeof CloudEvent>;

/**
 * A subscription request, as app-lib's `EventsSubscriptionClient` posts it (PascalCase, System.Text.Json) or
 * Altinn's clients do (camelCase): property names are matched ignoring case, as ASP.NET binds them.
 */
export const SubscriptionRequest = z
  .object({
    endpoint: absoluteUrl,
    sourcefilter: absoluteUrl.nullish(),
    resourcefilter: z.string().nullish(),
    subjectfilter: z.string().max(255).nullish(),
    alternativesubjectfilter: z.string().max(255).nullish(),
    typefilter: z.string().max(255).nullish(),
    includesubunits: z.boolean().nullish(),
  })
  .openapi('SubscriptionRequest');
export type SubscriptionRequest = z.infer<typeof SubscriptionRequest>;

/** Altinn Events' Subscription (camelCase); app-lib reads `id` (an int), `endPoint`, `sourceFilter`, `created`. */
export const Subscription = z
  .object({
    id: z.number().int(),
    endPoint: z.string(),
    sourceFilter: z.string().nullable(),
    resourceFilter: z.string().nullable(),
    subjectFilter: z.string().nullable(),
    alternativeSubjectFilter: z.string().nullable(),
    typeFilter: z.string().nullable(),
    consumer: z.string(),
    createdBy: z.string(),
    created: z.string(),
    validated: z.boolean(),
    includeSubunits: z.boolean(),
  })
  .openapi('Subscription');
export type Subscription = z.infer<typeof Subscription>;

/** The caller's subscriptions, as Altinn Events' `SubscriptionList`. */
export const SubscriptionList = z
  .object({ count: z.number().int(), subscriptions: z.array(Subscription) })
  .openapi('SubscriptionList');
