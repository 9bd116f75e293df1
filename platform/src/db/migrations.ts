import type { Migration } from './migrate.js';

/**
 * The platform layer's own tables: the installation's identity (1), the token signing keys (6) and the keys apps
 * sign their PlatformAccessTokens with (16). Oldest first; the host that composes the services merges every list
 * by version (composeMigrations). Never edit, renumber or rename an entry once it has been applied anywhere: the
 * runner refuses changed checksums.
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
];
