import type { Migration } from './migrate.js';

/**
 * The platform's migrations, oldest first. Append new ones with the next version; never edit or reorder an
 * entry once it has been applied anywhere (the runner refuses changed checksums).
 */
export const platformMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'platform_info',
    sql: `
CREATE TABLE platform_info (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  installation_id uuid NOT NULL DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO platform_info DEFAULT VALUES;
`,
  },
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
    version: 6,
    name: 'auth_signing_keys',
    sql: `
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_jwk jsonb NOT NULL,
  private_jwk jsonb NOT NULL,
  created timestamptz NOT NULL,
  retired timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired IS NULL;
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
    version: 8,
    name: 'register_parties_profiles',
    sql: `
-- party_type: 1 person, 2 organisation, 3 self-identified, 4 sub-unit, 5 bankruptcy estate (Altinn's PartyType).
-- A sub-unit (and a bankruptcy estate, when it has one) points at its parent through parent_party_id.
CREATE TABLE parties (
  party_id bigint PRIMARY KEY,
  party_uuid uuid NOT NULL UNIQUE,
  party_type smallint NOT NULL CHECK (party_type BETWEEN 1 AND 5),
  ssn text CHECK (ssn ~ '^[0-9]{11}$'),
  org_number text CHECK (org_number ~ '^[0-9]{9}$'),
  name text NOT NULL,
  unit_type text,
  is_deleted boolean NOT NULL DEFAULT false,
  only_hierarchy_element_with_no_access boolean NOT NULL DEFAULT false,
  parent_party_id bigint REFERENCES parties (party_id),
  first_name text,
  middle_name text,
  last_name text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  CHECK (party_type <> 1 OR (ssn IS NOT NULL AND last_name IS NOT NULL)),
  CHECK (party_type NOT IN (2, 4, 5) OR org_number IS NOT NULL)
);
CREATE UNIQUE INDEX parties_ssn ON parties (ssn) WHERE ssn IS NOT NULL;
CREATE UNIQUE INDEX parties_org_number ON parties (org_number) WHERE org_number IS NOT NULL;
CREATE INDEX parties_parent ON parties (parent_party_id) WHERE parent_party_id IS NOT NULL;

-- user_type: 1 identified by fødselsnummer, 2 self-identified, 3 enterprise (Altinn's UserType).
CREATE TABLE user_profiles (
  user_id bigint PRIMARY KEY,
  user_uuid uuid NOT NULL UNIQUE,
  user_name text,
  party_id bigint NOT NULL UNIQUE REFERENCES parties (party_id),
  phone_number text,
  email text,
  user_type smallint NOT NULL CHECK (user_type BETWEEN 0 AND 3),
  is_reserved boolean NOT NULL DEFAULT false,
  language text NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'nn', 'en')),
  preselected_party_id bigint REFERENCES parties (party_id),
  do_not_prompt_for_party boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX user_profiles_user_name ON user_profiles (lower(user_name)) WHERE user_name IS NOT NULL;

-- One row per failed GET persons lookup (ssn and last name not matching a person), for the per-caller lockout.
CREATE TABLE person_lookup_failures (
  caller text NOT NULL,
  failed_at timestamptz NOT NULL
);
CREATE INDEX person_lookup_failures_caller ON person_lookup_failures (caller, failed_at);
`,
  },
  {
    version: 9,
    name: 'authorization_policies_roles_delegations',
    sql: `
-- Party and user ids are plain numbers: Register owns parties, and nothing here references its tables.
CREATE TABLE authorization_policies (
  org text NOT NULL,
  app text NOT NULL,
  policy jsonb NOT NULL,
  version bigint NOT NULL DEFAULT 1,
  created timestamptz NOT NULL,
  last_changed timestamptz NOT NULL,
  PRIMARY KEY (org, app)
);
CREATE TABLE role_assignments (
  assignment_id bigserial PRIMARY KEY,
  user_id bigint NOT NULL,
  party_id bigint NOT NULL,
  role_code text NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  created timestamptz NOT NULL,
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);
-- A user's roles for one party (decisions, roles) and all their parties (reportees) use the unique index's prefix.
CREATE UNIQUE INDEX role_assignments_user_party_role ON role_assignments (user_id, party_id, role_code);
CREATE INDEX role_assignments_party ON role_assignments (party_id, role_code);
CREATE TABLE delegations (
  delegation_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  offered_by_party_id bigint NOT NULL,
  covered_by_user_id bigint,
  covered_by_party_id bigint,
  role_code text,
  org text,
  app text,
  actions text[],
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  created timestamptz NOT NULL,
  created_by text NOT NULL,
  revoked_at timestamptz,
  revoked_by text,
  CHECK ((covered_by_user_id IS NULL) <> (covered_by_party_id IS NULL)),
  CHECK (
    (role_code IS NOT NULL AND org IS NULL AND app IS NULL AND actions IS NULL)
    OR (role_code IS NULL AND org IS NOT NULL AND app IS NOT NULL AND cardinality(actions) > 0)
  ),
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX delegations_covered_user ON delegations (covered_by_user_id, offered_by_party_id)
  WHERE revoked_at IS NULL AND covered_by_user_id IS NOT NULL;
CREATE INDEX delegations_covered_party ON delegations (covered_by_party_id, offered_by_party_id)
  WHERE revoked_at IS NULL AND covered_by_party_id IS NOT NULL;
CREATE INDEX delegations_offered ON delegations (offered_by_party_id, created);
-- Every change of a delegation, with who made it and the delegation as it was after the change.
CREATE TABLE delegation_audit (
  seq bigserial PRIMARY KEY,
  delegation_id uuid NOT NULL REFERENCES delegations (delegation_id),
  change text NOT NULL CHECK (change IN ('created', 'revoked')),
  actor text NOT NULL,
  at timestamptz NOT NULL,
  delegation jsonb NOT NULL
);
CREATE INDEX delegation_audit_delegation ON delegation_audit (delegation_id, seq);
-- Bumped in the transaction of every policy, role or delegation change; decision caches compare it.
CREATE TABLE authorization_generation (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation bigint NOT NULL DEFAULT 0
);
INSERT INTO authorization_generation DEFAULT VALUES;
`,
  },
  {
    version: 10,
    name: 'register_service_owners',
    sql: `
-- The orgs that own apps on this platform (Altinn's org list): org code, e.g. ttd, and organisation number.
CREATE TABLE service_owners (
  org text PRIMARY KEY CHECK (org ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  org_number text NOT NULL UNIQUE CHECK (org_number ~ '^[0-9]{9}$'),
  name text NOT NULL
);
`,
  },
  {
    version: 11,
    name: 'provisioner',
    sql: `
-- Desired state of the provisioner: one cluster per org, its apps, each app's immutable releases,
-- and the operations that drive actual state toward it (provisioner/).
CREATE TABLE clusters (
  org text PRIMARY KEY CHECK (org ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  spec jsonb NOT NULL,
  generation bigint NOT NULL DEFAULT 1,
  observed_generation bigint NOT NULL DEFAULT 0,
  phase text NOT NULL CHECK (phase IN ('Provisioning', 'Ready', 'Failed', 'Deleting')),
  ingress_url text,
  conditions jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE cluster_apps (
  org text NOT NULL REFERENCES clusters (org),
  app text NOT NULL CHECK (app ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  generation bigint NOT NULL DEFAULT 1,
  observed_generation bigint NOT NULL DEFAULT 0,
  -- The release the operator wants, and the one whose rollout last completed (it serves traffic).
  desired_revision integer NOT NULL,
  serving_revision integer,
  min_replicas integer NOT NULL CHECK (min_replicas >= 0),
  max_replicas integer NOT NULL CHECK (max_replicas >= 1 AND max_replicas >= min_replicas),
  replicas integer NOT NULL CHECK (replicas BETWEEN min_replicas AND max_replicas),
  phase text NOT NULL CHECK (phase IN ('Deploying', 'Ready', 'Failed', 'Deleting')),
  conditions jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org, app)
);
CREATE TABLE app_releases (
  org text NOT NULL,
  app text NOT NULL,
  revision integer NOT NULL CHECK (revision >= 1),
  spec jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (org, app, revision),
  FOREIGN KEY (org, app) REFERENCES cluster_apps (org, app) ON DELETE CASCADE
);
-- Long-running work. Rows outlive the cluster or app they acted on, as an audit trail.
CREATE TABLE operations (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  org text NOT NULL,
  app text,
  generation bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('NotStarted', 'Running', 'Succeeded', 'Failed', 'Canceled')),
  phase text NOT NULL,
  input jsonb NOT NULL,
  provider_state jsonb,
  conditions jsonb NOT NULL DEFAULT '[]',
  error jsonb,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_until timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz
);
-- At most one unfinished operation per cluster (app '') or app: a second one is a 409.
CREATE UNIQUE INDEX operations_one_active ON operations (org, coalesce(app, ''))
  WHERE status IN ('NotStarted', 'Running');
CREATE INDEX operations_due ON operations (next_attempt_at) WHERE status IN ('NotStarted', 'Running');
CREATE INDEX operations_target ON operations (org, app, created_at);
`,
  },
  {
    version: 12,
    name: 'provisioner_deploy_truth',
    sql: `
-- Each operation's timeline: what the reconciler did and what the provider saw (process or pod events).
CREATE TABLE operation_events (
  operation_id uuid NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  at timestamptz NOT NULL,
  source text NOT NULL CHECK (source IN ('reconciler', 'provider')),
  type text NOT NULL CHECK (type IN ('Normal', 'Warning')),
  reason text NOT NULL,
  message text NOT NULL,
  replica text,
  revision integer,
  PRIMARY KEY (operation_id, seq)
);
-- The last output lines of the replicas that made a rollout fail.
ALTER TABLE operations ADD COLUMN logs jsonb;
-- Per app: roll back to the last good release when a rollout fails, and the rollout's deadline.
ALTER TABLE cluster_apps ADD COLUMN auto_rollback boolean NOT NULL DEFAULT true;
ALTER TABLE cluster_apps ADD COLUMN progress_deadline_seconds integer CHECK (progress_deadline_seconds > 0);
`,
  },
  {
    version: 13,
    name: 'provisioner_autoscaling',
    sql: `
-- Per app: usage-based autoscaling settings (targets per replica, stabilisation windows); null means the defaults.
ALTER TABLE cluster_apps ADD COLUMN autoscaling jsonb;
`,
  },
  {
    version: 14,
    name: 'authorization_subscription_keys',
    sql: `
-- Platform subscription keys (Ocp-Apim-Subscription-Key): how an org's apps call POST decision without a token.
-- Only the SHA-256 of each key is kept; several per org for rollover, each revocable and optionally expiring.
CREATE TABLE subscription_keys (
  key_id uuid PRIMARY KEY,
  org text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  name text,
  created timestamptz NOT NULL,
  created_by text NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  revoked_by text
);
CREATE INDEX subscription_keys_org ON subscription_keys (org, created);
`,
  },
  {
    version: 15,
    name: 'accessmanagement_instance_delegations',
    sql: `
-- Delegations scoped to one instance (Access management's app instance delegations, e.g. a signee's read and sign):
-- app rights that hold on that instance of the offering party only, and only while its process is at task_id when
-- one is given. They never widen what a delegation without an instance grants.
ALTER TABLE delegations ADD COLUMN instance_guid uuid;
ALTER TABLE delegations ADD COLUMN task_id text;
ALTER TABLE delegations ADD CONSTRAINT delegations_instance_rights
  CHECK (instance_guid IS NULL OR (role_code IS NULL AND org IS NOT NULL));
ALTER TABLE delegations ADD CONSTRAINT delegations_task_on_instance CHECK (task_id IS NULL OR instance_guid IS NOT NULL);
-- One active delegation per instance, offering party, covered user or organisation and task.
CREATE UNIQUE INDEX delegations_instance_active ON delegations
  (instance_guid, offered_by_party_id, COALESCE(covered_by_user_id, 0), COALESCE(covered_by_party_id, 0),
   COALESCE(task_id, ''))
  WHERE instance_guid IS NOT NULL AND revoked_at IS NULL;
`,
  },
  {
    version: 16,
    name: 'auth_app_token_keys',
    sql: `
-- Public keys (or X.509 certificates) an org's apps sign their PlatformAccessTokens with, as Altinn keeps one
-- certificate per issuer. Several per org, each valid from not_before to not_after (rollover); revoked keys stay
-- listed (audit) but verify nothing.
CREATE TABLE app_token_keys (
  org text NOT NULL,
  key_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('certificate', 'publicKey')),
  public_jwk jsonb NOT NULL,
  certificate text,
  x5t text,
  x5t_s256 text,
  not_before timestamptz NOT NULL,
  not_after timestamptz,
  created timestamptz NOT NULL,
  created_by text NOT NULL,
  revoked timestamptz,
  revoked_by text,
  PRIMARY KEY (org, key_id),
  CHECK (not_after IS NULL OR not_after > not_before)
);
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
  {
    version: 23,
    name: 'notifications',
    sql: `
-- Notification orders (notifications/api/v1/orders/email|sms, future/orders), recorded, never sent.
CREATE TABLE notification_orders (
  id uuid PRIMARY KEY,
  creator text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('email', 'sms', 'future')),
  senders_reference text,
  idempotency_id text,
  requested_send_time timestamptz NOT NULL,
  created timestamptz NOT NULL,
  cancelled boolean NOT NULL DEFAULT false,
  request jsonb NOT NULL,
  response jsonb NOT NULL
);
CREATE UNIQUE INDEX notification_orders_idempotency ON notification_orders (creator, idempotency_id)
  WHERE idempotency_id IS NOT NULL;
CREATE INDEX notification_orders_reference ON notification_orders (creator, senders_reference);
-- One row per recipient and channel of an order: what Altinn would send, with its (never advancing) status.
CREATE TABLE notification_messages (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES notification_orders (id) ON DELETE CASCADE,
  position integer NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  email_address text,
  mobile_number text,
  organization_number text,
  national_identity_number text,
  status text NOT NULL,
  last_update timestamptz NOT NULL
);
CREATE INDEX notification_messages_order ON notification_messages (order_id, position);
`,
  },
];
