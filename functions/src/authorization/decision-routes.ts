import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../platform/api/index.js';
import { forbidden, principalOf } from '../platform/auth/index.js';
import { jsonContent as json } from '../platform/errors/openapi.js';
import { partyRepository } from '../register/repository.js';
import { problemContent } from '../storage/problems.js';
import { ownPartyOf, requireReaderOf } from './access.js';
import type { AuthorizationServices } from './services.js';
import { XacmlRequestBody, XacmlResponseBody } from './xacml.js';

const Id = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const invalid = { description: 'Invalid path or query; `errors` names each field', content: problemContent };
const refused = { description: 'No token (401) or not allowed to read about this user (403)', content: problemContent };

const decision = createRoute({
  method: 'post',
  path: '/decision',
  summary: 'Decide XACML 3.0 JSON requests (multi-requests answered in order); bad attributes answer Indeterminate',
  request: { body: { required: true, content: json(XacmlRequestBody) } },
  responses: {
    200: { description: 'One result per individual request', content: json(XacmlResponseBody) },
    400: { description: 'The body is not a JSON object', content: problemContent },
    401: refused,
  },
});

const Party = z.object({ partyId: z.number().int() }).passthrough().openapi('Reportee', {
  description: "Register's Party (with childParties) when Register knows it, else only partyId",
});

const parties = createRoute({
  method: 'get',
  path: '/parties',
  summary: 'The parties a user may represent: their own, and those they hold a role or an active delegation for',
  request: { query: z.strictObject({ userId: Id }) },
  responses: {
    200: { description: 'Reportees, by party id', content: json(z.array(Party)) },
    400: invalid,
    401: refused,
    403: refused,
  },
});

const validate = createRoute({
  method: 'get',
  path: '/parties/{partyId}/validate',
  summary: 'Whether a user may represent a party',
  request: { params: z.strictObject({ partyId: Id }), query: z.strictObject({ userId: Id }) },
  responses: {
    200: { description: 'true or false', content: json(z.boolean()) },
    400: invalid,
    401: refused,
    403: refused,
  },
});

const Role = z.object({ type: z.literal('altinn'), value: z.string() }).openapi('Role');

const roles = createRoute({
  method: 'get',
  path: '/roles',
  summary: 'The roles a user holds for a party now (assigned, delegated, PRIV for their own party)',
  request: { query: z.strictObject({ coveredByUserId: Id, offeredByPartyId: Id }) },
  responses: {
    200: { description: 'Roles, sorted by code', content: json(z.array(Role)) },
    400: invalid,
    401: refused,
    403: refused,
  },
});

/** Adds `POST decision`, `GET parties`, `GET parties/{partyId}/validate` and `GET roles`. */
export function addDecisionRoutes(api: PlatformApp, services: AuthorizationServices): void {
  api.openapi(decision, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid('json');
    // An end user calling without their app asks only about themself: decisions about others would reveal their
    // roles and delegations. Orgs, and apps (PlatformAccessToken) deciding for their users, may ask about anyone.
    if (principal.kind === 'user' && !c.get('appIdentity')) {
      const own: Record<string, string> = {
        'urn:altinn:userid': String(principal.userId),
        'urn:altinn:partyid': String(principal.partyId),
      };
      const subjects = (body as { Request?: { AccessSubject?: unknown } }).Request?.AccessSubject;
      for (const subject of Array.isArray(subjects) ? subjects : []) {
        const attributes = (subject as { Attribute?: unknown } | null)?.Attribute;
        for (const attribute of Array.isArray(attributes) ? attributes : []) {
          const { AttributeId, Value } = (attribute ?? {}) as { AttributeId?: unknown; Value?: unknown };
          const mine = typeof AttributeId === 'string' ? own[AttributeId] : undefined;
          if (mine !== undefined && String(Value) !== mine) {
            throw forbidden(`User ${principal.userId} may ask for decisions about themself only.`);
          }
        }
      }
    }
    return c.json(await services.pdp.decide(body), 200);
  });

  api.openapi(parties, async (c) => {
    const { userId } = c.req.valid('query');
    const principal = requireReaderOf(c, userId);
    const found = await services.reportees.parties(userId, ownPartyOf(principal, userId));
    // Altinn answers Register's Party objects; a party Register does not know keeps only its id.
    const registered = await partyRepository(services.db).byIds(found);
    return c.json(
      found.map((partyId) => registered.find((party) => party.partyId === partyId) ?? { partyId }),
      200,
    );
  });

  api.openapi(validate, async (c) => {
    const { partyId } = c.req.valid('param');
    const { userId } = c.req.valid('query');
    const principal = requireReaderOf(c, userId);
    return c.json(await services.reportees.mayRepresent(userId, partyId, ownPartyOf(principal, userId)), 200);
  });

  api.openapi(roles, async (c) => {
    const { coveredByUserId, offeredByPartyId } = c.req.valid('query');
    const principal = requireReaderOf(c, coveredByUserId);
    const holdings = await services.reportees.holdings(
      coveredByUserId,
      offeredByPartyId,
      ownPartyOf(principal, coveredByUserId),
    );
    const codes = [...holdings.roles].sort();
    return c.json(
      codes.map((value) => ({ type: 'altinn' as const, value })),
      200,
    );
  });
}
