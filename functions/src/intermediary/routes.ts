import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { forbidden, hasScope, type Principal, principalOf } from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../platform/src/errors/openapi.js';
import type { PlatformEnv } from '../../../platform/src/request-context/index.js';
import { AUTHORIZATION_SCOPES } from '../authorization/access.js';
import { authorizationRepository } from '../authorization/repository.js';
import type { AuthorizationServices } from '../authorization/services.js';
import { invalidField, problemContent } from '../storage/shared/problems.js';
import { type Delegation, delegationRepository } from './repository.js';
import { DelegationAuditSchema, DelegationInput, DelegationSchema } from './schemas.js';

/** Roles that let a user delegate on behalf of a party: the general manager and the access manager. */
export const DELEGATING_ROLES = ['DAGL', 'ADMAI'] as const;

const Id = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const IncludeRevoked = z.enum(['true', 'false']).optional();
const errors = {
  400: { description: 'Invalid input; `errors` names each field', content: problemContent },
  401: { description: 'No valid token', content: problemContent },
  403: { description: "Not the party's authorised representative (nor a delegations admin)", content: problemContent },
};
const missing = { description: 'No such delegation', content: problemContent };
const ByIdParams = z.strictObject({ delegationId: z.uuid() });

const create = createRoute({
  method: 'post',
  path: '/delegations',
  summary: 'Delegate a role or app rights from the offering party to a user or an organisation, effective at once',
  request: { body: { required: true, content: json(DelegationInput) } },
  responses: { 201: { description: 'Delegated; `Location` names it', content: json(DelegationSchema) }, ...errors },
});

const offered = createRoute({
  method: 'get',
  path: '/delegations/offered',
  summary: 'Delegations a party has offered, oldest first',
  request: { query: z.strictObject({ partyId: Id, includeRevoked: IncludeRevoked }) },
  responses: { 200: { description: 'Delegations', content: json(z.array(DelegationSchema)) }, ...errors },
});

const received = createRoute({
  method: 'get',
  path: '/delegations/received',
  summary: 'Delegations a user (userId) or an organisation (partyId) has received, oldest first',
  request: { query: z.strictObject({ userId: Id.optional(), partyId: Id.optional(), includeRevoked: IncludeRevoked }) },
  responses: { 200: { description: 'Delegations', content: json(z.array(DelegationSchema)) }, ...errors },
});

const read = createRoute({
  method: 'get',
  path: '/delegations/{delegationId}',
  summary: 'Read a delegation',
  request: { params: ByIdParams },
  responses: { 200: { description: 'The delegation', content: json(DelegationSchema) }, ...errors, 404: missing },
});

const revoke = createRoute({
  method: 'delete',
  path: '/delegations/{delegationId}',
  summary: 'Revoke a delegation, effective at once; answers it as revoked',
  request: { params: ByIdParams },
  responses: {
    200: { description: 'The revoked delegation', content: json(DelegationSchema) },
    ...errors,
    404: missing,
    409: { description: 'Already revoked', content: problemContent },
  },
});

const audit = createRoute({
  method: 'get',
  path: '/delegations/{delegationId}/audit',
  summary: 'Every change of a delegation: who, when and the delegation after the change',
  request: { params: ByIdParams },
  responses: {
    200: { description: 'Changes, oldest first', content: json(z.array(DelegationAuditSchema)) },
    ...errors,
    404: missing,
  },
});

/** How the audit trail names a caller. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.userId}` : `org:${principal.org}`;
}

const notFound = (id: string) => new Problem(404, { kind: 'not-found', detail: `Delegation ${id} does not exist.` });

/** Whether the caller may administer every delegation. */
const isAdmin = (principal: Principal) => hasScope(principal, AUTHORIZATION_SCOPES.delegationsAdmin);

/** Whether the caller is the party's authorised representative: the person themself, DAGL or ADMAI, or an admin. */
async function represents(services: AuthorizationServices, principal: Principal, partyId: number): Promise<boolean> {
  if (isAdmin(principal)) return true;
  if (principal.kind !== 'user') return false;
  if (principal.partyId === partyId) return true;
  // Only a role assigned as data counts here, never one received by delegation: otherwise a lent ADMAI could
  // delegate itself onwards and outlive its own revocation.
  const at = services.now().getTime();
  const assignments = await authorizationRepository(services.db).listAssignments({
    userId: principal.userId,
    partyId,
  });
  return assignments.some(
    (assignment) =>
      (DELEGATING_ROLES as readonly string[]).includes(assignment.roleCode) &&
      Date.parse(assignment.validFrom) <= at &&
      (assignment.validTo === null || Date.parse(assignment.validTo) > at),
  );
}

/** Adds the delegation routes of Intermediary. */
export function addDelegationRoutes(api: PlatformApp, services: AuthorizationServices, prefix: string): void {
  async function requireRepresentative(c: Context<PlatformEnv>, partyId: number): Promise<Principal> {
    const principal = principalOf(c);
    if (await represents(services, principal, partyId)) return principal;
    throw forbidden(`${actorOf(principal)} is not an authorised representative of party ${partyId}.`);
  }

  /** The delegation `id`, if the caller represents its offering party or is the user it covers. */
  async function visible(c: Context<PlatformEnv>, id: string): Promise<Delegation> {
    const principal = principalOf(c);
    const delegation = await delegationRepository(services.db).find(id);
    if (!delegation) throw notFound(id);
    const covered = principal.kind === 'user' && principal.userId === delegation.coveredByUserId;
    if (!covered && !(await represents(services, principal, delegation.offeredByPartyId))) {
      throw forbidden(`${actorOf(principal)} may not see delegation ${id}.`);
    }
    return delegation;
  }

  api.openapi(create, async (c) => {
    const input = c.req.valid('json');
    const principal = await requireRepresentative(c, input.offeredByPartyId);
    const now = services.now();
    const validFrom = input.validFrom ? new Date(input.validFrom) : now;
    const validTo = input.validTo ? new Date(input.validTo) : null;
    if (validTo && validTo <= validFrom) throw invalidField('validTo', 'must be after validFrom');
    if (validTo && validTo <= now) throw invalidField('validTo', 'must be in the future');
    const delegation = await services.change((tx) =>
      delegationRepository(tx).insert(
        {
          offeredByPartyId: input.offeredByPartyId,
          coveredByUserId: input.coveredByUserId ?? null,
          coveredByPartyId: input.coveredByPartyId ?? null,
          roleCode: input.roleCode ?? null,
          rights: input.rights ? { ...input.rights, actions: [...new Set(input.rights.actions)] } : null,
          validFrom,
          validTo,
        },
        actorOf(principal),
        now,
      ),
    );
    return c.json(delegation, 201, { Location: `${prefix}/delegations/${delegation.delegationId}` });
  });

  api.openapi(offered, async (c) => {
    const { partyId, includeRevoked } = c.req.valid('query');
    await requireRepresentative(c, partyId);
    return c.json(await delegationRepository(services.db).offered(partyId, includeRevoked === 'true'), 200);
  });

  api.openapi(received, async (c) => {
    const { userId, partyId, includeRevoked } = c.req.valid('query');
    if ((userId === undefined) === (partyId === undefined)) {
      throw invalidField('query.userId', 'give exactly one of userId and partyId');
    }
    const principal = principalOf(c);
    if (partyId !== undefined) await requireRepresentative(c, partyId);
    else if (!isAdmin(principal) && !(principal.kind === 'user' && principal.userId === userId)) {
      throw forbidden(`${actorOf(principal)} may not list the delegations user ${userId} received.`);
    }
    const covered = userId === undefined ? { partyId: partyId as number } : { userId };
    return c.json(await delegationRepository(services.db).received(covered, includeRevoked === 'true'), 200);
  });

  api.openapi(read, async (c) => c.json(await visible(c, c.req.valid('param').delegationId), 200));

  api.openapi(revoke, async (c) => {
    const { delegationId } = c.req.valid('param');
    const existing = await delegationRepository(services.db).find(delegationId);
    if (!existing) throw notFound(delegationId);
    const principal = await requireRepresentative(c, existing.offeredByPartyId);
    const revoked = await services.change((tx) =>
      delegationRepository(tx).revoke(delegationId, actorOf(principal), services.now()),
    );
    if (!revoked) {
      throw new Problem(409, { kind: 'conflict', detail: `Delegation ${delegationId} is already revoked.` });
    }
    return c.json(revoked, 200);
  });

  api.openapi(audit, async (c) => {
    const { delegationId } = c.req.valid('param');
    await visible(c, delegationId);
    return c.json(await delegationRepository(services.db).auditTrail(delegationId), 200);
  });
}
