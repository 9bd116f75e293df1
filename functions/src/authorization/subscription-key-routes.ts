import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { orgManager, type TokenVerifier } from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../platform/src/errors/openapi.js';
import { mismatchedField, problemContent } from '../storage/shared/problems.js';
import { Name } from '../storage/shared/schemas.js';
import { AUTHORIZATION_SCOPES } from './access.js';
import type { AuthorizationServices } from './services.js';
import { SUBSCRIPTION_KEY_HEADER, SUBSCRIPTION_KEY_SETTING, subscriptionKeyRepository } from './subscription-keys.js';

const KeyParams = z.strictObject({ org: Name });
const OneKeyParams = z.strictObject({ org: Name, id: z.uuid() });

const IssueInput = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .openapi('SubscriptionKeyInput');

const KeyRecord = z
  .object({
    id: z.string(),
    org: z.string(),
    name: z.string().nullable(),
    created: z.string(),
    createdBy: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi('SubscriptionKey');

const IssuedKey = KeyRecord.extend({
  key: z
    .string()
    .openapi({ description: `The key itself, shown only in this answer: send it as ${SUBSCRIPTION_KEY_HEADER}` }),
}).openapi('IssuedSubscriptionKey');

const refused = {
  401: { description: 'No token, or an invalid one', content: problemContent },
  403: { description: 'Neither the operator nor the org itself with altinn:appdeploy', content: problemContent },
};

const issue = createRoute({
  method: 'post',
  path: '/subscriptionkeys/{org}',
  summary: "Issue a platform subscription key for the org's apps (the key is shown once)",
  description:
    `The org's apps send it as \`${SUBSCRIPTION_KEY_HEADER}\` (Altinn's PEP calls POST decision with it and no token); ` +
    `the app runtime reads it from \`${SUBSCRIPTION_KEY_SETTING}\`. Callers: the operator (the provisioner admin ` +
    'token) or the org itself with `altinn:appdeploy`. Several keys may be active at once, for rollover.',
  request: { params: KeyParams, body: { required: false, content: json(IssueInput) } },
  responses: {
    201: { description: 'Issued; `Location` names it', content: json(IssuedKey) },
    400: { description: 'Invalid org, name or expiry', content: problemContent },
    ...refused,
  },
});

const list = createRoute({
  method: 'get',
  path: '/subscriptionkeys/{org}',
  summary: "List the org's subscription keys, without secrets (revoked ones included)",
  request: { params: KeyParams },
  responses: { 200: { description: 'Keys, oldest first', content: json(z.array(KeyRecord)) }, ...refused },
});

const revoke = createRoute({
  method: 'delete',
  path: '/subscriptionkeys/{org}/{id}',
  summary: 'Revoke a subscription key; calls with it answer 401 at once',
  request: { params: OneKeyParams },
  responses: {
    204: { description: 'Revoked' },
    ...refused,
    404: { description: 'The org has no such active key', content: problemContent },
  },
});

/** What the subscription key routes need. */
export interface SubscriptionKeyRouteOptions {
  verifier: TokenVerifier;
  /** The operator's token (the provisioner's PROVISIONER_ADMIN_TOKEN); without one only orgs manage their keys. */
  operatorToken: string | undefined;
}

/**
 * Adds `POST`, `GET subscriptionkeys/{org}` and `DELETE subscriptionkeys/{org}/{id}`. These paths authenticate here
 * (the operator's token is not a platform token), not through the API's token middleware.
 */
export function addSubscriptionKeyRoutes(
  api: PlatformApp,
  services: AuthorizationServices,
  options: SubscriptionKeyRouteOptions,
): void {
  /** The actor managing `org`'s keys: `operator` or `org:{org}`; 401 or 403 otherwise. */
  const managerOf = orgManager({ ...options, what: 'subscription keys' });

  api.openapi(issue, async (c) => {
    const { org } = c.req.valid('param');
    const actor = await managerOf(c, org);
    const input = c.req.header('content-type') ? c.req.valid('json') : {};
    const now = services.now();
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : undefined;
    if (expiresAt && expiresAt <= now) throw mismatchedField('expiresAt', 'must be in the future');
    const { record, key } = await subscriptionKeyRepository(services.db).issue(
      { org, name: input.name, expiresAt, createdBy: actor },
      now,
    );
    return c.json({ ...record, key }, 201, {
      Location: `${new URL(c.req.url).pathname}/${record.id}`,
      'Cache-Control': 'no-store',
    });
  });

  api.openapi(list, async (c) => {
    const { org } = c.req.valid('param');
    await managerOf(c, org);
    return c.json(await subscriptionKeyRepository(services.db).list(org), 200);
  });

  api.openapi(revoke, async (c) => {
    const { org, id } = c.req.valid('param');
    const actor = await managerOf(c, org);
    const revoked = await subscriptionKeyRepository(services.db).revoke(org, id, actor, services.now());
    if (!revoked) throw new Problem(404, { kind: 'not-found', detail: `${org} has no active subscription key ${id}.` });
    return c.body(null, 204);
  });
}
