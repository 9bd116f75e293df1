import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, expectProblem, routeOrg } from '../../test/helpers';
import { call, drain, newConsumer, putPlan } from '../../test/sla';
import { LATENCY_BUCKETS_MS, quantile, type SeriesReport } from './metrics';

beforeAll(async () => {
  await routeOrg('metorg');
});

interface Report {
  series: SeriesReport[];
  apps: { org: string; app: string; inFlight: number; requestsPerSecond: number }[];
}

describe('usage metrics', () => {
  it('counts requests, status classes, latency, bytes and rejections per org, app and consumer', async () => {
    await putPlan('metered', { rate: [{ limit: 3, windowSeconds: 60 }] });
    const { primary } = await newConsumer('meter', 'metered');
    for (const mode of ['sized', 'status&code=404', 'status&code=500']) {
      await drain(await call(`/metorg/app/?mode=${mode}`, primary));
    }
    await expectProblem(await call('/metorg/app/', primary), 429);
    await expectProblem(await call('/metorg/app/', 'wrong-key'), 401);
    await drain(await SELF.fetch('https://edge.test/metorg/app/?mode=sized'));

    const res = await admin('GET', '/metrics?org=metorg');
    expect(res.status).toBe(200);
    const report = (await res.json()) as Report;
    const meter = report.series.find((s) => s.consumer === 'meter' && s.app === 'app');
    expect(meter).toMatchObject({
      org: 'metorg',
      requests: 4,
      status: { '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 2, '5xx': 1 },
      bytesOut: 11,
      rejections: { rate: 1 },
    });
    expect(meter?.latencyMs.p50).not.toBeNull();
    expect(meter?.latencyMs.buckets.reduce((a, b) => a + b.count, 0)).toBe(4);
    expect(report.series.find((s) => s.consumer === 'invalid-key')?.rejections).toEqual({ auth: 1 });
    expect(report.series.find((s) => s.consumer === 'anonymous')).toMatchObject({ requests: 1, bytesOut: 11 });
    const app = report.apps.find((a) => a.app === 'app');
    expect(app).toMatchObject({ org: 'metorg', inFlight: 0 });
    expect(app?.requestsPerSecond).toBeGreaterThan(0);
    expect(report.series.every((s) => s.org === 'metorg')).toBe(true);
    expect(JSON.stringify(report)).not.toContain(primary);
  });

  it("shows in-flight requests per app while a capped caller's body streams", async () => {
    await putPlan('capped', { concurrency: 10 });
    const { primary } = await newConsumer('streamer', 'capped');
    const res = await call('/metorg/busy/?mode=stream&chunks=3&interval=100', primary);
    const during = (await (await admin('GET', '/metrics?org=metorg')).json()) as Report;
    expect(during.apps.find((a) => a.app === 'busy')?.inFlight).toBe(1);
    await res.text();
  });

  it('answers Prometheus text format', async () => {
    await drain(await SELF.fetch('https://edge.test/metorg/prom/'));
    const res = await admin('GET', '/metrics?format=prometheus');
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('# TYPE edge_requests_total counter');
    expect(text).toContain('edge_requests_total{org="metorg",app="prom",consumer="anonymous",code="2xx"} 1');
    expect(text).toContain('edge_request_duration_ms_bucket{org="metorg",app="prom",consumer="anonymous",le="+Inf"} 1');
    expect(text).toMatch(/edge_in_flight\{org="metorg",app="prom"\} 0/);
    expect(text).toMatch(/edge_requests_per_second\{org="metorg",app="prom"\} [0-9.]+/);
  });

  it('estimates quantiles from the histogram', () => {
    const buckets = new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);
    buckets[2] = 100; // all in (2, 5] ms
    expect(quantile(buckets, 0.5)).toBe(3.5);
    expect(quantile(buckets, 0.99)).toBeCloseTo(4.97);
    expect(quantile(new Array(buckets.length).fill(0), 0.5)).toBeNull();
  });
});
