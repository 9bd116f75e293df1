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
];
