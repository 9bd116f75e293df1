import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../platform/src/db/index.js';
import { createPlatformAuth } from '../../../platform/src/index.js';
import { silentLogger } from '../../../platform/src/logging/index.js';
import { openTestDatabase } from '../../../test/support/database.js';
import { pdfGeneratorRequest } from '../../../test/support/pdf-request.js';
import { problemOf, TEST_ISSUER } from '../../../test/support/storage.js';
import { createPdfApi, PDF_PREFIX } from './index.js';
import { createChromiumRenderer, type PdfRenderer, RenderError, type RenderRequest } from './renderer.js';

let db: Database;
let token: string;
const rendered: RenderRequest[] = [];
let outcome: () => Promise<Uint8Array> = async () => new TextEncoder().encode('%PDF-1.4 fake');
const fakeRenderer: PdfRenderer = {
  async render(request) {
    rendered.push(request);
    return outcome();
  },
  close: async () => undefined,
};
const resolve = async (host: string) => (host === 'localhost' ? ['127.0.0.1'] : ['93.184.216.34']);
let api: ReturnType<typeof createPdfApi>;

beforeAll(async () => {
  db = await openTestDatabase();
  const auth = createPlatformAuth(db, TEST_ISSUER);
  token = await auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 });
  api = createPdfApi({
    logger: silentLogger,
    verifier: auth.verifier,
    renderer: fakeRenderer,
    appHosts: ['localhost'],
    resolve,
  });
});
afterAll(() => db.close());

/** The body app-lib's PdfGeneratorClient posts (PdfGeneratorRequest, camelCase). */
const appLibRequest = (overrides: Record<string, unknown> = {}) => ({
  ...pdfGeneratorRequest(
    'http://localhost:5005/ttd/frontend-test/#/instance/510001/5d9e906b-83ed-44df-85a7-2f104c640bff?pdf=1',
    token,
  ),
  ...overrides,
});

const post = (body: unknown) =>
  api.request(PDF_PREFIX, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  });

describe('POST /pdf', () => {
  it('hands a valid request to the renderer and answers application/pdf', async () => {
    const response = await post(appLibRequest());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(new TextDecoder().decode(await response.arrayBuffer())).toMatch(/^%PDF/);
    expect(rendered.at(-1)).toMatchObject({
      waitFor: '#readyForPrint',
      javaScriptEnabled: true,
      pdf: { format: 'A4' },
    });
  });

  it('answers 401 without the AltinnStudioRuntime cookie or with an invalid token', async () => {
    expect((await post(appLibRequest({ cookies: [] }))).status).toBe(401);
    const bad = [{ name: 'AltinnStudioRuntime', value: 'x.y.z', domain: 'localhost', sameSite: 'Lax' }];
    expect((await post(appLibRequest({ cookies: bad }))).status).toBe(401);
  });

  it('answers 403 for hosts that are not app hosts and 400 for cookies of another domain or bad options', async () => {
    const before = rendered.length;
    expect((await post(appLibRequest({ url: 'http://169.254.169.254/latest/meta-data/' }))).status).toBe(403);
    expect((await post(appLibRequest({ url: 'https://example.com/' }))).status).toBe(403);
    const other = [{ name: 'AltinnStudioRuntime', value: token, domain: 'example.com', sameSite: 'Lax' }];
    expect((await post(appLibRequest({ cookies: other }))).status).toBe(400);
    expect((await post(appLibRequest({ options: { format: 'B9' } }))).status).toBe(400);
    expect((await post(appLibRequest({ url: 'file:///etc/passwd' }))).status).toBe(400);
    expect(rendered.length).toBe(before);
  });

  it('answers 504 for a render past its time and 502 for a page that failed', async () => {
    outcome = async () => {
      throw new RenderError('timeout', 'too slow');
    };
    expect((await post(appLibRequest())).status).toBe(504);
    outcome = async () => {
      throw new RenderError('page-failed', 'answered 500');
    };
    expect((await post(appLibRequest())).status).toBe(502);
    outcome = async () => new TextEncoder().encode('%PDF-1.4 fake');
  });

  it('answers 413 for a body past the limit', async () => {
    expect((await post(appLibRequest({ options: { footerTemplate: 'x'.repeat(200_000) } }))).status).toBe(413);
  });
});

describe('without Chromium', () => {
  it('answers 503 naming the missing binary', async () => {
    const auth = createPlatformAuth(db, TEST_ISSUER);
    const renderer = createChromiumRenderer({
      executablePath: '/nonexistent/chromium',
      maxPages: 1,
      timeoutMs: 5000,
      appHosts: ['localhost'],
      resolve,
      logger: silentLogger,
    });
    const missing = createPdfApi({
      logger: silentLogger,
      verifier: auth.verifier,
      renderer,
      appHosts: ['localhost'],
      resolve,
    });
    const response = await missing.request(PDF_PREFIX, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(appLibRequest()),
    });
    expect(response.status).toBe(503);
    expect((await problemOf(response)).detail).toContain('/nonexistent/chromium');
  });
});
