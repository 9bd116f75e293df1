import { createRoute, z } from '@hono/zod-openapi';
import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { RUNTIME_COOKIE, refusing, type TokenVerifier, unauthorized } from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { type PdfRenderer, RenderError } from './renderer.js';
import { checkAppPage, type Resolve, systemResolve } from './target.js';

/**
 * Public path of the PDF generator: app-lib posts to `PlatformSettings.ApiPdf2Endpoint` (by default
 * `http://localhost:5300/pdf`); point it at `{functions host}/pdf`.
 */
export const PDF_PREFIX = '/pdf';

/** Largest request read (the footer template is the only long part). */
export const MAX_PDF_REQUEST_BYTES = 128 * 1024;

const cssLength = z.string().regex(/^\d+(\.\d+)?(px|in|cm|mm)?$/, 'must be a CSS length such as 0.75in');

/** What app-lib's `PdfGeneratorClient` posts (`PdfGeneratorRequest`, camelCase). */
export const PdfRequest = z
  .object({
    url: z.string().min(1).max(8192),
    options: z
      .object({
        displayHeaderFooter: z.boolean().default(false),
        headerTemplate: z.string().max(50_000).default(''),
        footerTemplate: z.string().max(50_000).default(''),
        printBackground: z.boolean().default(true),
        format: z
          .enum(['Letter', 'Legal', 'Tabloid', 'Ledger', 'A0', 'A1', 'A2', 'A3', 'A4', 'A5', 'A6'])
          .default('A4'),
        margin: z
          .object({
            top: cssLength.default('0.75in'),
            left: cssLength.default('0.75in'),
            bottom: cssLength.default('0.75in'),
            right: cssLength.default('0.75in'),
          })
          .default({ top: '0.75in', left: '0.75in', bottom: '0.75in', right: '0.75in' }),
      })
      .prefault({}),
    setJavaScriptEnabled: z.boolean().default(true),
    waitFor: z.union([z.string().min(1).max(500), z.number().int().min(0), z.null()]).default(null),
    cookies: z
      .array(
        z.object({
          name: z.string().min(1).max(200),
          value: z.string().max(16_384),
          domain: z.string().min(1).max(253),
          sameSite: z.enum(['Lax', 'Strict', 'None']).default('Lax'),
        }),
      )
      .max(20)
      .default([]),
  })
  .openapi('PdfGeneratorRequest');

const problem = (description: string) => ({ description, content: problemContent });

const generate = createRoute({
  method: 'post',
  path: '/',
  summary: "Print an app page to PDF (app-lib's PDF generator call)",
  description:
    'Renders `url` in headless Chromium with the given cookies, waits for `waitFor` (a selector, or ms), and answers ' +
    'the PDF. Only pages of the configured app hosts (PDF_APP_HOSTS) are rendered, and the request must carry a ' +
    `valid platform token as the ${RUNTIME_COOKIE} cookie, as app-lib sends it.`,
  request: { body: { required: true, content: jsonContent(PdfRequest) } },
  responses: {
    200: {
      description: 'The PDF',
      content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    400: problem('Invalid request'),
    401: problem(`No valid platform token in the ${RUNTIME_COOKIE} cookie`),
    403: problem('The URL is not an app page this platform renders'),
    413: problem('Request too large'),
    502: problem('The page failed to load or print'),
    503: problem('No Chromium on this host'),
    504: problem('Rendering took too long'),
  },
});

/** What the PDF API needs. */
export interface PdfApiOptions {
  logger: Logger;
  /** Verifies the platform token app-lib passes as the page's AltinnStudioRuntime cookie. */
  verifier: TokenVerifier;
  renderer: PdfRenderer;
  /** Hosts whose pages are rendered (see `PdfConfig.appHosts`). */
  appHosts: readonly string[];
  /** Host name resolution, to refuse link-local and metadata addresses; the system's by default. */
  resolve?: Resolve;
}

const STATUS_OF = { 'chromium-missing': 503, timeout: 504, 'page-failed': 502, refused: 403 } as const;
const KIND_OF = {
  'chromium-missing': 'unavailable',
  timeout: 'gateway-timeout',
  'page-failed': 'bad-gateway',
  refused: 'forbidden',
} as const;

/**
 * The PDF generator app-lib calls (Altinn's pdf-generator contract): prints an app page, as the user sees it, to
 * PDF. App-lib stores the result as a data element itself.
 */
export function createPdfApi(options: PdfApiOptions): PlatformApp {
  const api = createApi({
    prefix: PDF_PREFIX,
    title: 'PDF generator (Altinn pdf-generator compatible)',
    version: '1.0.0',
    description: "Prints app pages to PDF with headless Chromium, for app-lib's PdfGeneratorClient.",
    logger: options.logger,
    json: { maxBytes: MAX_PDF_REQUEST_BYTES },
  });
  const resolve = options.resolve ?? systemResolve;
  api.openapi(generate, async (c) => {
    const request = c.req.valid('json');
    const token = request.cookies.find((cookie) => cookie.name === RUNTIME_COOKIE)?.value;
    if (!token) {
      throw unauthorized(
        `A PDF is printed for a user: send their platform token as the ${RUNTIME_COOKIE} cookie.`,
        'Bearer realm="platform"',
      );
    }
    await refusing(RUNTIME_COOKIE, () => options.verifier.verify(token));
    const url = await checkAppPage(request.url, options.appHosts, resolve);
    const foreign = request.cookies.find((cookie) => cookie.domain.toLowerCase().replace(/^\./, '') !== url.hostname);
    if (foreign) {
      throw new Problem(400, {
        kind: 'bad-request',
        detail: `Cookie ${foreign.name} is for ${foreign.domain}; cookies must be for the page's host ${url.hostname}.`,
      });
    }
    const started = Date.now();
    try {
      const pdf = await options.renderer.render({
        url,
        cookies: request.cookies,
        waitFor: request.waitFor,
        javaScriptEnabled: request.setJavaScriptEnabled,
        pdf: request.options,
      });
      c.get('logger')?.info('pdf rendered', { host: url.host, bytes: pdf.byteLength, ms: Date.now() - started });
      return c.body(pdf as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/pdf' });
    } catch (error) {
      if (!(error instanceof RenderError)) throw error;
      c.get('logger')?.warn('pdf not rendered', { host: url.host, reason: error.reason, detail: error.message });
      throw new Problem(STATUS_OF[error.reason], {
        kind: KIND_OF[error.reason],
        detail: error.message,
        ...(error.reason === 'chromium-missing' ? { headers: { 'Retry-After': '3600' } } : {}),
      });
    }
  });
  return api;
}
