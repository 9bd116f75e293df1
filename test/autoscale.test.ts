import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPlatform, startLocalPlatform, waitFor } from './support/platform.js';

/**
 * Usage-based autoscaling on the whole local platform as `npm start` runs it: load through the edge
 * (wrangler dev) raises the app's requests per second in the edge's metrics, the provisioner's
 * autoscaler reads them and scales the app's local replicas up within maxReplicas, and back down to
 * minReplicas once the load is gone and the stabilisation window has passed; no request fails.
 */
let platform: LocalPlatform;
let orgToken = '';

beforeAll(async () => {
  platform = await startLocalPlatform({ PROVISIONER_AUTOSCALE_INTERVAL_MS: '1000', PROVISIONER_POLL_MS: '200' });
  orgToken = await platform.orgToken();
}, 180_000);

afterAll(async () => {
  await platform?.stop();
}, 60_000);

const appUrl = () => `http://127.0.0.1:${platform.ports.functions}/provisioner/api/v1/clusters/ttd/apps/auto`;
const edgeUrl = () => `http://127.0.0.1:${platform.ports.edge}/ttd/auto/`;

async function appView(): Promise<Record<string, any>> {
  const response = await fetch(appUrl(), { headers: { authorization: `Bearer ${orgToken}` } });
  return (await response.json()) as Record<string, any>;
}

describe('usage-based autoscaling through the edge', () => {
  it('scales replicas up under load and back down after it, within minReplicas and maxReplicas, with no failed request', async () => {
    const put = await fetch(appUrl(), {
      method: 'PUT',
      headers: { authorization: `Bearer ${orgToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        image: 'app-runtime:1.0.0',
        minReplicas: 1,
        maxReplicas: 3,
        autoscaling: { requestsPerSecond: 5, inFlight: null, scaleDownStabilizationSeconds: 10 },
      }),
    });
    expect(put.status, await put.clone().text()).toBe(202);
    await waitFor(appView, (v) => v.status?.phase === 'Ready', 90_000);
    // The edge lists the app once its rollout completed.
    await waitFor(
      async () => (await fetch(edgeUrl())).status,
      (s) => s === 200,
      30_000,
    );

    const seen: number[] = [];
    const errors: string[] = [];
    let loading = true;
    const load = [0, 1, 2, 3].map(async () => {
      while (loading) {
        try {
          const response = await fetch(edgeUrl());
          await response.arrayBuffer();
          if (response.status !== 200) errors.push(String(response.status));
        } catch (error) {
          errors.push(String(error));
        }
      }
    });
    const watch = async () => {
      const view = await appView();
      seen.push(view.spec.replicas);
      return view;
    };
    try {
      const up = await waitFor(watch, (v) => v.spec.replicas > 1 && v.status.rollout?.readyReplicas > 1, 90_000, 500);
      expect(up.spec.replicas).toBeLessThanOrEqual(3);
    } finally {
      loading = false;
      await Promise.all(load);
    }
    await waitFor(watch, (v) => v.spec.replicas === 1 && v.status.phase === 'Ready', 120_000, 500);

    expect(errors).toEqual([]);
    expect(Math.max(...seen)).toBeGreaterThan(1);
    expect(seen.every((n) => n >= 1 && n <= 3)).toBe(true);
    const operations = (await (
      await fetch(`${appUrl()}/operations`, { headers: { authorization: `Bearer ${orgToken}` } })
    ).json()) as { operations: { kind: string; createdBy: string; status: string }[] };
    const scaled = operations.operations.filter((o) => o.kind === 'app.scale' && o.createdBy === 'autoscaler');
    // At least one scale up and the scale down, each an operation of the autoscaler's.
    expect(scaled.length).toBeGreaterThanOrEqual(2);
    expect(scaled.every((o) => o.status === 'Succeeded')).toBe(true);
  }, 300_000);
});
