import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { queryValuesIgnoringCase } from '../../../platform/src/api/aspnet.js';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import type { TokenVerifier } from '../../../platform/src/auth/index.js';
import { jsonContent as json } from '../../../platform/src/errors/openapi.js';
import { partyRepository } from '../register/repository.js';
import { invalidField, problemContent } from '../storage/shared/problems.js';
import { ownPartyOf, requireReaderOf } from './access.js';
import { decisionCallerOf, guardDecisionRequest } from './decision-access.js';
import type { AuthorizationServices } from './services.js';
import { responseBody, XacmlRequestBody, XacmlResponseBody } from './xacml.js';
import { bindXacmlRequest, XacmlBindingError, type XacmlRequest } from './xacml-request.js';

const Id = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const invalid = { description: 'Invalid path or query; `errors` names each field', content: problemContent };
const refused = { description: 'No token (401) or not allowed to read about this user (403)', content: problemContent };

const decision = createRoute({
  method: 'post',
  path: '/decision',
  summary:
    'Decide XACML 3.0 JSON requests as Altinn does (multi-requests answered in order, each with the attributes marked ' +
    'includeInResult); unusable attributes answer Indeterminate',
  description:
    "Callers: an app by its org's platform subscription key (`Ocp-Apim-Subscription-Key`, no token, as Altinn's PEP " +
    "calls) about resources of that org only; or a platform token: an end user without their app's " +
    '`PlatformAccessToken` about themself only, orgs and apps about anyone. Anonymous calls are refused.',
  request: { body: { required: true, content: json(XacmlRequestBody) } },
  responses: {
    200: { description: 'One result per individual request', content: json(XacmlResponseBody) },
    400: { description: 'The body is not JSON or does not bind to XacmlJsonRequestRoot', content: problemContent },
    401: { description: 'No subscription key and no token, or an invalid one', content: problemContent },
    403: {
      description: 'A key asking about another org, or an end user asking about someone else',
      content: problemContent,
    },
  },
});

const Party = z.object({ partyId: z.number().int() }).passthrough().openapi('Reportee', {
  description: "Register's Party (with childParties) when Register knows it, else only partyId",
});

const parties = createRoute({
  method: 'get',
  path: '/parties',
  summary: 'The parties a user may represent: their own, and those they hold a role or an active delegation for',
  request: { query: z.object({ userId: Id.optional() }) },
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
  request: { params: z.strictObject({ partyId: Id }), query: z.object({ userId: Id.optional() }) },
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
  request: { query: z.object({ coveredByUserId: Id.optional(), offeredByPartyId: Id.optional() }) },
  responses: {
    200: { description: 'Roles, sorted by code', content: json(z.array(Role)) },
    400: invalid,
    401: refused,
    403: refused,
  },
});

/**
 * A required id query parameter bound as ASP.NET binds it: its name in any casing (app-lib sends `userid`); missing,
 * repeated or not a positive integer is a 400 naming it.
 */
function idQuery(c: Context, name: string): number {
  const values = queryValuesIgnoringCase(new URL(c.req.url), name);
  if (values.length !== 1) {
    throw invalidField(`query.${name}`, values.length === 0 ? 'is required' : 'must be given once');
  }
  const parsed = Id.safeParse(values[0]);
  if (!parsed.success) throw invalidField(`query.${name}`, 'must be a positive integer');
  return parsed.data;
}

/** Adds `POST decision`, `GET parties`, `GET parties/{partyId}/validate` and `GET roles`. */
export function addDecisionRoutes(api: PlatformApp, services: AuthorizationServices, verifier: TokenVerifier): void {
  api.openapi(decision, async (c) => {
    const caller = await decisionCallerOf(c, { db: services.db, verifier, now: services.now });
    let request: XacmlRequest;
    try {
      request = bindXacmlRequest(await c.req.text());
    } catch (error) {
      if (!(error instanceof XacmlBindingError)) throw error;
      throw invalidField(error.path, error.detail);
    }
    guardDecisionRequest(caller, request);
    const results = await services.pdp.decideRequest(request);
    return c.json(responseBody(results, request.style) as never, 200);
  });

  api.openapi(parties, async (c) => {
    const userId = idQuery(c, 'userId');
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
    const userId = idQuery(c, 'userId');
    const principal = requireReaderOf(c, userId);
    return c.json(await services.reportees.mayRepresent(userId, partyId, ownPartyOf(principal, userId)), 200);
  });

  api.openapi(roles, async (c) => {
    const coveredByUserId = idQuery(c, 'coveredByUserId');
    const offeredByPartyId = idQuery(c, 'offeredByPartyId');
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
