import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { type Config, ConfigError, loadConfig } from '../../platform/src/config/index.js';
import { openPlatform, type Platform, type PlatformOverrides } from '../../platform/src/index.js';
import { provisionerOf } from '../../provisioner/src/host.js';
import { createApis, dispatchApis, prepareApis } from './apis.js';
import { hostMigrations } from './migrations.js';
import { checkPlatformStorage, scheduleBlobSweep } from './storage/blob-sweep-schedule.js';

/** Options of startFunctionsHost; everything defaults from the environment. */
export interface FunctionsHostOptions {
  /** Settings; `loadConfig()` from process.env when omitted. */
  config?: Config;
  /** Port to listen on; `config.port` (7071 by default) when omitted, 0 for any free port. */
  port?: number;
  /** Interface to bind; `config.host` (FUNCTIONS_HOST, 127.0.0.1 by default) when omitted. */
  hostname?: string;
  /** Services to use instead of opening them from config. */
  platform?: PlatformOverrides;
}

/** A running local functions host. */
export interface FunctionsHost {
  /** Base URL, e.g. `http://127.0.0.1:7071`. */
  url: string;
  port: number;
  /** The shared services the APIs run on. */
  platform: Platform;
  /** Stops accepting requests and the blob sweep, ends open connections, closes the database. */
  close(): Promise<void>;
}

/**
 * Serves every platform API with @hono/node-server, the local stand-in for the Azure Functions host, and runs the
 * orphan-blob sweep every `config.blobSweep.intervalMinutes` as the Azure timer trigger does (not at start).
 */
export async function startFunctionsHost(options: FunctionsHostOptions = {}): Promise<FunctionsHost> {
  const config = options.config ?? loadConfig();
  const platform = await openPlatform(config, hostMigrations, options.platform);
  try {
    await prepareApis(platform);
  } catch (error) {
    await platform.close();
    throw error;
  }
  const hostname = options.hostname ?? config.host;
  const fetch = dispatchApis(createApis(platform));
  let address: AddressInfo;
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch, port: options.port ?? config.port, hostname }, (info) => {
      address = info;
      resolve(started);
    });
    started.once('error', reject);
  }).catch(async (error: unknown) => {
    await platform.close();
    throw error;
  });
  const { port } = address!;
  const sweep = scheduleBlobSweep({
    intervalMs: config.blobSweep.intervalMinutes * 60_000,
    run: () => checkPlatformStorage(platform),
    logger: platform.logger,
  });
  // The provisioner's reconciler runs as a loop here (a timer trigger in Azure). This host is the only
  // reconciler on its database, so leases a previous run left are released at once.
  const provisioner = await provisionerOf(platform);
  await provisioner.reconciler.releaseLeases();
  provisioner.reconciler.start({ intervalMs: provisioner.config.reconcileIntervalMs });
  provisioner.autoscaler?.start(provisioner.config.autoscale.intervalMs);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
    port,
    platform,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          if ('closeAllConnections' in server) server.closeAllConnections();
        });
        await sweep.stop();
        await platform.close();
      })();
      return closing;
    },
  };
}

/** CLI entry: starts the host, logs one JSON line with its URL, and shuts down cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const host = await startFunctionsHost({ config });
  host.platform.logger.info('functions host listening', { url: host.url });
  const stop = (signal: NodeJS.Signals) => {
    host.platform.logger.info('functions host stopping', { signal });
    host.close().then(
      () => process.exit(0),
      (error: unknown) => {
        host.platform.logger.error('functions host failed to stop cleanly', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`functions host failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
