import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Cookie, HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../errors/index.js';
import { REQUEST_ID_HEADER } from '../request-context/index.js';

/** Anything that answers a Fetch Request, such as a Hono app. */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/** Converts Azure's HttpRequest to a Fetch Request, streaming the body and keeping every header and the query. */
export function toFetchRequest(request: HttpRequest, context?: InvocationContext): Request {
  const headers = new Headers(request.headers);
  if (context && !headers.has(REQUEST_ID_HEADER)) headers.set(REQUEST_ID_HEADER, context.invocationId);
  const method = request.method.toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD' && request.body !== null;
  return new Request(request.url, {
    method,
    headers,
    ...(hasBody ? { body: request.body as unknown as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
}

const SAME_SITE: Record<string, Cookie['sameSite']> = { strict: 'Strict', lax: 'Lax', none: 'None' };

function decodeCookieValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Parses one Set-Cookie header into Azure's Cookie. The host serialises cookies again with percent-encoding, so
 * the value is decoded here; attributes Azure cannot express (Partitioned, Priority) are dropped.
 */
export function parseSetCookie(header: string): Cookie {
  const [pair = '', ...attributes] = header.split(';');
  const separator = pair.indexOf('=');
  const name = (separator === -1 ? '' : pair.slice(0, separator)).trim();
  const rawValue = (separator === -1 ? pair : pair.slice(separator + 1)).trim();
  const cookie: Cookie = { name, value: decodeCookieValue(rawValue.replace(/^"(.*)"$/, '$1')) };
  for (const attribute of attributes) {
    const [key = '', ...rest] = attribute.split('=');
    const value = rest.join('=').trim();
    switch (key.trim().toLowerCase()) {
      case 'domain':
        cookie.domain = value;
        break;
      case 'path':
        cookie.path = value;
        break;
      case 'expires': {
        const expires = new Date(value);
        if (!Number.isNaN(expires.getTime())) cookie.expires = expires;
        break;
      }
      case 'max-age':
        if (/^-?\d+$/.test(value)) cookie.maxAge = Number(value);
        break;
      case 'secure':
        cookie.secure = true;
        break;
      case 'httponly':
        cookie.httpOnly = true;
        break;
      case 'samesite':
        cookie.sameSite = SAME_SITE[value.toLowerCase()];
        break;
    }
  }
  return cookie;
}

/**
 * Converts a Fetch Response to Azure's HttpResponseInit: the body stays a stream, and each Set-Cookie header
 * becomes an entry of `cookies` (the host would otherwise keep only one of several Set-Cookie headers).
 */
export function toResponseInit(response: Response): HttpResponseInit {
  const headers = new Headers();
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers.append(name, value);
  }
  const cookies = response.headers.getSetCookie().map(parseSetCookie);
  return {
    status: response.status,
    headers,
    ...(cookies.length > 0 ? { cookies } : {}),
    body: response.body as unknown as NodeReadableStream<Uint8Array> | null,
  };
}

function startupProblem(request: HttpRequest): HttpResponseInit {
  const body = {
    type: `${PROBLEM_TYPE_PREFIX}unavailable`,
    title: 'Service Unavailable',
    status: 503,
    detail: 'The platform failed to start; see the function logs.',
    instance: new URL(request.url).pathname,
  };
  return { status: 503, headers: { 'Content-Type': PROBLEM_CONTENT_TYPE }, body: JSON.stringify(body) };
}

/**
 * Builds an Azure Functions HTTP handler that serves `app` (or the app a one-time async start resolves to),
 * passing the invocation id as X-Request-Id when the caller sent none.
 */
export function azureHandler(app: FetchApp | (() => Promise<FetchApp>)): HttpHandler {
  let started: Promise<FetchApp> | undefined;
  const resolveApp = (): Promise<FetchApp> => {
    if (typeof app !== 'function') return Promise.resolve(app);
    started ??= app().catch((error: unknown) => {
      started = undefined;
      throw error;
    });
    return started;
  };
  return async (request, context) => {
    let target: FetchApp;
    try {
      target = await resolveApp();
    } catch (error) {
      context.error('platform start failed', error);
      return startupProblem(request);
    }
    return toResponseInit(await target.fetch(toFetchRequest(request, context)));
  };
}
