import { z } from '@hono/zod-openapi';

/** Attribute types of Access management's app instance delegations (app-lib's DelegationConst). */
export const DELEGATION_TYPES = {
  partyUuid: 'urn:altinn:party:uuid',
  resource: 'urn:altinn:resource',
  app: 'urn:altinn:app',
  org: 'urn:altinn:org',
  task: 'urn:altinn:task',
  actionId: 'urn:oasis:names:tc:xacml:1.0:action:action-id',
} as const;

// Members bound as Altinn's System.Text.Json DTOs: names as app-lib writes them, unknown members ignored, strings
// only where Altinn has strings.
const TypedValue = z.object({ type: z.string().min(1).max(255), value: z.string().min(1).max(255) });

/** A party of a delegation: `urn:altinn:party:uuid` and the party's UUID. */
export const DelegationParty = TypedValue.openapi('DelegationParty');

/** One resource attribute of a right: the app, the org, the task (or the resource id). */
export const ResourceAttribute = TypedValue.openapi('ResourceAttribute');

/** The action of a right: `urn:oasis:names:tc:xacml:1.0:action:action-id` and e.g. `read` or `sign`. */
export const RightAction = TypedValue.openapi('RightAction');

const Right = z.object({
  resource: z.array(ResourceAttribute).min(1).max(10),
  action: RightAction,
});

/** Altinn's AppsInstanceDelegationRequestDto: rights on one instance from its owner to a party. */
export const AppsInstanceDelegationRequest = z
  .object({
    from: DelegationParty,
    to: DelegationParty,
    rights: z.array(Right).min(1).max(50),
  })
  .openapi('AppsInstanceDelegationRequestDto');

/** The body of a delegation or revocation. */
export type AppsInstanceDelegationInput = z.infer<typeof AppsInstanceDelegationRequest>;

const answer = <S extends z.ZodType>(status: S, name: string) =>
  z
    .object({
      from: DelegationParty,
      to: DelegationParty,
      resourceId: z.string(),
      instanceId: z.string(),
      rights: z.array(Right.extend({ status })),
    })
    .openapi(name);

/** Altinn's AppsInstanceDelegationResponseDto: each right with `Delegated` or `NotDelegated`. */
export const AppsInstanceDelegationResponse = answer(
  z.enum(['Delegated', 'NotDelegated']),
  'AppsInstanceDelegationResponseDto',
);

/** Altinn's AppsInstanceRevokeResponseDto: each right with `Revoked` or `NotRevoked`. */
export const AppsInstanceRevokeResponse = answer(z.enum(['Revoked', 'NotRevoked']), 'AppsInstanceRevokeResponseDto');
