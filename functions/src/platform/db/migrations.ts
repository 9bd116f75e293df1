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
];
