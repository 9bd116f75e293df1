import type { Migration } from '../../../platform/src/db/migrate.js';

/**
 * Access management's instance delegations (15): columns and constraints on Authorization's delegations table,
 * whose rows it writes through Authorization's repository. Oldest first; the host that composes the services
 * merges every list by version (composeMigrations). Never edit, renumber or rename an entry once it has been
 * applied anywhere: the runner refuses changed checksums.
 */
export const accessManagementMigrations: readonly Migration[] = [
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
];
