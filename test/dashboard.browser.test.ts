import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchApis } from '../functions/src/apis.js';
import { createLogger } from '../platform/src/logging/index.js';
import { PROVISIONER_PREFIX } from '../provisioner/src/api/views.js';
import { createDashboardPage, DASHBOARD_PATH } from '../provisioner/src/dashboard/page.js';
import { edgeSeries, type FakeEdge, startFakeEdge } from '../provisioner/test/support/dashboard.js';
import { countPixels, decodePng } from './support/png.js';
import { ADMIN_TOKEN, openProvisionerHarness, type ProvisionerHarness } from './support/provisioner.js';

/** Debian's Chromium (apt-get install chromium); no browser is downloaded. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let h: ProvisionerHarness;
let edge: FakeEdge;
let server: ReturnType<typeof serve>;
let base: string;
let profile: string;
let browser: BrowserContext;

beforeAll(async () => {
  edge = await startFakeEdge();
  // Figures that change on every read, as live traffic does.
  let reads = 0;
  edge.report = () => {
    reads += 1;
    const rps = [1, 4, 2, 6, 3][reads % 5] ?? 1;
    return {
      series: [
        edgeSeries({
          org: 'ttd',
          app: 'forms',
          latencies: Array.from({ length: 10 + reads }, (_, i) => (i % 4 === 0 ? 20 * (1 + (reads % 3)) : 3)),
          rejections: { rate: reads, quota: 2 },
          consumer: 'acme',
        }),
      ],
      apps: [{ org: 'ttd', app: 'forms', inFlight: reads % 3, requestsPerSecond: rps }],
    };
  };
  edge.usage = (consumer, app) =>
    consumer === 'acme' && app === 'ttd/forms'
      ? { consumer, quota: { period: 'day', resetsAt: '2026-11-26T00:00:00.000Z', calls: { used: 7, limit: 10 } } }
      : null;
  h = await openProvisionerHarness({ edge: { url: edge.url, token: edge.token } });
  expect((await h.call('PUT', '/clusters/ttd', { region: 'norwayeast' })).status).toBe(202);
  await h.settle();
  const forms = { image: 'registry.test/ttd/forms:1.0.0', minReplicas: 2, maxReplicas: 4 };
  expect((await h.call('PUT', '/clusters/ttd/apps/forms', forms, await h.orgToken('ttd'))).status).toBe(202);
  await h.settle();
  // The provisioner API and the page, dispatched by prefix as the functions host does, on loopback.
  const fetch = dispatchApis([
    { name: 'provisioner', prefix: PROVISIONER_PREFIX, app: h.provisioner.api },
    {
      name: 'dashboard',
      prefix: DASHBOARD_PATH,
      app: createDashboardPage({ logger: createLogger({ level: 'error' }) }),
    },
  ]);
  server = await new Promise((resolve) => {
    const started = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  profile = await mkdtemp(join(tmpdir(), 'dashboard-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1500, height: 1100 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
  await edge?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const refreshes = (page: Page) => page.evaluate(() => Number(document.body.dataset.refreshes ?? 0));

/** How many points a path's `d` data draws (its M and L commands). */
const pointsOf = (d: string | null) => (d?.match(/[ML]/g) ?? []).length;

describe('operator dashboard in Chromium', () => {
  it('asks for a token, lists the app, refreshes live and draws its charts', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    const overviews: Promise<string>[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
      if (response.url().endsWith('/overview')) overviews.push(response.text());
    });

    await page.goto(`${base}${DASHBOARD_PATH}`);
    await page.locator('#token').fill(ADMIN_TOKEN);
    await page.locator('#login button[type=submit]').click();
    await page.locator('#apps tbody tr', { hasText: 'ttd/forms' }).waitFor({ timeout: 15_000 });
    const row = await page.locator('#apps tbody tr', { hasText: 'ttd/forms' }).textContent();
    expect(row).toContain('Ready');
    expect(row).toContain('2/2');
    expect(row).toContain('acme 7/10 calls a day (70 %)');
    expect(await page.locator('#clusters tbody').textContent()).toContain('ttd');
    expect(await page.locator('#operations tbody').textContent()).toContain('app.deploy');
    expect(await page.locator('#releases tbody').textContent()).toContain('1.0.0');
    expect(await page.locator('#edge').textContent()).toContain('live');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);

    // Two refreshes after the first answer, every 2 s.
    const first = await refreshes(page);
    await page.waitForFunction((n) => Number(document.body.dataset.refreshes ?? 0) >= n, first + 2, {
      timeout: 15_000,
    });

    const line = page.locator('#chart-rps path.line[data-series="ttd/forms"]');
    const d = await line.getAttribute('d');
    expect(pointsOf(d)).toBeGreaterThanOrEqual(3);
    const heights = new Set(
      (d ?? '')
        .split(/[ML]/)
        .filter(Boolean)
        .map((p) => p.trim().split(',')[1]),
    );
    expect(heights.size).toBeGreaterThan(1);
    expect(pointsOf(await page.locator('#chart-p95 path.line').getAttribute('d'))).toBeGreaterThanOrEqual(3);

    // The screenshot shows the line in its colour, and the rejection bars in theirs.
    const stroke = (await line.getAttribute('stroke')) ?? '';
    const chart = decodePng(await page.locator('#chart-rps').screenshot());
    expect(chart.width).toBeGreaterThan(400);
    expect(countPixels(chart, stroke)).toBeGreaterThan(150);
    // Control: that colour is the line's, not the page's (the clusters table has none of it).
    expect(countPixels(decodePng(await page.locator('#clusters').screenshot()), stroke)).toBe(0);
    const bar = page.locator('#chart-rejections rect.bar[data-label="rate"]');
    const fill = (await bar.getAttribute('fill')) ?? '';
    expect(countPixels(decodePng(await page.locator('#chart-rejections').screenshot()), fill)).toBeGreaterThan(100);

    // DASHBOARD_SCREENSHOT=file.png keeps a picture of the whole page for a person to look at.
    if (process.env.DASHBOARD_SCREENSHOT)
      await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
    expect([...origins]).toEqual([base]);
    // The browser saw the edge's figures, never the edge's token.
    const bodies = await Promise.all(overviews);
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    for (const body of bodies) expect(body).not.toContain(edge.token);
    await page.close();
  });

  it('asks again for a token the provisioner refuses', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}${DASHBOARD_PATH}`);
    await page.locator('#token').fill('not-a-valid-token');
    await page.locator('#login button[type=submit]').click();
    await expect.poll(() => page.locator('#login-error').textContent(), { timeout: 10_000 }).toContain('401');
    expect(await page.locator('#board').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });
});
