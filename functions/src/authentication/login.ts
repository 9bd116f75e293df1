import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import {
  InvalidTokenError,
  RUNTIME_COOKIE,
  type TokenIssuer,
  type TokenVerifier,
} from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { problemContent } from '../../../platform/src/errors/openapi.js';
import type { IdentityDirectory } from './directory.js';

/**
 * The browser login of Altinn Authentication: `authentication?goto=<url>` sends an unauthenticated browser to sign
 * in and back to `goto` with the `AltinnStudioRuntime` cookie, as app-localtest does. Here the sign-in is the
 * built-in test identity provider's login page (local mode, levels 0-4); without it there is no interactive login
 * and the call answers a problem: the platform never mints a token for a browser that did not sign in.
 */

/** What the login routes need. */
export interface LoginOptions {
  issuer: TokenIssuer;
  verifier: TokenVerifier;
  directory: IdentityDirectory;
  /** Serve the test identity provider's login page (local mode only). */
  testLogin: boolean;
  /** The platform's public base URL: a relative `goto` resolves against it, and its host may be named. */
  platformUrl: string;
  /** Hosts `goto` may name besides the platform's: `host` (any port) or `host:port`, lower case (the apps' too). */
  redirectHosts: readonly string[];
}

const problem = (description: string) => ({ description, content: problemContent });
/**
 * `goto`, and app-lib's HomeController's `iss` (its AppOidcProvider) when the app names one: ignored here, there is
 * one login. Other parameters are ignored, as ASP.NET binds them.
 */
const Goto = z.object({ goto: z.string().min(1).max(4000), iss: z.string().max(200).optional() });

const login = createRoute({
  method: 'get',
  path: '/authentication',
  summary: 'Browser login: sign in, then back to `goto` with the AltinnStudioRuntime cookie',
  request: { query: Goto },
  responses: {
    302: { description: 'To the sign-in page, or straight back to `goto` when the cookie holds a valid token' },
    400: problem('`goto` is missing, malformed or names a host this platform does not serve'),
    501: problem('No interactive login is configured (no test identity provider, no ID-porten login flow)'),
  },
});

const loginPage = createRoute({
  method: 'get',
  path: '/testidp/login',
  summary: 'Local mode: the test identity provider login page (pick a test person and an authentication level 0-4)',
  request: { query: Goto },
  responses: { 200: { description: 'An HTML form' }, 400: problem('A bad `goto`') },
});

const LoginForm = z.strictObject({
  ssn: z.string().regex(/^\d{11}$/, 'must be an 11-digit fødselsnummer'),
  level: z.enum(['0', '1', '2', '3', '4'], { error: 'must be 0, 1, 2, 3 or 4' }),
  goto: z.string().min(1).max(4000),
});

const loginSubmit = createRoute({
  method: 'post',
  path: '/testidp/login',
  summary: 'Local mode: sign a test person in at a level; sets AltinnStudioRuntime and redirects to `goto`',
  request: {
    body: { required: true, content: { 'application/x-www-form-urlencoded': { schema: LoginForm } } },
  },
  responses: {
    302: { description: 'Signed in: back to `goto`' },
    400: problem('A bad form or `goto`'),
    403: problem('No test person with that fødselsnummer'),
  },
});

/** The host:port a URL or a request addresses, lower case (the default port left out, as URL does). */
const hostOf = (url: URL) => url.host.toLowerCase();

/**
 * `goto` when it is safe to send a browser to: a path (on the platform's public URL `base`), or an http(s) URL on
 * the platform's host or a configured host; never the request's Host, which a client controls. Anything else
 * (other hosts, `//host`, `javascript:`, credentials in the URL) is a 400: no open redirect.
 */
export function safeGoto(goto: string, base: string, redirectHosts: readonly string[]): string {
  const invalid = (detail: string) =>
    new Problem(400, {
      kind: 'validation',
      title: 'Invalid request',
      detail: `Invalid query.goto (${detail}).`,
      errors: [{ field: 'query.goto', detail }],
    });
  const self = new URL(base);
  let target: URL;
  try {
    target = new URL(goto, self);
  } catch {
    throw invalid('not a URL');
  }
  if (/^[\\/]{2}/.test(goto) || /[\\\s]/.test(goto)) throw invalid('must be a path or an absolute http(s) URL');
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw invalid('must be an http(s) URL');
  if (target.username !== '' || target.password !== '') throw invalid('must not carry credentials');
  const host = hostOf(target);
  const allowed =
    host === hostOf(self) || redirectHosts.some((entry) => entry === host || entry === target.hostname.toLowerCase());
  if (!allowed) throw invalid(`the host ${target.host} is not one this platform redirects to`);
  return target.toString();
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Sets the platform token as the `AltinnStudioRuntime` cookie, as Altinn's login does (HttpOnly, Lax, path /). */
function setRuntimeCookie(c: Context, token: string, secure: boolean): void {
  setCookie(c, RUNTIME_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'Lax', secure, maxAge: 30 * 60 });
}

/** Adds `authentication?goto=` and, in local mode, the test identity provider's login page. */
export function addLoginRoutes(api: PlatformApp, options: LoginOptions): void {
  api.openapi(login, async (c) => {
    const goto = safeGoto(c.req.valid('query').goto, options.platformUrl, options.redirectHosts);
    const cookie = getCookie(c, RUNTIME_COOKIE);
    if (cookie) {
      try {
        await options.verifier.verify(cookie);
        return c.redirect(goto, 302);
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error;
      }
    }
    if (!options.testLogin) {
      throw new Problem(501, {
        kind: 'login-not-configured',
        title: 'No interactive login',
        detail:
          'This platform has no browser login configured: sign in with ID-porten and exchange its token at exchange/id-porten.',
      });
    }
    const page = new URL(c.req.url);
    page.pathname = page.pathname.replace(/\/authentication$/, '/testidp/login');
    page.search = new URLSearchParams({ goto }).toString();
    return c.redirect(page.toString(), 302);
  });

  if (!options.testLogin) return;

  api.openapi(loginPage, async (c) => {
    const goto = safeGoto(c.req.valid('query').goto, options.platformUrl, options.redirectHosts);
    const people = (await options.directory.people?.()) ?? [];
    const choices = people
      .map(
        (person) => `<option value="${escapeHtml(person.ssn)}">${escapeHtml(person.name)} (${person.userId})</option>`,
      )
      .join('');
    const levels = [0, 1, 2, 3, 4]
      .map((level) => `<option value="${level}"${level === 2 ? ' selected' : ''}>${level}</option>`)
      .join('');
    return c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test login</title></head><body>
<h1>Test identity provider</h1><p>Local mode: sign in as a test person.</p>
<form method="post" action="login"><input type="hidden" name="goto" value="${escapeHtml(goto)}">
<label>Person <select name="ssn">${choices}</select></label>
<label>Authentication level <select name="level">${levels}</select></label>
<button type="submit">Sign in</button></form></body></html>`,
      200,
      { 'Cache-Control': 'no-store' },
    );
  });

  api.openapi(loginSubmit, async (c) => {
    const form = c.req.valid('form');
    const goto = safeGoto(form.goto, options.platformUrl, options.redirectHosts);
    const user = await options.directory.userBySsn(form.ssn);
    if (!user) throw new Problem(403, { kind: 'forbidden', detail: 'No test person with this fødselsnummer.' });
    const token = await options.issuer.userToken({ ...user, authLevel: Number(form.level), authMethod: 'TestID' });
    setRuntimeCookie(c, token, new URL(goto).protocol === 'https:');
    return c.redirect(goto, 302);
  });
}
