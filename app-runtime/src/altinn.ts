import type { Context } from 'hono';
import { Hono } from 'hono';
import { claimsOf } from './claims.js';
import { decide } from './decision.js';
import { type AppConfig, createJourneyRoutes } from './journey.js';

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

/** An RFC 9457 problem+json response of kind `type`. */
export function problem(status: number, type: string, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: `urn:altinn-platform:problem:${type}`, title, status, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
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

/**
 * Altinn-app-like endpoints, mounted under `/{org}/{app}`: create an instance and upload data
 * through DataServices, and read the user's party from Register, as an Altinn app's backend does,
 * forwarding the end user's token and adding the app's PlatformAccessToken. Before creating an
 * instance it asks Authorization for an `instantiate` permit for the caller on the app and the party,
 * as Altinn apps do, and answers 403 unless the decision is Permit. The journey endpoints of
 * journey.ts (profile, outside calls through egress) are mounted beside.
 */
export function createAltinnRoutes(org: string, app: string, link: PlatformLink): Hono {
  const routes = new Hono({ strict: false });
  const storage = `${link.platformUrl}/storage/api/v1`;

  const headersFor = (c: Context): Record<string, string> | Response => {
    const user = userTokenOf(c);
    if (!user) return problem(401, 'unauthenticated', 'Unauthenticated', 'Send a platform token');
    const headers: Record<string, string> = { authorization: `Bearer ${user}` };
    const appToken = link.accessToken();
    if (appToken) headers.PlatformAccessToken = appToken;
    return headers;
  };

  routes.post('/instances', async (c) => {
    const headers = headersFor(c);
    if (headers instanceof Response) return headers;
    const partyId = c.req.query('instanceOwnerPartyId') ?? partyIdOf(userTokenOf(c)!);
    if (!partyId) return problem(400, 'bad-request', 'Bad request', 'instanceOwnerPartyId is required');
    const { decision, status } = await decide(link, userTokenOf(c)!, { action: 'instantiate', org, app, partyId });
    if (status === 401) return problem(401, 'unauthenticated', 'Unauthenticated', 'The platform refused the token');
    if (decision !== 'Permit') {
      return problem(
        403,
        'forbidden',
        'Forbidden',
        `Authorization answered ${decision} to instantiate ${org}/${app} for party ${partyId}`,
      );
    }
    const upstream = await fetch(`${storage}/instances?appId=${encodeURIComponent(`${org}/${app}`)}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ instanceOwner: { partyId } }),
    });
    return passOn(upstream);
  });

  routes.get('/instances/:partyId/:instanceGuid', async (c) => {
    const headers = headersFor(c);
    if (headers instanceof Response) return headers;
    const { partyId, instanceGuid } = c.req.param();
    const upstream = await fetch(
      `${storage}/instances/${encodeURIComponent(partyId)}/${encodeURIComponent(instanceGuid)}`,
      {
        headers,
      },
    );
    return passOn(upstream);
  });

  routes.post('/instances/:partyId/:instanceGuid/data', async (c) => {
    const headers = headersFor(c);
    if (headers instanceof Response) return headers;
    const { partyId, instanceGuid } = c.req.param();
    const query = new URL(c.req.url).search;
    for (const name of ['content-type', 'content-disposition', 'content-length']) {
      const value = c.req.header(name);
      if (value) headers[name] = value;
    }
    const upstream = await fetch(
      `${storage}/instances/${encodeURIComponent(partyId)}/${encodeURIComponent(instanceGuid)}/data${query}`,
      { method: 'POST', headers, body: c.req.raw.body, duplex: 'half' } as RequestInit,
    );
    return passOn(upstream);
  });

  routes.get('/api/v1/parties/current', async (c) => {
    const headers = headersFor(c);
    if (headers instanceof Response) return headers;
    const partyId = partyIdOf(userTokenOf(c)!);
    if (!partyId) return problem(400, 'bad-request', 'Bad request', 'The token carries no urn:altinn:partyid claim');
    const upstream = await fetch(`${link.platformUrl}/register/api/v1/parties/${encodeURIComponent(partyId)}`, {
      headers,
    });
    return passOn(upstream);
  });

  routes.route('/', createJourneyRoutes(link, link.config ?? {}));
  return routes;
}
