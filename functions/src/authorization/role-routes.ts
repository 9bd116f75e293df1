import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { principalOf } from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../platform/src/errors/openapi.js';
import { mismatchedField, problemContent } from '../storage/shared/problems.js';
import { AUTHORIZATION_SCOPES, requireScope } from './access.js';
import { RoleCode } from './policy.js';
import { authorizationRepository } from './repository.js';
import type { AuthorizationServices } from './services.js';

const Id = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const RoleAssignmentInput = z
  .strictObject({
    userId: z.number().int().min(1),
    partyId: z.number().int().min(1),
    roleCode: RoleCode,
    validFrom: z.iso.datetime({ offset: true }).optional(),
    validTo: z.iso.datetime({ offset: true }).optional(),
  })
  .openapi('RoleAssignmentInput');

const RoleAssignment = z
  .object({
    id: z.number().int(),
    userId: z.number().int(),
    partyId: z.number().int(),
    roleCode: z.string(),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    created: z.string(),
  })
  .openapi('RoleAssignment');

const errors = {
  400: { description: 'Invalid input; `errors` names each field', content: problemContent },
  401: { description: 'No valid token', content: problemContent },
  403: { description: 'The caller lacks the scope altinn:authorization/roles.admin', content: problemContent },
};

const create = createRoute({
  method: 'post',
  path: '/roleassignments',
  summary: 'Assign a role to a user for a party (roles admin)',
  request: { body: { required: true, content: json(RoleAssignmentInput) } },
  responses: {
    201: { description: 'Assigned; `Location` names it', content: json(RoleAssignment) },
    ...errors,
    409: { description: 'The user already holds that role for that party', content: problemContent },
  },
});

const list = createRoute({
  method: 'get',
  path: '/roleassignments',
  summary: 'List role assignments by user and/or party (roles admin)',
  request: { query: z.strictObject({ userId: Id.optional(), partyId: Id.optional() }) },
  responses: { 200: { description: 'Assignments, oldest first', content: json(z.array(RoleAssignment)) }, ...errors },
});

const remove = createRoute({
  method: 'delete',
  path: '/roleassignments/{id}',
  summary: 'Remove a role assignment (roles admin); effective at once in decisions',
  request: { params: z.strictObject({ id: Id }) },
  responses: {
    204: { description: 'Removed' },
    ...errors,
    404: { description: 'No such assignment', content: problemContent },
  },
});

/** Adds the role assignment admin routes: roles are data, written by callers holding the roles admin scope. */
export function addRoleAssignmentRoutes(api: PlatformApp, services: AuthorizationServices, prefix: string): void {
  api.openapi(create, async (c) => {
    requireScope(principalOf(c), AUTHORIZATION_SCOPES.rolesAdmin);
    const input = c.req.valid('json');
    const validFrom = input.validFrom ? new Date(input.validFrom) : services.now();
    const validTo = input.validTo ? new Date(input.validTo) : null;
    if (validTo && validTo <= validFrom) throw mismatchedField('validTo', 'must be after validFrom');
    const assignment = await services.change((tx) =>
      authorizationRepository(tx).insertAssignment({ ...input, validFrom, validTo }, services.now()),
    );
    if (!assignment) {
      throw new Problem(409, {
        kind: 'conflict',
        detail: `User ${input.userId} already holds ${input.roleCode} for party ${input.partyId}.`,
      });
    }
    return c.json(assignment, 201, { Location: `${prefix}/roleassignments/${assignment.id}` });
  });

  api.openapi(list, async (c) => {
    requireScope(principalOf(c), AUTHORIZATION_SCOPES.rolesAdmin);
    return c.json(await authorizationRepository(services.db).listAssignments(c.req.valid('query')), 200);
  });

  api.openapi(remove, async (c) => {
    requireScope(principalOf(c), AUTHORIZATION_SCOPES.rolesAdmin);
    const { id } = c.req.valid('param');
    const removed = await services.change((tx) => authorizationRepository(tx).deleteAssignment(id));
    if (!removed) throw new Problem(404, { kind: 'not-found', detail: `Role assignment ${id} does not exist.` });
    return c.body(null, 204);
  });
}
