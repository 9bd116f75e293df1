import type { Context } from 'hono';
import { PROBLEM_CONTENT_TYPE, type ProblemKind, problemBody } from '../../contracts/problems.js';
import { claimsOf } from './claims.js';
import type { AppConfig } from './config.js';

/** What the app's platform calls need: where the platform is and the app's own PlatformAccessToken. */
export interface PlatformLink {
  /** Base URL of the functions host (`http://127.0.0.1:7071`), without a trailing slash. */
  platformUrl: string;
  /** The app's current PlatformAccessToken, refreshed by the provider; undefined before the first arrives. */
  accessToken: () => string | undefined;
  /** The app's configuration (`APP_CONFIG`); `{}` when it has none. */
  config?: AppConfig;
}

const RUNTIME_COOKIE = 'AltinnStudioRuntime';
const PARTY_ID_CLAIM = 'urn:altinn:partyid';

/** The end user's platform token from `Authorization: Bearer` or the `AltinnStudioRuntime` cookie. */
export function userTokenOf(c: Context): string | undefined {
  const bearer = c.req.header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer) return bearer;
  const cookie = c.req.header('cookie') ?? '';
  for (const part of cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === RUNTIME_COOKIE) return value.join('=');
  }
  return undefined;
}

/** The `urn:altinn:partyid` claim of a JWT, read without verifying: the platform verifies the token. */
export function partyIdOf(token: string): string | undefined {
  const partyId = claimsOf(token)[PARTY_ID_CLAIM];
  return partyId === undefined || partyId === null ? undefined : String(partyId);
}

/** An RFC 9457 problem+json response of `kind` (the platform's one problem model, contracts/problems.ts). */
export function problem(status: number, kind: ProblemKind, title: string, detail: string): Response {
  return new Response(JSON.stringify(problemBody(kind, { status, title, detail })), {
    status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
  });
}

/** An upstream answer passed on as it came: status, body and its content headers. */
export function passOn(upstream: Response): Response {
  const headers = new Headers();
  for (const name of ['content-type', 'content-length', 'etag', 'location']) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}
