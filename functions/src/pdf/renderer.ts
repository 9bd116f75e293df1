import { accessSync, constants } from 'node:fs';
import type { Browser, BrowserContext, Route } from 'playwright-core';
import type { Logger } from '../../../platform/src/logging/index.js';
import { checkAddresses, checkHost, type Resolve } from './target.js';

/** One page to print, as app-lib's `PdfGeneratorClient` asks for it (after validation). */
export interface RenderRequest {
  url: URL;
  /** Cookies set for the page's host before it loads (the AltinnStudioRuntime token among them). */
  cookies: readonly { name: string; value: string; domain: string; sameSite: 'Lax' | 'Strict' | 'None' }[];
  /** A CSS selector to wait for (attached), or milliseconds to wait, before printing. */
  waitFor: string | number | null;
  javaScriptEnabled: boolean;
  pdf: {
    format: string;
    printBackground: boolean;
    displayHeaderFooter: boolean;
    headerTemplate: string;
    footerTemplate: string;
    margin: { top: string; right: string; bottom: string; left: string };
  };
}

/** Why a render failed, mapped to an HTTP status by the API. */
export class RenderError extends Error {
  constructor(
    readonly reason: 'chromium-missing' | 'timeout' | 'page-failed' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'RenderError';
  }
}

/** Renders app pages to PDF. */
export interface PdfRenderer {
  /** The PDF bytes of the page; rejects with a RenderError. */
  render(request: RenderRequest): Promise<Uint8Array>;
  /** Closes the browser, if one runs. */
  close(): Promise<void>;
}

/** What the Chromium renderer needs. */
export interface ChromiumRendererOptions {
  /** Chromium executable, e.g. /usr/bin/chromium. */
  executablePath: string;
  /** Pages open at once; further renders wait their turn. */
  maxPages: number;
  /** Longest one render may take, waiting for a page included, in ms. */
  timeoutMs: number;
  /** Hosts a page may navigate to (its own app hosts); every other navigation is aborted. */
  appHosts: readonly string[];
  resolve: Resolve;
  logger: Logger;
}

/** Chromium's flags for a headless, quiet renderer in a container. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** A counting semaphore whose waiters give up at a deadline. */
class Slots {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Takes a slot, waiting until `deadline` (ms since epoch) at most; false when none came. */
  async take(deadline: number): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(
        () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiters.push(waiter);
    });
  }

  give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** True when `path` names an executable file. */
function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lets navigations reach allowed app hosts only and no request reach a metadata or link-local address. Chromium
 * follows redirects without asking routes again, so each request is fetched here one hop at a time: a redirect
 * is handed to the page only when its target passes the same checks, and the page's next request comes back here.
 */
function requestGuard(options: ChromiumRendererOptions): (route: Route) => Promise<void> {
  return async (route: Route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    const navigation = request.isNavigationRequest();
    const check = async (target: URL) => {
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        throw new Error(`${target.protocol} is not fetched`);
      if (navigation) await checkHost(target, options.appHosts, options.resolve);
      else await checkAddresses(target.hostname.replace(/^\[|\]$/g, ''), options.resolve);
    };
    try {
      await check(url);
      const response = await route.fetch({ maxRedirects: 0 });
      const location = response.status() >= 300 && response.status() < 400 ? response.headers().location : undefined;
      if (location) await check(new URL(location, url));
      return route.fulfill({ response });
    } catch (error) {
      options.logger.warn('pdf renderer blocked a request', { url: url.href, reason: String(error) });
      return route.abort('blockedbyclient').catch(() => undefined);
    }
  };
}

/**
 * A renderer over one headless Chromium (started on first use, restarted after a crash) through playwright-core,
 * printing at most `maxPages` pages at once, each in its own browser context, within `timeoutMs`.
 */
export function createChromiumRenderer(options: ChromiumRendererOptions): PdfRenderer {
  const slots = new Slots(options.maxPages);
  let browser: Promise<Browser> | undefined;

  async function launch(): Promise<Browser> {
    if (!isExecutable(options.executablePath)) {
      throw new RenderError(
        'chromium-missing',
        `Chromium is not installed at ${options.executablePath} (install Debian's chromium or set CHROMIUM_PATH).`,
      );
    }
    const { chromium } = await import('playwright-core');
    const started = await chromium.launch({ executablePath: options.executablePath, args: CHROMIUM_ARGS });
    started.on('disconnected', () => {
      browser = undefined;
    });
    return started;
  }

  function browserOf(): Promise<Browser> {
    if (!browser) {
      browser = launch();
      browser.catch(() => {
        browser = undefined;
      });
    }
    return browser;
  }

  const guard = requestGuard(options);

  async function print(context: BrowserContext, request: RenderRequest, deadline: number): Promise<Uint8Array> {
    const remaining = () => Math.max(1, deadline - Date.now());
    await context.route('**/*', guard);
    if (request.cookies.length > 0) {
      await context.addCookies(request.cookies.map((cookie) => ({ ...cookie, path: '/' })));
    }
    const page = await context.newPage();
    const response = await page.goto(request.url.href, { waitUntil: 'load', timeout: remaining() });
    if (!response) throw new RenderError('page-failed', `No response from ${request.url.href}.`);
    if (response.status() >= 400) {
      throw new RenderError('page-failed', `${request.url.href} answered ${response.status()}.`);
    }
    if (typeof request.waitFor === 'string') {
      await page.waitForSelector(request.waitFor, { state: 'attached', timeout: remaining() });
    } else if (typeof request.waitFor === 'number') {
      await page.waitForTimeout(Math.min(request.waitFor, remaining()));
    }
    const landed = new URL(page.url());
    await checkHost(landed, options.appHosts, options.resolve).catch(() => {
      throw new RenderError('refused', `The page moved to ${landed.host}, which is not an app host.`);
    });
    return page.pdf({ ...request.pdf, timeout: remaining() } as Parameters<typeof page.pdf>[0]);
  }

  return {
    async render(request) {
      const deadline = Date.now() + options.timeoutMs;
      const timedOut = () =>
        new RenderError('timeout', `Rendering ${request.url.href} took longer than ${options.timeoutMs} ms.`);
      if (!(await slots.take(deadline))) throw timedOut();
      let context: BrowserContext | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        const running = await browserOf();
        context = await running.newContext({
          javaScriptEnabled: request.javaScriptEnabled,
          serviceWorkers: 'block',
          acceptDownloads: false,
        });
        const expired = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now()));
        });
        return await Promise.race([print(context, request, deadline), expired]);
      } catch (error) {
        if (error instanceof RenderError) throw error;
        if (error instanceof Error && error.name === 'TimeoutError') throw timedOut();
        throw new RenderError('page-failed', `Rendering ${request.url.href} failed: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
        await context?.close().catch(() => undefined);
        slots.give();
      }
    },
    async close() {
      const running = browser;
      browser = undefined;
      await (await running?.catch(() => undefined))?.close();
    },
  };
}
