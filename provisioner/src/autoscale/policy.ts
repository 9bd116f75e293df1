/**
 * Usage-based autoscaling, decided the way Kubernetes' HorizontalPodAutoscaler (autoscaling/v2)
 * decides: a raw recommendation per metric (`ceil(current * value / target)`, nothing within a 10 %
 * tolerance), the largest of them, stabilised over a window (scale down only to the highest
 * recommendation of the last `scaleDownStabilizationSeconds`, up only to the lowest of the last
 * `scaleUpStabilizationSeconds`), limited by HPA's default scale-up policy (at most double, or +4
 * replicas, per 15 s) and bounded by the app's min and max replicas.
 */

import type { AutoscalingSpec } from '../state/types.js';

/** One app's usage at the edge: requests per second (recent average) and requests in flight now. */
export interface Usage {
  requestsPerSecond: number;
  inFlight: number;
}

/** HPA's tolerance: a metric within 10 % of its target changes nothing. */
export const TOLERANCE = 0.1;
/** HPA's default scale-up policies, the larger applying: +100 % or +4 replicas per period. */
export const SCALE_UP_PERIOD_MS = 15_000;
const SCALE_UP_PODS = 4;
const SCALE_UP_PERCENT = 100;

/** The raw recommendation: the most replicas any metric asks for (the current count when none does). */
export function rawRecommendation(current: number, usage: Usage, spec: AutoscalingSpec): number {
  const replicas = Math.max(current, 1);
  let desired: number | null = null;
  const signals: [number, number | null][] = [
    [usage.requestsPerSecond, spec.requestsPerSecond],
    [usage.inFlight, spec.inFlight],
  ];
  for (const [total, target] of signals) {
    if (target === null || target <= 0) continue;
    const ratio = total / (replicas * target);
    const wanted = Math.abs(ratio - 1) <= TOLERANCE ? replicas : Math.ceil(replicas * ratio - 1e-9);
    desired = Math.max(desired ?? 0, wanted);
  }
  return desired ?? current;
}

/** A recommendation or a scale change at a time, kept per app. */
export interface TimedCount {
  at: number;
  replicas: number;
}

/** What one app's autoscaler remembers between decisions. */
export interface ScalingHistory {
  recommendations: TimedCount[];
  /** Scale-ups made, for the per-period scale-up limit. */
  scaleUps: { at: number; added: number }[];
}

/** A fresh history as if the app had been recommended its current count now, so no restart scales down at once. */
export function newHistory(current: number, now: number): ScalingHistory {
  return { recommendations: [{ at: now, replicas: current }], scaleUps: [] };
}

/** The decision for one app, and the reasoning an operator can read in its operation. */
export interface Decision {
  replicas: number;
  raw: number;
  reason: string;
}

/**
 * Decides the replica count from the current count, usage and bounds, recording the recommendation
 * in `history` (pruned to the longer window). Pure but for `history`.
 */
export function decide(
  current: number,
  usage: Usage,
  bounds: { minReplicas: number; maxReplicas: number },
  spec: AutoscalingSpec,
  history: ScalingHistory,
  now: number,
): Decision {
  const clamp = (n: number) => Math.min(Math.max(n, bounds.minReplicas), bounds.maxReplicas);
  const raw = clamp(rawRecommendation(current, usage, spec));
  const upCutoff = now - spec.scaleUpStabilizationSeconds * 1000;
  const downCutoff = now - spec.scaleDownStabilizationSeconds * 1000;
  let up = raw;
  let down = raw;
  for (const r of history.recommendations) {
    if (r.at > upCutoff) up = Math.min(up, r.replicas);
    if (r.at > downCutoff) down = Math.max(down, r.replicas);
  }
  history.recommendations.push({ at: now, replicas: raw });
  const keep = Math.min(upCutoff, downCutoff, now - SCALE_UP_PERIOD_MS);
  history.recommendations = history.recommendations.filter((r) => r.at > keep);
  history.scaleUps = history.scaleUps.filter((s) => s.at > now - SCALE_UP_PERIOD_MS);

  let replicas = current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  let reason: string;
  if (replicas > current) {
    const added = history.scaleUps.reduce((sum, s) => sum + s.added, 0);
    const periodStart = current - added;
    const limit = Math.max(periodStart + SCALE_UP_PODS, Math.ceil(periodStart * (1 + SCALE_UP_PERCENT / 100)));
    if (replicas > limit) replicas = Math.max(limit, current);
    reason = `usage ${describe(usage)} asks for ${raw} replicas`;
  } else if (replicas < current) {
    reason = `usage ${describe(usage)} has asked for at most ${replicas} replicas for ${spec.scaleDownStabilizationSeconds} s`;
  } else {
    reason = raw === current ? 'usage matches the targets' : `held by the stabilisation window (raw ${raw})`;
  }
  replicas = clamp(replicas);
  if (replicas > current) history.scaleUps.push({ at: now, added: replicas - current });
  return { replicas, raw, reason };
}

function describe(usage: Usage): string {
  return `${usage.requestsPerSecond.toFixed(1)} req/s, ${usage.inFlight} in flight`;
}
