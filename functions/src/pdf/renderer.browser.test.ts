import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../platform/src/logging/index.js';
import { createChromiumRenderer, type PdfRenderer, RenderError, type RenderRequest } from './renderer.js';
import { systemResolve } from './target.js';

/** Debian's Chromium, as CI installs it (CHROMIUM_PATH overrides). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: Server;
let base: string;
let renderer: PdfRenderer;
const seenCookies: string[] = [];
const seenHosts: string[] = [];

beforeAll(async () => {
  // A stand-in app: its print page shows #readyForPrint after a moment, only for a request with the runtime cookie.
  server = createServer((request, response) => {
    seenCookies.push(request.headers.cookie ?? '');
    seenHosts.push(request.headers.host ?? '');
    if (request.url?.startsWith('/ttd/app/')) {
      const authorised = (request.headers.cookie ?? '').includes('AltinnStudioRuntime=user-token');
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<!doctype html><html><body><h1>${authorised ? 'Kvittering' : 'Logg inn'}</h1>
        <script>setTimeout(() => { const d = document.createElement('div'); d.id = 'readyForPrint';
        document.body.appendChild(d); }, 200);</script></body></html>`);
    } else if (request.url === '/never-ready') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><p>waiting</p>');
    } else if (request.url === '/escape') {
      response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      response.end();
    } else if (request.url === '/hop') {
      response.writeHead(302, { location: '/ttd/app/after-hop' });
      response.end();
    } else if (request.url === '/elsewhere') {
      // localhost serves the same page but is not an app host of this renderer: the hop must be refused.
      response.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/ttd/app/` });
      response.end();
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  renderer = createChromiumRenderer({
    executablePath: CHROMIUM,
    maxPages: 2,
    timeoutMs: 8000,
    appHosts: ['127.0.0.1'],
    resolve: systemResolve,
    logger: silentLogger,
  });
});

afterAll(async () => {
  await renderer.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const request = (path: string, overrides: Partial<RenderRequest> = {}): RenderRequest => ({
  url: new URL(`${base}${path}`),
  cookies: [{ name: 'AltinnStudioRuntime', value: 'user-token', domain: '127.0.0.1', sameSite: 'Lax' }],
  waitFor: '#readyForPrint',
  javaScriptEnabled: true,
  pdf: {
    format: 'A4',
    printBackground: true,
    displayHeaderFooter: false,
    headerTemplate: '<div/>',
    footerTemplate: '<div/>',
    margin: { top: '0.75in', right: '0.75in', bottom: '0.75in', left: '0.75in' },
  },
  ...overrides,
});

describe('Chromium renderer', () => {
  it('prints the page with the runtime cookie once the selector is there', async () => {
    const pdf = await renderer.render(request('/ttd/app/#/instance/510001/abc?pdf=1'));
    expect(new TextDecoder().decode(pdf.slice(0, 5))).toBe('%PDF-');
    expect(pdf.byteLength).toBeGreaterThan(500);
    expect(seenCookies.some((cookie) => cookie.includes('AltinnStudioRuntime=user-token'))).toBe(true);
  });

  it('prints two pages at once', async () => {
    const both = await Promise.all([renderer.render(request('/ttd/app/a')), renderer.render(request('/ttd/app/b'))]);
    expect(both.every((pdf) => pdf.byteLength > 500)).toBe(true);
  });

  it('gives up with a timeout when the selector never comes', async () => {
    const error = await renderer.render(request('/never-ready')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderError);
    expect((error as RenderError).reason).toBe('timeout');
  });

  it('refuses a page that answers 404 or redirects to a metadata address or another host', async () => {
    for (const path of ['/missing', '/escape', '/elsewhere']) {
      const error = await renderer.render(request(path, { waitFor: null })).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(RenderError);
      expect((error as RenderError).reason).toBe('page-failed');
    }
    expect(seenHosts.filter((host) => host.startsWith('localhost'))).toEqual([]);
  });

  it('follows a redirect within the app host', async () => {
    const pdf = await renderer.render(request('/hop'));
    expect(new TextDecoder().decode(pdf.slice(0, 5))).toBe('%PDF-');
  });
});
