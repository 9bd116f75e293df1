import type { Context } from 'hono';
import { Hono } from 'hono';
import { claimsOf } from './claims.js';
import { decide } from './decision.js';
import { createJourneyRoutes } from './journey.js';
import { type PlatformLink, partyIdOf, passOn, problem, userTokenOf } from './platform-link.js';

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
