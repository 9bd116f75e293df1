import type { Migration } from '../../../platform/src/db/migrate.js';

/**
 * Events' tables: app events and subscriptions (22). Oldest first; the host that composes the services merges
 * every list by version (composeMigrations). Never edit, renumber or rename an entry once it has been applied
 * anywhere: the runner refuses changed checksums.
 */
export const eventsMigrations: readonly Migration[] = [
  {
    version: 22,
    name: 'events',
    sql: `
-- Cloud events apps publish (events/api/v1/app), as Altinn Events records them: the platform sets id and time.
CREATE TABLE app_events (
  seq bigserial PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  org text NOT NULL,
  app text NOT NULL,
  source text NOT NULL,
  subject text NOT NULL,
  alternative_subject text,
  type text NOT NULL,
  time timestamptz NOT NULL,
  resource_instance text,
  data jsonb,
  dataschema text,
  contenttype text
);
CREATE INDEX app_events_app ON app_events (org, app, seq);
CREATE INDEX app_events_subject ON app_events (subject, seq);
-- Event subscriptions (events/api/v1/subscriptions); consumer is who made it (/org/ttd or /user/1001).
CREATE TABLE event_subscriptions (
  id serial PRIMARY KEY,
  endpoint text NOT NULL,
  source_filter text,
  resource_filter text,
  subject_filter text,
  alternative_subject_filter text,
  type_filter text,
  consumer text NOT NULL,
  created_by text NOT NULL,
  created timestamptz NOT NULL,
  validated boolean NOT NULL DEFAULT false,
  include_subunits boolean NOT NULL DEFAULT false
);
CREATE INDEX event_subscriptions_consumer ON event_subscriptions (consumer, id);
`,
  },
];
