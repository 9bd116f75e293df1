import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../platform/src/logging/index.js';
import { createDashboardPage } from './page.js';

const page = createDashboardPage({ logger: createLogger({ level: 'error' }) });
const get = (path: string) => Promise.resolve(page.request(path));

describe('GET /provisioner/dashboard', () => {
  it('serves the page with a policy that lets it load and call only this host', async () => {
    const response = await get('/provisioner/dashboard');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/provisioner/dashboard/dashboard.js"></script>');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect((await get('/provisioner/dashboard/')).status).toBe(200);
  });

  it('serves its script, charts and style, and nothing else', async () => {
    for (const [name, type] of [
      ['dashboard.js', 'text/javascript'],
      ['charts.js', 'text/javascript'],
      ['dashboard.css', 'text/css'],
    ]) {
      const response = await get(`/provisioner/dashboard/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      expect(await response.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    const missing = await get('/provisioner/dashboard/../../package.json');
    expect(missing.status).toBe(404);
    expect((await get('/provisioner/dashboard/server.ts')).status).toBe(404);
    expect((await get('/provisioner/dashboard/page.ts')).headers.get('content-type')).toContain('problem+json');
  });

  it('reads the overview with the token the operator entered and keeps it in sessionStorage only', async () => {
    const script = await (await get('/provisioner/dashboard/dashboard.js')).text();
    expect(script).toContain("const OVERVIEW = '/provisioner/api/v1/overview'");
    expect(script).toContain('sessionStorage');
    expect(script).not.toContain('localStorage');
    expect(script).not.toContain('innerHTML');
  });
});
