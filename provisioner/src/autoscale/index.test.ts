import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openProvisionerHarness, type ProvisionerHarness } from '../../../test/support/provisioner.js';
import { type Autoscaler, edgeUsage } from './index.js';

/** A loopback server answering `GET /_edge/metrics` as the edge does, with figures the test sets. */
const EDGE_TOKEN = 'edge-admin-token-for-autoscaling';
let metrics: { status: number; apps: { org: string; app: string; requestsPerSecond: number; inFlight: number }[] };
let reads = 0;
let server: Server;
let h: ProvisionerHarness;
let autoscaler: Autoscaler;

beforeEach(async () => {
  metrics = { status: 200, apps: [] };
  reads = 0;
  server = createServer((req, res) => {
    reads += 1;
    if (req.url !== '/_edge/metrics' || req.headers.authorization !== `Bearer ${EDGE_TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(metrics.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ series: [], apps: metrics.apps }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await openProvisionerHarness({}, { usage: edgeUsage({ baseUrl, token: EDGE_TOKEN }) });
  autoscaler = h.provisioner.autoscaler!;
  expect((await h.call('PUT', '/clusters/ttd', {})).status).toBe(202);
  await h.settle();
});
afterEach(async () => {
  await h.close();
  await new Promise((resolve) => server.close(resolve));
});

const forms = (autoscaling?: Record<string, unknown>) => ({
  image: 'registry.test/ttd/forms:1.0.0',
  minReplicas: 1,
  maxReplicas: 4,
  replicas: 1,
  ...(autoscaling ? { autoscaling } : {}),
});

async function deploy(body: Record<string, unknown>, app = 'forms'): Promise<void> {
  const response = await h.call('PUT', `/clusters/ttd/apps/${app}`, body, await h.orgToken('ttd'));
  expect(response.status, await response.clone().text()).toBe(202);
  await h.settle();
}

async function appOf(app = 'forms'): Promise<Record<string, any>> {
  return (await (await h.call('GET', `/clusters/ttd/apps/${app}`)).json()) as Record<string, any>;
}

describe('autoscaler', () => {
  it('scales an app up from its usage at the edge through a scale operation by the autoscaler, within maxReplicas', async () => {
    await deploy(forms({ requestsPerSecond: 10 }));
    metrics.apps = [{ org: 'ttd', app: 'forms', requestsPerSecond: 25, inFlight: 3 }];
    const [decision] = await autoscaler.tick();
    expect(decision).toMatchObject({ org: 'ttd', app: 'forms', from: 1, to: 3 });
    const operation = (await (await h.call('GET', `/operations/${decision?.operationId}`)).json()) as Record<
      string,
      any
    >;
    expect(operation).toMatchObject({ kind: 'app.scale', createdBy: 'autoscaler' });
    await h.settle();
    expect((await appOf()).spec.replicas).toBe(3);
    expect(h.provider.apps.get('ttd/forms')?.scale.replicas).toBe(3);

    metrics.apps = [{ org: 'ttd', app: 'forms', requestsPerSecond: 900, inFlight: 3 }];
    h.clock.advance(20_000);
    expect((await autoscaler.tick())[0]).toMatchObject({ from: 3, to: 4 });
    await h.settle();
    h.clock.advance(20_000);
    expect(await autoscaler.tick()).toEqual([]);
    expect((await appOf()).spec.replicas).toBe(4);
  });

  it('scales down to minReplicas only once usage has stayed low for the stabilisation window', async () => {
    await deploy({ ...forms({ requestsPerSecond: 10, scaleDownStabilizationSeconds: 60 }), replicas: 4 });
    metrics.apps = [];
    expect(await autoscaler.tick()).toEqual([]);
    h.clock.advance(30_000);
    expect(await autoscaler.tick()).toEqual([]);
    h.clock.advance(31_000);
    expect((await autoscaler.tick())[0]).toMatchObject({ from: 4, to: 1 });
    await h.settle();
    expect((await appOf()).spec.replicas).toBe(1);
  });

  it('leaves an app alone while a rollout runs, and decides again after it', async () => {
    await deploy(forms({ requestsPerSecond: 10 }));
    h.provider.rolloutPolls = Number.POSITIVE_INFINITY;
    const rollout = await h.call(
      'PUT',
      '/clusters/ttd/apps/forms',
      { ...forms({ requestsPerSecond: 10 }), image: 'registry.test/ttd/forms:2.0.0' },
      await h.orgToken('ttd'),
    );
    expect(rollout.status).toBe(202);
    metrics.apps = [{ org: 'ttd', app: 'forms', requestsPerSecond: 40, inFlight: 0 }];
    expect(await autoscaler.tick()).toEqual([]);
    expect((await appOf()).spec.replicas).toBe(1);
    h.provider.rolloutPolls = 1;
    await h.settle();
    expect((await appOf()).status.phase).toBe('Ready');
    expect((await autoscaler.tick())[0]).toMatchObject({ from: 1, to: 4 });
  });

  it('keeps the replica count of an app with autoscaling off, and of every app when usage cannot be read', async () => {
    await deploy(forms({ enabled: false }));
    await deploy(forms({ requestsPerSecond: 10 }), 'other');
    metrics.apps = [
      { org: 'ttd', app: 'forms', requestsPerSecond: 500, inFlight: 50 },
      { org: 'ttd', app: 'other', requestsPerSecond: 500, inFlight: 50 },
    ];
    metrics.status = 503;
    expect(await autoscaler.tick()).toEqual([]);
    expect(reads).toBe(1);
    metrics.status = 200;
    const decisions = await autoscaler.tick();
    expect(decisions.map((d) => d.app)).toEqual(['other']);
    await h.settle();
    expect((await appOf('forms')).spec.replicas).toBe(1);
    expect((await appOf('forms')).spec.autoscaling).toMatchObject({ enabled: false });
  });

  it('refuses bad autoscaling settings with 400 naming the field, and stores nothing', async () => {
    const token = await h.orgToken('ttd');
    for (const [autoscaling, field] of [
      [{ requestsPerSecond: 0 }, 'autoscaling.requestsPerSecond'],
      [{ inFlight: 1.5 }, 'autoscaling.inFlight'],
      [{ scaleDownStabilizationSeconds: -1 }, 'autoscaling.scaleDownStabilizationSeconds'],
      [{ scaleUpStabilizationSeconds: 4000 }, 'autoscaling.scaleUpStabilizationSeconds'],
      [{ requestsPerSecond: null, inFlight: null }, 'autoscaling.requestsPerSecond'],
      [{ cpu: 75 }, 'autoscaling'],
    ] as const) {
      const response = await h.call('PUT', '/clusters/ttd/apps/forms', forms(autoscaling), token);
      expect(response.status, JSON.stringify(autoscaling)).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.text()).toContain(field);
    }
    expect((await h.call('GET', '/clusters/ttd/apps/forms')).status).toBe(404);
  });

  it('changes settings alone without an operation, and shows them', async () => {
    await deploy(forms({ requestsPerSecond: 10 }));
    const response = await h.call(
      'PUT',
      '/clusters/ttd/apps/forms',
      forms({ requestsPerSecond: 20, scaleDownStabilizationSeconds: 120 }),
      await h.orgToken('ttd'),
    );
    expect(response.status).toBe(200);
    expect((await appOf()).spec.autoscaling).toEqual({
      enabled: true,
      requestsPerSecond: 20,
      inFlight: 10,
      scaleUpStabilizationSeconds: 0,
      scaleDownStabilizationSeconds: 120,
    });
  });
});
