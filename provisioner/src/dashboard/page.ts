import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Context, Hono } from 'hono';
import { handleError, handleNotFound } from '../../../platform/src/errors/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { type PlatformEnv, requestContext } from '../../../platform/src/request-context/index.js';

/** Public path of the operator dashboard (HTML; it reads `GET /provisioner/api/v1/overview`). */
export const DASHBOARD_PATH = '/provisioner/dashboard';

/** The page's files, served as they are (no build step); the file name is the whole allow-list. */
const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

/**
 * Everything the page loads comes from here, and it talks only to this host: no inline script, no CDN.
 * The token it keeps in sessionStorage is therefore reachable by this origin's own code only.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * Where the files are: beside this module in the sources; a build (`dist/`, which tsc fills with
 * JavaScript only) reads them from the sources too.
 */
function assetFolder(): string {
  const beside = fileURLToPath(new URL('./public/', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../../../provisioner/src/dashboard/public/', import.meta.url));
}

/** Options of createDashboardPage. */
export interface DashboardPageOptions {
  logger: Logger;
  /** Folder of the page's files (the sources' `public/` by default). */
  folder?: string;
}

/** The operator dashboard's page and its script and style, served at `/provisioner/dashboard`. */
export function createDashboardPage(options: DashboardPageOptions): Hono<PlatformEnv> {
  const folder = options.folder ?? assetFolder();
  const cache = new Map<string, Promise<string>>();
  // Not strict: `/provisioner/dashboard/` is the page too (its links are absolute).
  const app = new Hono<PlatformEnv>({ strict: false }).basePath(DASHBOARD_PATH);
  app.use('*', requestContext(options.logger));
  app.onError(handleError);
  app.notFound(handleNotFound);

  const serve = (name: string) => async (c: Context<PlatformEnv>) => {
    let text = cache.get(name);
    if (!text) {
      text = readFile(`${folder}${name}`, 'utf8');
      text.catch(() => cache.delete(name));
      cache.set(name, text);
    }
    return c.body(await text, 200, { 'content-type': ASSETS[name] ?? 'text/plain', ...SECURITY_HEADERS });
  };
  app.get('/', serve('index.html'));
  for (const name of Object.keys(ASSETS)) app.get(`/${name}`, serve(name));
  return app;
}
