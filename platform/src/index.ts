import path from 'node:path';
import {
  type AppDirectory,
  type AppTokenKeyStore,
  createAppTokenKeyStore,
  createSigningKeyStore,
  createTokenIssuer,
  createTokenVerifier,
  type SigningKeyStore,
  TOKEN_LIFETIME_SECONDS,
  type TokenIssuer,
  type TokenVerifier,
} from './auth/index.js';
import { createFileBlobStore } from './blob/filesystem.js';
import { type BlobStore, blobServiceClientFromConnectionString, createBlobStore } from './blob/index.js';
import type { Config } from './config/index.js';
import { type Database, openDatabase } from './db/index.js';
import { type Migration, runMigrations } from './db/migrate.js';
import { createLogger, type Logger } from './logging/index.js';

/** The shared services every API is built from. */
export interface Platform {
  config: Config;
  logger: Logger;
  /** Migrated database. */
  db: Database;
  blob: BlobStore;
  /** Platform tokens: the signing keys, and the one issuer and verifier every API uses. */
  auth: PlatformAuth;
  /** Runs `fn` when the platform closes, before the database does, last registered first (e.g. stopping a loop). */
  onClose(fn: () => Promise<void>): void;
  /** Runs the `onClose` work, then releases what openPlatform opened (not what was passed in). */
  close(): Promise<void>;
}

/** The platform's token services. */
export interface PlatformAuth {
  keys: SigningKeyStore;
  issuer: TokenIssuer;
  verifier: TokenVerifier;
  /** The keys orgs registered for the PlatformAccessTokens their apps sign themselves. */
  appKeys: AppTokenKeyStore;
  /**
   * Sets the lookup of an org's own apps that app-signed PlatformAccessTokens are checked against (the host wires
   * Storage's application metadata here); without one, a token's org is the check.
   */
  useAppDirectory(directory: AppDirectory | undefined): void;
}

/** Token services on `db`'s signing keys with `iss` = `issuer`; the clock is for tests. */
export function createPlatformAuth(db: Database, issuer: string, now?: () => Date): PlatformAuth {
  // A retired key stays published for a token's lifetime plus a minute of clock leeway.
  const keys = createSigningKeyStore({
    db,
    retainRetiredMs: (TOKEN_LIFETIME_SECONDS + 60) * 1000,
    ...(now ? { now } : {}),
  });
  const appKeys = createAppTokenKeyStore({ db, ...(now ? { now } : {}) });
  let apps: AppDirectory | undefined;
  const options = { keys, issuer, appKeys, appDirectory: () => apps, ...(now ? { now } : {}) };
  return {
    keys,
    issuer: createTokenIssuer(options),
    verifier: createTokenVerifier(options),
    appKeys,
    useAppDirectory(directory) {
      apps = directory;
    },
  };
}

/** Services to use instead of opening them from config (tests, or a launcher that shares them). */
export interface PlatformOverrides {
  db?: Database;
  blob?: BlobStore;
  logger?: Logger;
}

/**
 * Opens the platform's services from `config`: logger, database (PGlite under `${dataDir}/pglite` or
 * DATABASE_URL) with `migrations` applied (the composing host's list of every feature's), and the blob store.
 */
export async function openPlatform(
  config: Config,
  migrations: readonly Migration[],
  overrides: PlatformOverrides = {},
): Promise<Platform> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  // Built first: a malformed connection string throws here, before anything needs closing.
  const blob =
    overrides.blob ??
    (config.blobPath
      ? createFileBlobStore(config.blobPath)
      : createBlobStore(blobServiceClientFromConnectionString(config.blobConnectionString)));
  const db =
    overrides.db ??
    (await openDatabase({ url: config.databaseUrl, dataDir: path.join(config.dataDir, 'pglite'), logger }));
  try {
    const report = await runMigrations(db, migrations);
    if (report.applied.length > 0) logger.info('migrations applied', { versions: report.applied });
  } catch (error) {
    if (!overrides.db) await db.close();
    throw error;
  }
  const closers: (() => Promise<void>)[] = [];
  return {
    config,
    logger,
    db,
    blob,
    auth: createPlatformAuth(db, config.issuer),
    onClose(fn) {
      closers.push(fn);
    },
    async close() {
      for (const fn of closers.splice(0).reverse()) {
        await fn().catch((error: unknown) => logger.error('closing a platform service failed', { error }));
      }
      if (!overrides.db) await db.close();
    },
  };
}
