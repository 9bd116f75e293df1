import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import type { AppIdentity } from '../../../platform/src/auth/index.js';
import { unauthorized } from '../../../platform/src/auth/index.js';
import { jsonContent as json, problemContent } from '../../../platform/src/errors/openapi.js';
import type { PlatformEnv } from '../../../platform/src/request-context/index.js';
import type { AuthorizationServices } from '../authorization/services.js';
import { applyDelegation, applyRevocation, resolveDelegation } from './instance-delegations.js';
import {
  type AppsInstanceDelegationInput,
  AppsInstanceDelegationRequest,
  AppsInstanceDelegationResponse,
  AppsInstanceRevokeResponse,
} from './schemas.js';

const Params = z.object({ resourceId: z.string().max(200), instanceId: z.string().max(100) });
const errors = {
  400: { description: 'Invalid input; `errors` names each field', content: problemContent },
  401: { description: 'No valid PlatformAccessToken', content: problemContent },
  403: { description: 'The resource is not the calling app', content: problemContent },
  404: { description: 'No such instance of the app', content: problemContent },
};

const delegate = createRoute({
  method: 'post',
  path: '/app/delegations/resource/{resourceId}/instance/{instanceId}',
  summary: "Delegate rights on one instance (in a task) from its owner to a party, as the instance's app",
  request: { params: Params, body: { required: true, content: json(AppsInstanceDelegationRequest) } },
  responses: {
    200: { description: 'Every right delegated', content: json(AppsInstanceDelegationResponse) },
    206: { description: 'Some rights not delegable (`NotDelegated`)', content: json(AppsInstanceDelegationResponse) },
    ...errors,
  },
});

const revoke = createRoute({
  method: 'post',
  path: '/app/delegationrevoke/resource/{resourceId}/instance/{instanceId}',
  summary:
    "Revoke rights on one instance delegated to a party, as the instance's app; revoking what is not held is done",
  request: { params: Params, body: { required: true, content: json(AppsInstanceDelegationRequest) } },
  responses: { 200: { description: 'Every right revoked', content: json(AppsInstanceRevokeResponse) }, ...errors },
});

/** The app calling (its PlatformAccessToken, verified by the authenticate middleware). */
function callerOf(c: Context<PlatformEnv>): AppIdentity {
  const app = c.get('appIdentity');
  if (!app) throw unauthorized("This call needs the app's PlatformAccessToken header", 'Bearer realm="platform"');
  return app;
}

/** The answer Altinn gives: the parties as sent, the path's resource and instance, each right with its status. */
function answerOf<S extends string>(
  body: AppsInstanceDelegationInput,
  path: { resourceId: string; instanceId: string },
  status: (index: number) => S,
) {
  return {
    from: { type: body.from.type, value: body.from.value },
    to: { type: body.to.type, value: body.to.value },
    resourceId: path.resourceId,
    instanceId: path.instanceId,
    rights: body.rights.map((right, index) => ({
      resource: right.resource.map(({ type, value }) => ({ type, value })),
      action: { type: right.action.type, value: right.action.value },
      status: status(index),
    })),
  };
}

/** Adds Access management's app instance delegation routes. */
export function addInstanceDelegationRoutes(api: PlatformApp, services: AuthorizationServices): void {
  api.openapi(delegate, async (c) => {
    const path = c.req.valid('param');
    const body = c.req.valid('json');
    const delegation = await resolveDelegation(services.db, callerOf(c), path, body);
    await applyDelegation(services, delegation);
    const answer = answerOf(body, path, (index) =>
      delegation.rights[index]?.delegable ? 'Delegated' : 'NotDelegated',
    );
    const all = answer.rights.every((right) => right.status === 'Delegated');
    return c.json(answer, all ? 200 : 206);
  });

  api.openapi(revoke, async (c) => {
    const path = c.req.valid('param');
    const body = c.req.valid('json');
    const delegation = await resolveDelegation(services.db, callerOf(c), path, body);
    await applyRevocation(services, delegation);
    return c.json(
      answerOf(body, path, () => 'Revoked' as const),
      200,
    );
  });
}
