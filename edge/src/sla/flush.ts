import type { Env } from '../env';
import { edgeLog } from '../log';
import { metricsRecorder } from './metrics';

const METRICS_FLUSH_MS = 1_000;

/** Flushes this isolate's metric deltas in the background when the last flush is old enough. */
export function flushWhenDue(env: Env, ctx: ExecutionContext): void {
  if (env.SLA_METRICS === undefined || !metricsRecorder.due(METRICS_FLUSH_MS)) return;
  ctx.waitUntil(flushMetrics(env));
}

/** Hands this isolate's metric deltas to the metrics object. */
export async function flushMetrics(env: Env): Promise<void> {
  if (env.SLA_METRICS === undefined) return;
  const batch = metricsRecorder.take();
  try {
    await env.SLA_METRICS.getByName('edge').ingest(batch);
  } catch (err) {
    edgeLog.warn('metrics flush failed', { error: String(err) });
  }
}
