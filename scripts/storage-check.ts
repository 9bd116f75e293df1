/**
 * `npm run storage:check [-- --repair] [-- --verify-content] [-- --json]`: the Storage consistency check
 * (functions/src/storage/consistency.ts) on the platform the environment names, as the functions host opens it:
 * rows without blobs, size (and with --verify-content MD5) mismatches, orphan blobs and leftovers of uploads cut
 * short. Without --repair it changes nothing; with it, it removes orphans and leftovers older than the grace period
 * (BLOB_SWEEP_GRACE_MINUTES), never a blob a row references. Exits 1 when a data element is inconsistent.
 *
 * With no settings it checks `npm start`'s data folder (`.data`, blobs in `.data/blobs` unless it holds Azurite's).
 * The embedded PGlite database is one process's: run it while `npm start` is stopped (any time with DATABASE_URL).
 */
import { resolve } from 'node:path';
import { hostMigrations } from '../functions/src/migrations.js';
import { checkPlatformStorage } from '../functions/src/storage/blob-sweep-schedule.js';
import { azuriteConnectionString, ConfigError, loadConfig } from '../platform/src/config/index.js';
import { openPlatform } from '../platform/src/index.js';
import { createLogger } from '../platform/src/logging/index.js';
import { localBlobStoreOf } from './config.js';

/** `npm start`'s defaults, for what the environment does not set. */
function localDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.PLATFORM_MODE && env.PLATFORM_MODE !== 'local') return env;
  const dataDir = resolve(env.DATA_DIR ?? '.data');
  const blobs = resolve(dataDir, 'blobs');
  const store =
    env.BLOB_PATH || env.BLOB_CONNECTION_STRING
      ? {}
      : localBlobStoreOf(
            dataDir,
            env.BLOB_STORE === 'azurite' || env.BLOB_STORE === 'filesystem' ? env.BLOB_STORE : undefined,
          ) === 'filesystem'
        ? { BLOB_PATH: blobs }
        : { BLOB_CONNECTION_STRING: azuriteConnectionString(Number(env.AZURITE_PORT ?? 10000)) };
  return { PLATFORM_MODE: 'local', SEED_TEST_DATA: 'false', TEST_IDP: 'false', ...store, ...env };
}

async function main(args: string[]): Promise<number> {
  const repair = args.includes('--repair');
  const verifyContent = args.includes('--verify-content');
  const json = args.includes('--json');
  const config = loadConfig(localDefaults(process.env));
  // Log lines go to stderr, so stdout is the report alone (JSON with --json).
  const logger = createLogger({ level: 'warn', sink: (line) => process.stderr.write(`${line}\n`) });
  const platform = await openPlatform(config, hostMigrations, { logger });
  try {
    const report = await checkPlatformStorage(platform, { repair, verifyContent });
    if (json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const lines = [
        `Data elements checked: ${report.elements}`,
        `Inconsistent elements: ${report.findings.length}`,
        ...report.findings.map((f) => `  ${f.kind}  ${f.instanceId}/${f.dataId}: ${f.detail}`),
        `Orphan blobs: ${repair ? `${report.orphans.deleted} removed` : `${report.orphans.orphans ?? 0} found (--repair removes them)`}` +
          `, ${report.orphans.skippedYoung} younger than the grace period left alone`,
        `Leftovers of uploads cut short: ${report.incomplete.files} (${report.incomplete.bytes} bytes)` +
          (report.incomplete.removed ? ' removed' : report.incomplete.files > 0 ? ' (--repair removes them)' : ''),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return report.findings.length > 0 ? 1 : 0;
  } finally {
    await platform.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
