import type { Queryable } from '../../../platform/src/db/index.js';
import { type CloudEvent, SPEC_VERSION, type Subscription } from './schemas.js';

/** An event to record, with the id and time the platform gave it. */
export interface NewAppEvent {
  id: string;
  org: string;
  app: string;
  source: string;
  subject: string;
  alternativeSubject: string | null;
  type: string;
  time: Date;
  resourceInstance: string | null;
  data: unknown;
  dataschema: string | null;
}

/** Which recorded events of an app to list, as Altinn Events' `GET app/{org}/{app}` query. */
export interface AppEventQuery {
  org: string;
  app: string;
  /** Only events recorded after the event with this id (none when the id is unknown). */
  after?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Only events whose subject is one of these (e.g. `/party/510001`). */
  subject?: string | undefined;
  /** Only events whose alternative subject is this (e.g. `/person/01817550181`, `/org/310500003`). */
  alternativeSubject?: string | undefined;
  types: readonly string[];
  size: number;
}

/** A subscription to record. */
export type NewSubscription = Omit<Subscription, 'id' | 'created'> & { created: Date };

type EventRow = {
  id: string;
  org: string;
  app: string;
  source: string;
  subject: string;
  alternative_subject: string | null;
  type: string;
  time: Date | string;
  resource_instance: string | null;
  data: unknown;
  dataschema: string | null;
};

type SubscriptionRow = {
  id: number;
  endpoint: string;
  source_filter: string | null;
  resource_filter: string | null;
  subject_filter: string | null;
  alternative_subject_filter: string | null;
  type_filter: string | null;
  consumer: string;
  created_by: string;
  created: Date | string;
  validated: boolean;
  include_subunits: boolean;
};

/** Altinn's resource id of an app, `urn:altinn:resource:app_{org}_{app}`. */
export const appResource = (org: string, app: string) => `urn:altinn:resource:app_${org}_${app}`;

const iso = (value: Date | string) => new Date(value).toISOString();

function toCloudEvent(row: EventRow): CloudEvent {
  return {
    specversion: SPEC_VERSION,
    id: row.id,
    source: row.source,
    type: row.type,
    subject: row.subject,
    time: iso(row.time),
    resource: appResource(row.org, row.app),
    ...(row.resource_instance ? { resourceinstance: row.resource_instance } : {}),
    ...(row.alternative_subject ? { alternativesubject: row.alternative_subject } : {}),
    ...(row.data !== null && row.data !== undefined ? { data: row.data } : {}),
    ...(row.dataschema ? { dataschema: row.dataschema } : {}),
  };
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: Number(row.id),
    endPoint: row.endpoint,
    sourceFilter: row.source_filter,
    resourceFilter: row.resource_filter,
    subjectFilter: row.subject_filter,
    alternativeSubjectFilter: row.alternative_subject_filter,
    typeFilter: row.type_filter,
    consumer: row.consumer,
    createdBy: row.created_by,
    created: iso(row.created),
    validated: row.validated,
    includeSubunits: row.include_subunits,
  };
}

const SUBSCRIPTION_COLUMNS = `id, endpoint, source_filter, resource_filter, subject_filter, alternative_subject_filter,
  type_filter, consumer, created_by, created, validated, include_subunits`;

/** The SQL of recorded app events. */
function appEventQueries(db: Queryable) {
  return {
    /** Records an event; it is listed from now on. */
    async insertEvent(event: NewAppEvent): Promise<CloudEvent> {
      const [row] = await db.query<EventRow>(
        `INSERT INTO app_events (id, org, app, source, subject, alternative_subject, type, time, resource_instance,
           data, dataschema)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)
         RETURNING id::text AS id, org, app, source, subject, alternative_subject, type, time, resource_instance, data,
           dataschema`,
        [
          event.id,
          event.org,
          event.app,
          event.source,
          event.subject,
          event.alternativeSubject,
          event.type,
          event.time,
          event.resourceInstance,
          event.data === undefined || event.data === null ? null : JSON.stringify(event.data),
          event.dataschema,
        ],
      );
      if (!row) throw new Error('insert into app_events returned no row');
      return toCloudEvent(row);
    },

    /** An app's events in the order they were recorded, filtered as `query` says. */
    async listAppEvents(query: AppEventQuery): Promise<CloudEvent[]> {
      const rows = await db.query<EventRow>(
        `SELECT id::text AS id, org, app, source, subject, alternative_subject, type, time, resource_instance, data,
           dataschema
         FROM app_events
         WHERE org = $1 AND app = $2
           AND ($3::uuid IS NULL OR seq > coalesce((SELECT seq FROM app_events WHERE id = $3::uuid), 9223372036854775807))
           AND ($4::timestamptz IS NULL OR time >= $4::timestamptz)
           AND ($5::timestamptz IS NULL OR time <= $5::timestamptz)
           AND ($6::text IS NULL OR subject = $6::text)
           AND ($7::text IS NULL OR alternative_subject = $7::text)
           AND (cardinality($8::text[]) = 0 OR type = ANY($8::text[]))
         ORDER BY seq
         LIMIT $9`,
        [
          query.org,
          query.app,
          query.after ?? null,
          query.from ?? null,
          query.to ?? null,
          query.subject ?? null,
          query.alternativeSubject ?? null,
          [...query.types],
          query.size,
        ],
      );
      return rows.map(toCloudEvent);
    },
  };
}

/** The SQL of event subscriptions. */
function subscriptionQueries(db: Queryable) {
  return {
    /** Records a subscription and answers it with its new id. */
    async insertSubscription(subscription: NewSubscription): Promise<Subscription> {
      const [row] = await db.query<SubscriptionRow>(
        `INSERT INTO event_subscriptions (endpoint, source_filter, resource_filter, subject_filter,
           alternative_subject_filter, type_filter, consumer, created_by, created, validated, include_subunits)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING ${SUBSCRIPTION_COLUMNS}`,
        [
          subscription.endPoint,
          subscription.sourceFilter,
          subscription.resourceFilter,
          subscription.subjectFilter,
          subscription.alternativeSubjectFilter,
          subscription.typeFilter,
          subscription.consumer,
          subscription.createdBy,
          subscription.created,
          subscription.validated,
          subscription.includeSubunits,
        ],
      );
      if (!row) throw new Error('insert into event_subscriptions returned no row');
      return toSubscription(row);
    },

    /** The subscription with this id, whoever made it. */
    async subscription(id: number): Promise<Subscription | undefined> {
      const [row] = await db.query<SubscriptionRow>(
        `SELECT ${SUBSCRIPTION_COLUMNS} FROM event_subscriptions WHERE id = $1`,
        [id],
      );
      return row ? toSubscription(row) : undefined;
    },

    /** The subscriptions a consumer made, oldest first. */
    async subscriptionsOf(consumer: string): Promise<Subscription[]> {
      const rows = await db.query<SubscriptionRow>(
        `SELECT ${SUBSCRIPTION_COLUMNS} FROM event_subscriptions WHERE consumer = $1 ORDER BY id`,
        [consumer],
      );
      return rows.map(toSubscription);
    },

    /** Removes a subscription; false when there was none. */
    async deleteSubscription(id: number): Promise<boolean> {
      const rows = await db.query('DELETE FROM event_subscriptions WHERE id = $1 RETURNING id', [id]);
      return rows.length > 0;
    },
  };
}

/** Recorded app events and event subscriptions, in `app_events` and `event_subscriptions`. */
export function eventsRepository(db: Queryable) {
  return {
    ...appEventQueries(db),
    ...subscriptionQueries(db),
  };
}

/** The events repository's operations. */
export type EventsRepository = ReturnType<typeof eventsRepository>;
