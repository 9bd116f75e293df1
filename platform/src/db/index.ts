import { mkdir } from 'node:fs/promises';
import type { Logger } from '../logging/index.js';
import { openPGlite } from './pglite.js';
import { openPostgres } from './postgres.js';
import type { Database, DatabaseOptions } from './types.js';

export type { Database, DatabaseOptions, Queryable, Row, Transaction } from './types.js';

/** Opens PostgreSQL when `url` is given, else PGlite under `dataDir` (in memory when `'memory'`). */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options);
  const dataDir = options.dataDir ?? 'memory';
  if (dataDir !== 'memory') await mkdir(dataDir, { recursive: true });
  return openPGlite(dataDir === 'memory' ? undefined : dataDir);
}
