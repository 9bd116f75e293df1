import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import {
  AppTokenKeyError,
  type AppTokenKeyStore,
  orgManager,
  parseAppTokenKey,
  type TokenVerifier,
} from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';

const OrgParams = z.strictObject({ org: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be an org code') });
const KeyParams = OrgParams.extend({ keyId: z.string().min(1).max(200) });

const AppTokenKey = z
  .object({
    org: z.string(),
    keyId: z.string(),
    kind: z.enum(['certificate', 'publicKey']),
    publicJwk: z.object({}).passthrough(),
    subject: z.string().nullable(),
    x5t: z.string().nullable(),
    notBefore: z.string(),
    notAfter: z.string().nullable(),
    created: z.string(),
    createdBy: z.string(),
    revoked: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi('AppTokenKey');

const instant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

const AppTokenKeyBody = z
  .strictObject({
    certificate: z.string().max(20_000).optional().openapi({ description: 'A PEM X.509 certificate (RSA)' }),
    publicKey: z.string().max(20_000).optional().openapi({ description: 'A PEM (SPKI) RSA public key' }),
    jwk: z.object({}).passthrough().optional().openapi({ description: 'An RSA public JWK' }),
    notBefore: instant.optional(),
    notAfter: instant.optional(),
  })
  .openapi('AppTokenKeyRegistration');

const problem = (description: string) => ({ description, content: problemContent });
const refused = {
  401: problem('No token, or not a valid one'),
  403: problem("Not the org's own token with altinn:appdeploy, nor the operator's"),
};

const register = createRoute({
  method: 'post',
  path: '/apptokenkeys/{org}',
  summary: "Register a public key or certificate the org's apps sign their PlatformAccessTokens with",
  request: { params: OrgParams, body: { required: true, content: jsonContent(AppTokenKeyBody) } },
  responses: {
    201: { description: 'Registered', content: jsonContent(AppTokenKey) },
    200: { description: 'The same key was registered already', content: jsonContent(AppTokenKey) },
    400: problem('Not an RSA public key or certificate, an expired certificate, or bad dates'),
    ...refused,
  },
});

const list = createRoute({
  method: 'get',
  path: '/apptokenkeys/{org}',
  summary: "The org's app-token keys, newest first, revoked ones included",
  request: { params: OrgParams },
  responses: { 200: { description: 'The keys', content: jsonContent(z.array(AppTokenKey)) }, ...refused },
});

const revoke = createRoute({
  method: 'delete',
  path: '/apptokenkeys/{org}/{keyId}',
  summary: 'Revoke a key: tokens signed with it are refused from now on',
  request: { params: KeyParams },
  responses: {
    204: { description: 'Revoked' },
    404: problem('The org has no such key'),
    ...refused,
  },
});

/** What the app-token key routes need. */
export interface AppTokenKeyRoutesOptions {
  keys: AppTokenKeyStore;
  verifier: TokenVerifier;
  /** The operator's token (PROVISIONER_ADMIN_TOKEN): it may manage every org's keys. */
  operatorToken?: string | undefined;
  now?: () => Date;
}

/**
 * Adds `apptokenkeys/{org}` (POST, GET) and `apptokenkeys/{org}/{keyId}` (DELETE) to the Authentication API: the
 * keys an org's apps sign their own PlatformAccessTokens with, managed by the org (a platform org token of that
 * org with `altinn:appdeploy`) or by the operator (the provisioner's admin token).
 */
export function addAppTokenKeyRoutes(api: PlatformApp, options: AppTokenKeyRoutesOptions): void {
  const now = options.now ?? (() => new Date());
  /** Who may manage `org`'s keys: the operator, or the org itself with the deploy scope; 401/403 otherwise. */
  const managerOf = orgManager({
    verifier: options.verifier,
    operatorToken: options.operatorToken,
    what: 'app-token keys',
  });

  api.openapi(register, async (c) => {
    const { org } = c.req.valid('param');
    const by = await managerOf(c, org);
    const body = c.req.valid('json');
    let parsed: Awaited<ReturnType<typeof parseAppTokenKey>>;
    try {
      parsed = await parseAppTokenKey(
        {
          certificate: body.certificate,
          publicKey: body.publicKey,
          jwk: body.jwk,
          notBefore: body.notBefore === undefined ? undefined : new Date(body.notBefore),
          notAfter: body.notAfter === undefined ? undefined : new Date(body.notAfter),
        },
        now(),
      );
    } catch (error) {
      if (!(error instanceof AppTokenKeyError)) throw error;
      throw new Problem(400, {
        kind: 'validation',
        title: 'Invalid request',
        detail: `Invalid body: ${error.field} (${error.message}).`,
        errors: [{ field: error.field, detail: error.message }],
      });
    }
    const { key, created } = await options.keys.register(org, parsed, by);
    c.var.logger.info('app-token key registered', { org, keyId: key.keyId, by, created });
    if (!created) return c.json(key, 200);
    return c.json(key, 201, { Location: `${c.req.path.replace(/\/$/, '')}/${encodeURIComponent(key.keyId)}` });
  });

  api.openapi(list, async (c) => {
    const { org } = c.req.valid('param');
    await managerOf(c, org);
    return c.json(await options.keys.list(org), 200);
  });

  api.openapi(revoke, async (c) => {
    const { org, keyId } = c.req.valid('param');
    const by = await managerOf(c, org);
    const key = await options.keys.revoke(org, keyId, by);
    if (!key) throw new Problem(404, { kind: 'not-found', detail: `Org ${org} has no app-token key ${keyId}.` });
    c.var.logger.info('app-token key revoked', { org, keyId, by });
    return c.body(null, 204);
  });
}
