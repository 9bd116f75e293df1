import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import type { TokenIssuer } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { serviceOwnerRepository } from '../register/service-owners.js';

/**
 * The localtest version this platform answers in local mode. app-lib (v8.12.7, `Internal/LocaltestValidation.cs`)
 * probes it when its `GeneralSettings.HostName` is localtest's (`local.altinn.cloud`, its default) and stops the app
 * on a 404 or a version below 5.
 */
export const LOCALTEST_VERSION = 5;

/** What the localtest pages need: the token issuer and the database (service owners). */
export interface LocaltestOptions {
  db: Database;
  issuer: Pick<TokenIssuer, 'orgToken'>;
}

const version = createRoute({
  method: 'get',
  path: '/Home/Localtest/Version',
  summary: "Local mode: localtest's API version, as app-lib probes it at startup when it believes it runs on localtest",
  responses: {
    200: { description: 'The version, an integer as text', content: { 'text/plain': { schema: z.string() } } },
  },
});

const orgToken = createRoute({
  method: 'get',
  path: '/Home/GetTestOrgToken',
  summary:
    "Local mode: a platform token for a service owner, as localtest's `GetTestOrgToken` answers app-lib's " +
    'AuthenticationTokenResolver (AltinnToken in local mode)',
  request: {
    query: z.object({
      org: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{1,29}$/i)
        .openapi({ description: 'The service owner (org code), e.g. `ttd`' }),
      orgNumber: z
        .string()
        .regex(/^\d{9}$/)
        .optional()
        .openapi({ description: "Ignored: the token carries the registered service owner's number" }),
      authenticationLevel: z.enum(['0', '1', '2', '3', '4']).optional(),
      scopes: z.string().max(2000).optional().openapi({ description: 'Space-separated scopes' }),
    }),
  },
  responses: {
    200: { description: 'The platform token (JWT) as text', content: { 'text/plain': { schema: z.string() } } },
    404: { description: 'No service owner with this org code is registered' },
  },
});

/**
 * Adds localtest's two pages app-lib calls in local mode (the test identity provider is on), so an unmodified app
 * started with localtest's defaults (`HostName` `local.altinn.cloud`, `ApiStorageEndpoint` on this host) runs
 * here: `GET /Home/Localtest/Version` and `GET /Home/GetTestOrgToken`. Never added in production mode.
 */
export function addLocaltestRoutes(app: PlatformApp, options: LocaltestOptions): void {
  app.openapi(version, (c) => c.text(String(LOCALTEST_VERSION), 200));
  app.openapi(orgToken, async (c) => {
    const query = c.req.valid('query');
    const owner = await serviceOwnerRepository(options.db).byOrg(query.org);
    if (!owner) {
      throw new Problem(404, {
        kind: 'not-found',
        detail: `No service owner '${query.org}' is registered on this platform.`,
      });
    }
    const scopes = (query.scopes ?? '').split(' ').filter(Boolean);
    const token = await options.issuer.orgToken({ org: owner.org, orgNumber: owner.orgNumber, scopes });
    return c.text(token, 200);
  });
}
