import { z } from '@hono/zod-openapi';
import { ACTIONS, RoleCode } from '../authorization/policy.js';

const Name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits and -');
const AppRights = z.strictObject({ org: Name, app: Name, actions: z.array(z.enum(ACTIONS)).min(1) });
const Instant = z.iso.datetime({ offset: true });

/** A new delegation: exactly one covered (user or organisation) and exactly one of a role or app rights. */
export const DelegationInput = z
  .strictObject({
    offeredByPartyId: z.number().int().min(1),
    coveredByUserId: z.number().int().min(1).optional(),
    coveredByPartyId: z.number().int().min(1).optional(),
    roleCode: RoleCode.optional(),
    rights: AppRights.optional(),
    validFrom: Instant.optional(),
    validTo: Instant.optional(),
  })
  .superRefine((input, context) => {
    if ((input.coveredByUserId === undefined) === (input.coveredByPartyId === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['coveredByUserId'],
        message: 'give exactly one of coveredByUserId and coveredByPartyId',
      });
    }
    if ((input.roleCode === undefined) === (input.rights === undefined)) {
      context.addIssue({ code: 'custom', path: ['roleCode'], message: 'give exactly one of roleCode and rights' });
    }
  })
  .openapi('DelegationInput');

/** A delegation as answered. */
export const DelegationSchema = z
  .object({
    delegationId: z.string(),
    offeredByPartyId: z.number().int(),
    coveredByUserId: z.number().int().nullable(),
    coveredByPartyId: z.number().int().nullable(),
    roleCode: z.string().nullable(),
    rights: z.object({ org: z.string(), app: z.string(), actions: z.array(z.string()) }).nullable(),
    instanceId: z.string().nullable().openapi({ description: 'Rights on this instance only (`{partyId}/{guid}`)' }),
    taskId: z.string().nullable().openapi({ description: 'Instance rights hold in this process task only' }),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    created: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi('Delegation');

/** One audited change of a delegation. */
export const DelegationAuditSchema = z
  .object({
    seq: z.number().int(),
    delegationId: z.string(),
    change: z.enum(['created', 'revoked']),
    actor: z.string(),
    at: z.string(),
    delegation: DelegationSchema,
  })
  .openapi('DelegationAudit');
