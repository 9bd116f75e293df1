import type { Context } from 'hono';
import { Hono } from 'hono';
import type { AppConfig } from './config.js';
import { type PlatformLink, partyIdOf, passOn, problem, userTokenOf } from './platform-link.js';

/**
 * Endpoints of the end-user journey, mounted under `/{org}/{app}` beside altinn.ts's:
 * - `GET api/v1/users/current`: the user's profile (Profile `users/current`) and party (Register);
 * - `GET api/outside/{target}/{path}?query`: calls `{egress.base}/{targets[target]}/{path}?query`
 *   through the edge's egress proxy with the app's PlatformAccessToken only (never the user's token)
 *   and passes back the target's answer or the proxy's refusal.
 */
export function createJourneyRoutes(link: PlatformLink, config: AppConfig): Hono {
  const routes = new Hono({ strict: false });

  routes.get('/api/v1/users/current', async (c) => {
    const user = userTokenOf(c);
    if (!user) return problem(401, 'unauthenticated', 'Unauthenticated', 'Send a platform token');
    const partyId = partyIdOf(user);
    if (!partyId) return problem(400, 'bad-request', 'Bad request', 'The token carries no urn:altinn:partyid claim');
    const headers: Record<string, string> = { authorization: `Bearer ${user}` };
    const appToken = link.accessToken();
    if (appToken) headers.PlatformAccessToken = appToken;
    const [profile, party] = await Promise.all([
      fetch(`${link.platformUrl}/profile/api/v1/users/current`, { headers }),
      fetch(`${link.platformUrl}/register/api/v1/parties/${encodeURIComponent(partyId)}`, { headers }),
    ]);
    for (const [answer, other] of [
      [profile, party],
      [party, profile],
    ] as const) {
      if (!answer.ok) {
        await other.body?.cancel();
        return passOn(answer);
      }
    }
    return c.json({ profile: await profile.json(), party: await party.json() });
  });

  routes.get('/api/outside/:target/*', async (c) => outside(c, link, config));
  routes.get('/api/outside/:target', async (c) => outside(c, link, config));

  return routes;
}

async function outside(c: Context, link: PlatformLink, config: AppConfig): Promise<Response> {
  const egress = config.egress;
  if (!egress) return problem(503, 'not-configured', 'Not configured', 'APP_CONFIG names no egress proxy');
  const name = c.req.param('target') ?? '';
  const target = Object.hasOwn(egress.targets, name) ? egress.targets[name] : undefined;
  if (!target) return problem(404, 'not-found', 'Unknown target', `No outside target named ${name}`);
  const url = new URL(c.req.url);
  const marker = `/api/outside/${name}`;
  const rest = url.pathname.slice(url.pathname.indexOf(marker) + marker.length);
  const appToken = link.accessToken();
  if (!appToken) return problem(503, 'unavailable', 'Unavailable', 'The app has no PlatformAccessToken yet');
  const upstream = await fetch(`${egress.base.replace(/\/+$/, '')}/${target}${rest || '/'}${url.search}`, {
    headers: { PlatformAccessToken: appToken, accept: c.req.header('accept') ?? '*/*' },
  });
  return passOn(upstream);
}
