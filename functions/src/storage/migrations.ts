import type { Migration } from '../../../platform/src/db/migrate.js';

/**
 * Storage's tables: applications and texts (2), instances (3, 7), data elements (4), instance events (5) and
 * instance locks (20). Oldest first; the host that composes the services merges every list by version
 * (composeMigrations). Never edit, renumber or rename an entry once it has been applied anywhere: the runner
 * refuses changed checksums.
 */
export const storageMigrations: readonly Migration[] = [
  {
    version: 2,
    name: 'storage_applications_texts',
    sql: `
CREATE TABLE applications (
  org text NOT NULL,
  app text NOT NULL,
  application jsonb NOT NULL,
  created timestamptz NOT NULL,
  last_changed timestamptz NOT NULL,
  PRIMARY KEY (org, app)
);
CREATE TABLE texts (
  org text NOT NULL,
  app text NOT NULL,
  language text NOT NULL,
  text_resource jsonb NOT NULL,
  created timestamptz NOT NULL,
  last_changed timestamptz NOT NULL,
  PRIMARY KEY (org, app, language),
  FOREIGN KEY (org, app) REFERENCES applications (org, app) ON DELETE CASCADE
);
`,
  },
  {
    version: 3,
    name: 'storage_instances',
    sql: `
CREATE TABLE instances (
  instance_guid uuid PRIMARY KEY,
  party_id bigint NOT NULL,
  org text NOT NULL,
  app text NOT NULL,
  instance jsonb NOT NULL,
  created timestamptz NOT NULL,
  last_changed timestamptz NOT NULL,
  due_before timestamptz,
  visible_after timestamptz,
  current_task text,
  is_complete boolean NOT NULL,
  is_archived boolean NOT NULL,
  is_soft_deleted boolean NOT NULL,
  is_hard_deleted boolean NOT NULL
);
CREATE INDEX instances_org_app_last_changed ON instances (org, app, last_changed, instance_guid) WHERE NOT is_hard_deleted;
CREATE INDEX instances_org_last_changed ON instances (org, last_changed, instance_guid) WHERE NOT is_hard_deleted;
CREATE INDEX instances_party_last_changed ON instances (party_id, last_changed, instance_guid) WHERE NOT is_hard_deleted;
`,
  },
  {
    version: 4,
    name: 'storage_data_elements',
    sql: `
CREATE TABLE data_elements (
  data_guid uuid PRIMARY KEY,
  instance_guid uuid NOT NULL REFERENCES instances (instance_guid) ON DELETE CASCADE,
  data_type text NOT NULL,
  element jsonb NOT NULL,
  created timestamptz NOT NULL,
  last_changed timestamptz NOT NULL
);
CREATE INDEX data_elements_instance ON data_elements (instance_guid, data_type, created);
`,
  },
  {
    version: 5,
    name: 'storage_instance_events',
    sql: `
CREATE TABLE instance_events (
  event_guid uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  instance_guid uuid NOT NULL REFERENCES instances (instance_guid) ON DELETE CASCADE,
  event_type text NOT NULL,
  event jsonb NOT NULL,
  created timestamptz NOT NULL
);
CREATE INDEX instance_events_instance_created ON instance_events (instance_guid, created, seq);
`,
  },
  {
    version: 7,
    name: 'storage_instance_owner_confirmations_version',
    sql: `
-- confirmed_by mirrors the stakeholderIds of completeConfirmations. excludeConfirmedBy is a NOT (&&) test, which no
-- index can answer; it is checked on the rows the (org|party|owner, last_changed) indexes already deliver in order.
-- version counts every UPDATE of a row (the trigger), so it is the instance's ETag.
ALTER TABLE instances
  ADD COLUMN person_number text,
  ADD COLUMN organisation_number text,
  ADD COLUMN confirmed_by text[] NOT NULL DEFAULT '{}',
  ADD COLUMN version bigint NOT NULL DEFAULT 1;
UPDATE instances SET
  person_number = NULLIF(instance->'instanceOwner'->>'personNumber', ''),
  organisation_number = NULLIF(instance->'instanceOwner'->>'organisationNumber', ''),
  confirmed_by = ARRAY(
    SELECT DISTINCT confirmation->>'stakeholderId'
    FROM jsonb_array_elements(
      CASE WHEN jsonb_typeof(instance->'completeConfirmations') = 'array'
        THEN instance->'completeConfirmations' ELSE '[]'::jsonb END
    ) AS confirmation
    WHERE confirmation->>'stakeholderId' IS NOT NULL
  );
CREATE FUNCTION instances_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END
$$;
CREATE TRIGGER instances_version BEFORE UPDATE ON instances
  FOR EACH ROW EXECUTE FUNCTION instances_bump_version();
CREATE INDEX instances_person_number_last_changed ON instances (person_number, last_changed, instance_guid)
  WHERE person_number IS NOT NULL AND NOT is_hard_deleted;
CREATE INDEX instances_organisation_number_last_changed ON instances (organisation_number, last_changed, instance_guid)
  WHERE organisation_number IS NOT NULL AND NOT is_hard_deleted;
`,
  },
  {
    version: 20,
    name: 'storage_instance_locks',
    sql: `
-- Altinn Storage's instance locks: one holder at a time per instance until locked_until; the token's secret is
-- kept only as its SHA-256.
CREATE TABLE instance_locks (
  id bigserial PRIMARY KEY,
  instance_guid uuid NOT NULL REFERENCES instances (instance_guid) ON DELETE CASCADE,
  locked_at timestamptz NOT NULL,
  locked_until timestamptz NOT NULL,
  locked_by text NOT NULL,
  secret_hash bytea NOT NULL
);
CREATE INDEX instance_locks_instance_until ON instance_locks (instance_guid, locked_until);
`,
  },
];
