import { afterEach, describe, expect, it } from 'vitest';
import { openProvisionerHarness, type ProvisionerHarness } from '../../../test/support/provisioner.js';
import { closedUrl, edgeSeries, type FakeEdge, startFakeEdge } from '../../test/support/dashboard.js';
import { bucketQuantile, edgeMetricsClient } from '../edge/metrics.js';
import type { buildOverview } from './overview.js';

let h: ProvisionerHarness | undefined;
let edge: FakeEdge | undefined;
afterEach(async () => {
  await h?.close();
  await edge?.close();
  h = undefined;
  edge = undefined;
});

/** The overview as the API answers it (its values are JSON already: strings, numbers, null). */
type Overview = Awaited<ReturnType<typeof buildOverview>>;

async function json(response: Response): Promise<Overview> {
  return (await response.json()) as Overview;
}

/** A harness whose provisioner reads `edge` (or an edge at `url`) for its SLA figures. */
async function withEdge(target: { url: string; token: string } | undefined): Promise<ProvisionerHarness> {
  h = await openProvisionerHarness(target ? { edge: { url: target.url, token: target.token } } : {});
  return h;
}

/** ttd (forms at two releases, 2 replicas) and brg (one app), all rolled out. */
async function deployTwoOrgs(harness: ProvisionerHarness): Promise<void> {
  for (const org of ['ttd', 'brg']) expect((await harness.call('PUT', `/clusters/${org}`, {})).status).toBe(202);
  await harness.settle();
  const ttd = await harness.orgToken('ttd');
  const forms = { image: 'registry.test/ttd/forms:1.0.0', minReplicas: 2, maxReplicas: 4 };
  expect((await harness.call('PUT', '/clusters/ttd/apps/forms', forms, ttd)).status).toBe(202);
  await harness.settle();
  const next = { ...forms, image: 'registry.test/ttd/forms:1.1.0' };
  expect((await harness.call('PUT', '/clusters/ttd/apps/forms', next, ttd)).status).toBe(202);
  await harness.settle();
  const brg = { image: 'registry.test/brg/tax:3.0.0', minReplicas: 1, maxReplicas: 2 };
  expect((await harness.call('PUT', '/clusters/brg/apps/tax', brg, await harness.orgToken('brg'))).status).toBe(202);
  await harness.settle();
}

/** The fake edge's figures: forms has two consumers (18 fast calls, 2 slow ones with refusals), tax one. */
function twoOrgReport(org: string | undefined) {
  const series = [
    edgeSeries({ org: 'ttd', app: 'forms', latencies: new Array(18).fill(3) }),
    edgeSeries({
      org: 'ttd',
      app: 'forms',
      consumer: 'acme',
      latencies: [200, 200],
      status5xx: 1,
      rejections: { rate: 2, quota: 1 },
    }),
    edgeSeries({ org: 'brg', app: 'tax', latencies: [40], rejections: { circuit: 4 } }),
  ].filter((s) => org === undefined || s.org === org);
  const apps = [
    { org: 'ttd', app: 'forms', inFlight: 3, requestsPerSecond: 2.5 },
    { org: 'brg', app: 'tax', inFlight: 0, requestsPerSecond: 0.1 },
  ].filter((a) => org === undefined || a.org === org);
  return { series, apps };
}

describe('GET /provisioner/api/v1/overview', () => {
  it("shows each app's quota used by its named consumers this period, most used first, read from the edge's limiters", async () => {
    edge = await startFakeEdge();
    edge.report = twoOrgReport;
    const asked: string[] = [];
    edge.usage = (consumer, app) => {
      asked.push(`${consumer} ${app}`);
      if (consumer !== 'acme' || app !== 'ttd/forms') return null;
      return {
        consumer,
        plan: 'gold',
        app,
        quota: {
          period: 'day',
          periodName: '2026-11-25',
          resetsAt: '2026-11-26T00:00:00.000Z',
          calls: { used: 8, limit: 10 },
        },
      };
    };
    const harness = await withEdge(edge);
    await deployTwoOrgs(harness);
    const overview = await json(await harness.call('GET', '/overview'));
    const forms = overview.clusters[1]?.apps[0];
    expect(forms?.sla?.quotaUsed).toEqual([
      {
        consumer: 'acme',
        period: 'day',
        periodName: '2026-11-25',
        resetsAt: '2026-11-26T00:00:00.000Z',
        calls: { used: 8, limit: 10 },
      },
    ]);
    expect(overview.clusters[0]?.apps[0]?.sla?.quotaUsed).toEqual([]);
    // Named consumers only: anonymous callers have no quota to look up.
    expect(asked).toEqual(['acme ttd/forms']);
  });

  it('answers 401 without a token and 403 for a user token or an org token without altinn:appdeploy', async () => {
    const harness = await withEdge(undefined);
    const none = await harness.call('GET', '/overview', undefined, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    const user = await harness.auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 3 });
    expect((await harness.call('GET', '/overview', undefined, user)).status).toBe(403);
    const noScope = await harness.orgToken('ttd', ['altinn:serviceowner/instances.read']);
    expect((await harness.call('GET', '/overview', undefined, noScope)).status).toBe(403);
  });

  it("shows the admin every org's clusters, apps, replicas, releases and operations with per-app SLA figures", async () => {
    edge = await startFakeEdge();
    edge.report = twoOrgReport;
    const harness = await withEdge(edge);
    await deployTwoOrgs(harness);
    const response = await harness.call('GET', '/overview');
    expect(response.status).toBe(200);
    const overview = await json(response);
    expect(overview.orgs).toEqual(['brg', 'ttd']);
    expect(overview.edge).toEqual({ status: 'ok' });
    expect(overview.clusters.map((c) => [c.org, c.phase, c.spec.region])).toEqual([
      ['brg', 'Ready', 'norwayeast'],
      ['ttd', 'Ready', 'norwayeast'],
    ]);
    const forms = overview.clusters[1]?.apps[0];
    expect(forms).toMatchObject({
      org: 'ttd',
      app: 'forms',
      phase: 'Ready',
      desiredRevision: 2,
      servingRevision: 2,
      version: '1.1.0',
      replicas: { desired: 2, ready: 2 },
    });
    expect(forms?.sla).toMatchObject({
      requests: 20,
      consumers: 2,
      requestsPerSecond: 2.5,
      inFlight: 3,
      status: { '2xx': 19, '5xx': 1 },
      rejections: { rate: 2, quota: 1 },
    });
    // Percentiles of the merged histogram (18 calls in 2-5 ms, 2 in 100-250 ms), not of one consumer.
    expect(forms?.sla?.latencyMs.p50).toBeCloseTo(2 + 3 * (10 / 18), 5);
    expect(forms?.sla?.latencyMs.p95).toBeCloseTo(175, 5);
    expect(forms?.sla?.latencyMs.p99).toBeCloseTo(235, 5);
    expect(overview.clusters[0]?.apps[0]?.sla).toMatchObject({ requests: 1, rejections: { circuit: 4 } });
    expect(overview.releases.map((r) => [`${r.org}/${r.app}`, r.revision, r.serving])).toEqual([
      ['brg/tax', 1, true],
      ['ttd/forms', 2, true],
      ['ttd/forms', 1, false],
    ]);
    expect(overview.operations).toHaveLength(5);
    expect(overview.operations[0]).toMatchObject({ kind: 'app.deploy', org: 'brg', app: 'tax', status: 'Succeeded' });
    expect(overview.operations.every((o) => typeof o.reason === 'string')).toBe(true);
    expect(edge.requests[0]).toEqual({ path: '/_edge/metrics', authorization: `Bearer ${edge.token}` });
    const bearer = `Bearer ${edge.token}`;
    expect(edge.requests.every((r) => r.authorization === bearer)).toBe(true);
  });

  it('keeps an org token to its own org, asks the edge for that org only, and never shows the edge token', async () => {
    edge = await startFakeEdge();
    edge.report = twoOrgReport;
    const harness = await withEdge(edge);
    await deployTwoOrgs(harness);
    const response = await harness.call('GET', '/overview', undefined, await harness.orgToken('ttd'));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(edge.token);
    expect(text).not.toContain(edge.url);
    const overview = JSON.parse(text) as Overview;
    expect(overview.orgs).toEqual(['ttd']);
    expect(overview.clusters.map((c) => c.org)).toEqual(['ttd']);
    expect(overview.sla.map((s) => `${s.org}/${s.app}`)).toEqual(['ttd/forms']);
    expect(new Set(overview.operations.map((o) => o.org))).toEqual(new Set(['ttd']));
    expect(overview.releases.every((r) => r.org === 'ttd')).toBe(true);
    // The metrics of ttd only, and quota lookups for ttd's apps only.
    expect(edge.requests.map((r) => r.path)).toEqual([
      '/_edge/metrics?org=ttd',
      '/_edge/consumers/acme/usage?app=ttd%2Fforms',
    ]);
  });

  it('still answers 200 with the provisioner state and says so when the edge is unreachable', async () => {
    const harness = await withEdge({ url: await closedUrl(), token: 'fake-edge-admin-token-0123456789' });
    expect((await harness.call('PUT', '/clusters/ttd', {})).status).toBe(202);
    await harness.settle();
    const response = await harness.call('GET', '/overview');
    expect(response.status).toBe(200);
    const overview = await json(response);
    expect(overview.edge).toEqual({ status: 'unreachable', detail: 'The edge could not be reached.' });
    expect(overview.clusters.map((c) => c.org)).toEqual(['ttd']);
    expect(overview.sla).toEqual([]);
  });

  it('says when no edge is configured, and when the edge refuses the token', async () => {
    const unconfigured = await json(await (await withEdge(undefined)).call('GET', '/overview'));
    expect(unconfigured.edge.status).toBe('unconfigured');
    await h?.close();
    edge = await startFakeEdge();
    const refused = await json(
      await (await withEdge({ url: edge.url, token: 'a-wrong-edge-token-0123456789' })).call('GET', '/overview'),
    );
    expect(refused.edge).toEqual({ status: 'error', detail: 'The edge answered 401 to GET /_edge/metrics.' });
  });

  it('gives up on an edge that does not answer within its timeout', async () => {
    edge = await startFakeEdge();
    edge.hang = true;
    const started = Date.now();
    const result = await edgeMetricsClient({ baseUrl: edge.url, token: edge.token, timeoutMs: 150 }).read();
    expect(result).toEqual({ status: 'unreachable', detail: 'The edge did not answer within 150 ms.', apps: [] });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('bucketQuantile', () => {
  it('estimates as the edge does: linear within a bucket, the last bound for +Inf, null without samples', () => {
    const buckets = [
      { le: '10', count: 0 },
      { le: '100', count: 4 },
      { le: '+Inf', count: 1 },
    ];
    expect(bucketQuantile(buckets, 0.5)).toBeCloseTo(10 + 90 * (2.5 / 4), 5);
    expect(bucketQuantile(buckets, 0.99)).toBe(100);
    expect(bucketQuantile([{ le: '1', count: 0 }], 0.5)).toBeNull();
  });
});
