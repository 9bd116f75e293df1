import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testBlobConnectionString } from '../../test/support/blob.js';
import { openTestDatabase } from '../../test/support/database.js';
import { loadConfig } from './config/index.js';
import type { Database } from './db/index.js';
import { platformMigrations } from './db/migrations.js';
import { openPlatform } from './index.js';
import { silentLogger } from './logging/index.js';

describe('openPlatform', () => {
  let db: Database;
  beforeEach(async () => {
    db = await openTestDatabase({ migrations: [] });
  });
  afterEach(async () => {
    await db.close();
  });

  it('applies the platform migrations to the database and reaches the blob store', async () => {
    const config = loadConfig({ PLATFORM_MODE: 'local', BLOB_CONNECTION_STRING: testBlobConnectionString() });
    const platform = await openPlatform(config, platformMigrations, { db, logger: silentLogger });
    expect(await db.query('SELECT count(*) AS n FROM platform_info')).toEqual([{ n: '1' }]);
    await expect(platform.blob.ping()).resolves.toBeUndefined();
    await platform.close();
    await expect(db.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });

  it('fails on a malformed blob connection string before touching the database', async () => {
    const config = loadConfig({
      PLATFORM_MODE: 'local',
      BLOB_CONNECTION_STRING: 'AccountName=x;BlobEndpoint=http://127.0.0.1:1/x',
    });
    await expect(openPlatform(config, platformMigrations, { db, logger: silentLogger })).rejects.toThrow(
      /Connection String/i,
    );
    expect(await db.query("SELECT to_regclass('platform_info')::text AS found")).toEqual([{ found: null }]);
  });
});
