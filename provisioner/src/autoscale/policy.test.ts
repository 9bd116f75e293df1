import { describe, expect, it } from 'vitest';
import { type AutoscalingSpec, DEFAULT_AUTOSCALING } from '../state/types.js';
import { decide, newHistory, rawRecommendation } from './policy.js';

const spec = (over: Partial<AutoscalingSpec> = {}): AutoscalingSpec => ({
  ...DEFAULT_AUTOSCALING,
  requestsPerSecond: 10,
  inFlight: null,
  scaleDownStabilizationSeconds: 60,
  ...over,
});
const bounds = { minReplicas: 1, maxReplicas: 10 };
const idle = { requestsPerSecond: 0, inFlight: 0 };

describe('raw recommendation (HPA formula)', () => {
  it('asks for ceil(total / target per replica) replicas', () => {
    expect(rawRecommendation(2, { requestsPerSecond: 45, inFlight: 0 }, spec())).toBe(5);
    expect(rawRecommendation(4, { requestsPerSecond: 5, inFlight: 0 }, spec())).toBe(1);
  });

  it('changes nothing within the 10 % tolerance', () => {
    expect(rawRecommendation(4, { requestsPerSecond: 43, inFlight: 0 }, spec())).toBe(4);
    expect(rawRecommendation(4, { requestsPerSecond: 37, inFlight: 0 }, spec())).toBe(4);
    expect(rawRecommendation(4, { requestsPerSecond: 45, inFlight: 0 }, spec())).toBe(5);
  });

  it('takes the largest recommendation of several metrics', () => {
    const both = spec({ requestsPerSecond: 10, inFlight: 2 });
    expect(rawRecommendation(1, { requestsPerSecond: 5, inFlight: 7 }, both)).toBe(4);
    expect(rawRecommendation(1, { requestsPerSecond: 35, inFlight: 1 }, both)).toBe(4);
  });

  it('keeps the current count when no metric has a target', () => {
    expect(rawRecommendation(3, { requestsPerSecond: 500, inFlight: 50 }, spec({ requestsPerSecond: null }))).toBe(3);
  });
});

describe('decide', () => {
  it('scales up at once, limited to double or +4 per 15 s, and never above maxReplicas', () => {
    const history = newHistory(1, 0);
    const heavy = { requestsPerSecond: 1000, inFlight: 0 };
    expect(decide(1, heavy, bounds, spec(), history, 1_000).replicas).toBe(5);
    // Within the same 15 s period the +4 is spent: period start 1, so at most 5.
    expect(decide(5, heavy, bounds, spec(), history, 5_000).replicas).toBe(5);
    // A new period: double of 5.
    expect(decide(5, heavy, bounds, spec(), history, 17_000).replicas).toBe(10);
    expect(decide(10, heavy, bounds, spec(), history, 40_000).replicas).toBe(10);
  });

  it('scales down only after the stabilisation window, to the highest recommendation in it', () => {
    const history = newHistory(4, 0);
    const s = spec({ scaleDownStabilizationSeconds: 60 });
    expect(decide(4, { requestsPerSecond: 20, inFlight: 0 }, bounds, s, history, 10_000).replicas).toBe(4);
    expect(decide(4, idle, bounds, s, history, 30_000).replicas).toBe(4);
    // 61 s after the start the 4 has left the window; the 2 recommended at 10 s has not.
    expect(decide(4, idle, bounds, s, history, 61_000).replicas).toBe(2);
    expect(decide(2, idle, bounds, s, history, 71_000).replicas).toBe(1);
  });

  it('never goes below minReplicas, and holds a brief dip inside the window', () => {
    const history = newHistory(3, 0);
    const s = spec({ scaleDownStabilizationSeconds: 30 });
    const b = { minReplicas: 2, maxReplicas: 6 };
    expect(decide(3, idle, b, s, history, 5_000).replicas).toBe(3);
    expect(decide(3, { requestsPerSecond: 30, inFlight: 0 }, b, s, history, 20_000).replicas).toBe(3);
    expect(decide(3, idle, b, s, history, 45_000).replicas).toBe(3);
    expect(decide(3, idle, b, s, history, 80_000).replicas).toBe(2);
  });

  it('waits for a scale-up stabilisation window when one is set', () => {
    const history = newHistory(1, 0);
    const s = spec({ scaleUpStabilizationSeconds: 20 });
    const busy = { requestsPerSecond: 30, inFlight: 0 };
    expect(decide(1, busy, bounds, s, history, 5_000).replicas).toBe(1);
    expect(decide(1, busy, bounds, s, history, 15_000).replicas).toBe(1);
    expect(decide(1, busy, bounds, s, history, 26_000).replicas).toBe(3);
  });

  it('brings a count outside new bounds back inside them', () => {
    expect(decide(8, idle, { minReplicas: 1, maxReplicas: 4 }, spec(), newHistory(8, 0), 1_000).replicas).toBe(4);
  });
});
