import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { forbidden, principalOf } from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../platform/src/errors/openapi.js';
import { mismatchedField, problemContent } from '../storage/shared/problems.js';
import { AppParams } from '../storage/shared/schemas.js';
import { AUTHORIZATION_SCOPES, requireScope } from './access.js';
import { AppPolicy, foreignResources } from './policy.js';
import { authorizationRepository } from './repository.js';
import type { AuthorizationServices } from './services.js';

const StoredPolicy = z
  .object({
    org: z.string(),
    app: z.string(),
    policy: AppPolicy,
    version: z.number().int(),
    created: z.string(),
    lastChanged: z.string(),
  })
  .openapi('StoredAppPolicy');

const errors = {
  400: { description: 'Invalid path or policy; `errors` names each field', content: problemContent },
  401: { description: 'No valid token', content: problemContent },
};

const put = createRoute({
  method: 'put',
  path: '/policies/{org}/{app}',
  summary: "Store an app's policy (the app's org, with scope altinn:appdeploy); a new version each time",
  request: { params: AppParams, body: { required: true, content: json(AppPolicy) } },
  responses: {
    200: { description: 'The stored policy', content: json(StoredPolicy) },
    ...errors,
    403: { description: "Not the app's org deploying", content: problemContent },
  },
});

const get = createRoute({
  method: 'get',
  path: '/policies/{org}/{app}',
  summary: "Read an app's policy",
  request: { params: AppParams },
  responses: {
    200: { description: 'The stored policy', content: json(StoredPolicy) },
    ...errors,
    404: { description: 'The app has no policy', content: problemContent },
  },
});

/** Adds `PUT` and `GET policies/{org}/{app}`. */
export function addPolicyRoutes(api: PlatformApp, services: AuthorizationServices): void {
  api.openapi(put, async (c) => {
    const { org, app } = c.req.valid('param');
    const principal = principalOf(c);
    if (principal.kind !== 'org' || principal.org !== org) {
      throw forbidden(`Only the org ${org} writes the policy of ${org}/${app}.`);
    }
    requireScope(principal, AUTHORIZATION_SCOPES.appDeploy);
    const policy = c.req.valid('json');
    const [foreign] = foreignResources(policy, org, app);
    if (foreign) throw mismatchedField(foreign, `must name ${org}/${app}, the app of the path`);
    const stored = await services.change((tx) =>
      authorizationRepository(tx).savePolicy(org, app, policy, services.now()),
    );
    return c.json(stored, 200);
  });

  api.openapi(get, async (c) => {
    principalOf(c);
    const { org, app } = c.req.valid('param');
    const stored = await authorizationRepository(services.db).findPolicy(org, app);
    if (!stored) throw new Problem(404, { kind: 'not-found', detail: `The app ${org}/${app} has no policy.` });
    return c.json(stored, 200);
  });
}
