import { createApi, type PlatformApp } from '../platform/api/index.js';
import type { Database } from '../platform/db/index.js';
import type { Logger } from '../platform/logging/index.js';
import { addApplicationRoutes } from './applications.js';
import { addInstanceQueryRoutes } from './instance-query.js';
import { addInstanceRoutes } from './instances.js';
import { addTextRoutes } from './texts.js';

/** Public path prefix of DataServices, as Altinn Storage's. */
export const STORAGE_PREFIX = '/storage/api/v1';

/** What the Storage API needs. */
export interface StorageApiOptions {
  db: Database;
  logger: Logger;
  /** The clock stamping `created` and `lastChanged`; the system clock by default. */
  now?: () => Date;
}

/** DataServices, compatible with Altinn Storage v1: application metadata, texts and instances so far. */
export function createStorageApi(options: StorageApiOptions): PlatformApp {
  const api = createApi({
    prefix: STORAGE_PREFIX,
    title: 'DataServices (Altinn Storage v1 compatible)',
    version: '1.0.0',
    logger: options.logger,
  });
  const routes = { db: options.db, prefix: STORAGE_PREFIX, now: options.now ?? (() => new Date()) };
  addApplicationRoutes(api, routes);
  addTextRoutes(api, routes);
  addInstanceQueryRoutes(api, routes);
  addInstanceRoutes(api, routes);
  return api;
}
