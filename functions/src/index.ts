import fx from '@azure/functions';
import { azureHandler } from '../../platform/src/azure/index.js';
import { loadConfig } from '../../platform/src/config/index.js';
import { openPlatform, type Platform } from '../../platform/src/index.js';
import { provisionerOf } from '../../provisioner/src/host.js';
import { apiDefinitions, azureRouteOf, prepareApis } from './apis.js';
import { hostMigrations } from './migrations.js';
import type { BlobSweepReport } from './storage/blob-sweep.js';
import { checkPlatformStorage } from './storage/blob-sweep-schedule.js';

// Stream request and response bodies instead of buffering them (needs Functions host 4.28+).
fx.app.setup({ enableHttpStream: true });

// Read once at load, so a bad setting fails the worker at start and the timer schedule below is known.
const config = loadConfig();

let platform: Promise<Platform> | undefined;

/** Opens the platform once per worker, on the first request (or timer tick), and prepares the APIs; retried after a failure. */
export function sharedPlatform(): Promise<Platform> {
  platform ??= openPlatform(config, hostMigrations)
    .then(async (opened) => {
      try {
        await prepareApis(opened);
      } catch (error) {
        await opened.close();
        throw error;
      }
      return opened;
    })
    .catch((error: unknown) => {
      platform = undefined;
      throw error;
    });
  return platform;
}

const METHODS: fx.HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** One Azure HTTP handler per API, keyed by API name, exported so tests can call them with real HttpRequests. */
export const handlers: Readonly<Record<string, fx.HttpHandler>> = Object.fromEntries(
  apiDefinitions.map((api) => [api.name, azureHandler(async () => api.create(await sharedPlatform()))]),
);

// The root catch-all goes last; the Functions host also prefers literal route segments over a catch-all.
for (const api of [...apiDefinitions].sort((a, b) => b.prefix.length - a.prefix.length)) {
  fx.app.http(api.name, {
    route: azureRouteOf(api),
    methods: METHODS,
    authLevel: 'anonymous',
    handler: handlers[api.name] as fx.HttpHandler,
  });
}

/**
 * The timer trigger's handler: one storage consistency check with its safe repairs (the orphan-blob sweep, leftovers
 * of uploads cut short) on the shared platform; answers the sweep's report (for tests).
 */
export async function blobSweepTimer(timer: fx.Timer, context: fx.InvocationContext): Promise<BlobSweepReport> {
  if (timer.isPastDue) context.warn('blob sweep running late: a scheduled occurrence was missed');
  return (await checkPlatformStorage(await sharedPlatform())).orphans;
}

fx.app.timer('blobSweep', { schedule: config.blobSweep.schedule, handler: blobSweepTimer, runOnStartup: false });

/**
 * The provisioner's timer trigger (every 10 s): repairs drift, then steps due operations until the slice
 * is used up, so no long operation ever sits in one invocation. Answers how many steps it ran (for tests).
 */
export async function provisionerReconcileTimer(timer: fx.Timer, context: fx.InvocationContext): Promise<number> {
  if (timer.isPastDue) context.warn('provisioner reconcile running late: a scheduled occurrence was missed');
  const { reconciler, config: settings } = await provisionerOf(await sharedPlatform());
  await reconciler.checkDrift();
  let stepped = 0;
  const until = Date.now() + settings.reconcileSliceMs;
  do {
    const count = await reconciler.pass();
    stepped += count;
    if (count === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, settings.pollMs)));
  } while (Date.now() < until);
  return stepped;
}

fx.app.timer('provisionerReconcile', {
  schedule: '*/10 * * * * *',
  handler: provisionerReconcileTimer,
  runOnStartup: false,
});

/** Usage-based autoscaling (every 15 s, HPA's sync period): answers the scale changes it asked for. */
export async function provisionerAutoscaleTimer(timer: fx.Timer, context: fx.InvocationContext): Promise<number> {
  if (timer.isPastDue) context.warn('provisioner autoscale running late: a scheduled occurrence was missed');
  const { autoscaler } = await provisionerOf(await sharedPlatform());
  return autoscaler ? (await autoscaler.tick()).length : 0;
}

fx.app.timer('provisionerAutoscale', {
  schedule: '*/15 * * * * *',
  handler: provisionerAutoscaleTimer,
  runOnStartup: false,
});
