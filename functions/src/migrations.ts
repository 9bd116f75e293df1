import { composeMigrations } from '../../platform/src/db/migrate.js';
import { platformMigrations } from '../../platform/src/db/migrations.js';
import { provisionerMigrations } from '../../provisioner/src/state/migrations.js';
import { accessManagementMigrations } from './accessmanagement/migrations.js';
import { authorizationMigrations } from './authorization/migrations.js';
import { eventsMigrations } from './events/migrations.js';
import { notificationsMigrations } from './notifications/migrations.js';
import { registerMigrations } from './register/migrations.js';
import { storageMigrations } from './storage/migrations.js';

/**
 * Every migration of the functions host, in the order they apply: the platform layer's and each feature's own
 * list (each feature owns its tables), merged by version. Versions and names are the ones applied before the
 * lists were split, so existing databases (a `.data` folder, a PostgreSQL server) see nothing new.
 */
export const hostMigrations = composeMigrations(
  platformMigrations,
  storageMigrations,
  registerMigrations,
  authorizationMigrations,
  accessManagementMigrations,
  eventsMigrations,
  notificationsMigrations,
  provisionerMigrations,
);
