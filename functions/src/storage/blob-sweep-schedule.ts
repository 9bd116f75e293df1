import type { Platform } from '../../../platform/src/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { type ConsistencyReport, checkStorageConsistency } from './consistency.js';
import { DATA_CONTAINER } from './index.js';

/**
 * The scheduled consistency check of the platform's data-element container: reports rows without blobs and size
 * mismatches, and repairs what is safe (orphan blobs and leftovers of uploads cut short, older than the grace period).
 */
export function checkPlatformStorage(
  platform: Platform,
  options: { repair?: boolean; verifyContent?: boolean; now?: () => Date } = {},
): Promise<ConsistencyReport> {
  return checkStorageConsistency({
    db: platform.db,
    blob: platform.blob,
    container: DATA_CONTAINER,
    now: options.now ?? (() => new Date()),
    graceMs: platform.config.blobSweep.graceMs,
    logger: platform.logger.child({ job: 'storage-check' }),
    repair: options.repair ?? true,
    verifyContent: options.verifyContent ?? false,
  });
}

/** A sweep repeating on an interval. */
export interface ScheduledBlobSweep {
  /** Stops the interval and resolves once a sweep still running has finished. */
  stop(): Promise<void>;
}

/** Options of scheduleBlobSweep. */
export interface BlobSweepScheduleOptions {
  /** Milliseconds between sweeps. */
  intervalMs: number;
  /** One sweep; its failures are expected to be logged by it (sweepOrphanBlobs does). */
  run: () => Promise<unknown>;
  /** Told when a tick is skipped because the previous sweep is still running. */
  logger: Logger;
}

/**
 * Runs `run` every `intervalMs` on an unref'd interval (it never keeps the process alive), the local host's
 * stand-in for the Azure timer trigger. A tick that finds the previous sweep still running is skipped.
 */
export function scheduleBlobSweep(options: BlobSweepScheduleOptions): ScheduledBlobSweep {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) {
      options.logger.debug('blob sweep still running, tick skipped');
      return;
    }
    running = options
      .run()
      // The sweep logged its failure; the next tick tries again.
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
