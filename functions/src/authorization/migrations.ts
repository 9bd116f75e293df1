import type { Migration } from '../../../platform/src/db/migrate.js';

/**
 * Authorization's tables: policies, role assignments, delegations and their audit, the decision cache generation
 * (9), subscription keys (14). Oldest first; the host that composes the services merges every list by version
 * (composeMigrations). Never edit, renumber or rename an entry once it has been applied anywhere: the runner
 * refuses changed checksums.
 */
export const authorizationMigrations: readonly Migration[] = [
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
];
