import type { Migration } from '../../../platform/src/db/migrate.js';

/**
 * Register's tables: parties and the person lookup lockout (8), service owners (10). Version 8 also made Profile's
 * user_profiles (its rows reference parties); it stays here as it was applied, and Profile's repository is the one
 * that reads and writes that table. Oldest first; the host that composes the services merges every list by version
 * (composeMigrations). Never edit, renumber or rename an entry once it has been applied anywhere: the runner
 * refuses changed checksums.
 */
export const registerMigrations: readonly Migration[] = [
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
];
