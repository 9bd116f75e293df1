import { z } from '@hono/zod-openapi';
import { AppId, Name } from '../shared/schemas.js';

/** A party id as Altinn sends it: a string of digits without leading zeros. */
export const PartyId = z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be a party id: digits, no leading zero');

/** Path parameters naming one instance: `{instanceOwnerPartyId}/{instanceGuid}`. */
export const InstanceParams = z.strictObject({
  instanceOwnerPartyId: PartyId,
  instanceGuid: z.guid('must be a GUID, e.g. 4c1c2b6e-2d6b-4f0e-9a58-2f3e1a6d2c10'),
});

/** An ISO 8601 date-time with `Z` or an offset. */
const DateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with Z or an offset' });

const Stamp = z.string().nullable();

/** The task an instance's process is in (Altinn's ProcessElementInfo). */
const ProcessElementInfo = z
  .looseObject({
    flow: z.number().int().nullable().optional(),
    started: DateTime.nullable().optional(),
    elementId: z.string().min(1),
    name: z.string().nullable().optional(),
    altinnTaskType: z.string().nullable().optional(),
    ended: DateTime.nullable().optional(),
    validated: z.looseObject({}).nullable().optional(),
    flowType: z.string().nullable().optional(),
  })
  .openapi('ProcessElementInfo');

/** Where an instance is in its app's process (Altinn's ProcessState). */
export const ProcessState = z
  .looseObject({
    started: DateTime.nullable().optional(),
    startEvent: z.string().nullable().optional(),
    currentTask: ProcessElementInfo.nullable().optional(),
    ended: DateTime.nullable().optional(),
    endEvent: z.string().nullable().optional(),
  })
  .openapi('ProcessState');

/** Where an instance is in its app's process. */
export type ProcessState = z.infer<typeof ProcessState>;

/** Who owns an instance (Altinn's InstanceOwner). */
const InstanceOwner = z
  .looseObject({
    partyId: PartyId,
    personNumber: z.string().nullable().optional(),
    organisationNumber: z.string().nullable().optional(),
    username: z.string().nullable().optional(),
  })
  .openapi('InstanceOwner');

/** An instance's status (Altinn's InstanceStatus). */
const InstanceStatus = z
  .looseObject({
    isArchived: z.boolean(),
    archived: Stamp.optional(),
    isSoftDeleted: z.boolean(),
    softDeleted: Stamp.optional(),
    isHardDeleted: z.boolean(),
    hardDeleted: Stamp.optional(),
    readStatus: z.enum(['Unread', 'Read', 'UpdatedSinceLastReview']),
    substatus: z.looseObject({ label: z.string().nullable().optional() }).nullable().optional(),
  })
  .openapi('InstanceStatus');

/** A stakeholder's confirmation that it has everything it needs from an instance (Altinn's CompleteConfirmation). */
const CompleteConfirmation = z
  .looseObject({ stakeholderId: z.string(), confirmedOn: z.string() })
  .openapi('CompleteConfirmation');

/**
 * An Instance template as callers send it to create one. `appId` and `org` may be echoed back but must match the
 * query; the server sets `id`, `selfLinks`, `data`, the status flags, completeConfirmations and the stamps, so values sent for them are
 * ignored. Other fields of Altinn's Instance are kept as sent.
 */
export const InstanceInput = z
  .looseObject({
    instanceOwner: InstanceOwner,
    appId: AppId.optional(),
    org: Name.optional(),
    dueBefore: DateTime.nullable().optional(),
    visibleAfter: DateTime.nullable().optional(),
    process: ProcessState.nullable().optional(),
    status: z
      .looseObject({ substatus: z.looseObject({ label: z.string().nullable().optional() }).nullable().optional() })
      .nullable()
      .optional(),
  })
  .openapi('InstanceInput');

/** What callers send to create an instance. */
export type InstanceInput = z.infer<typeof InstanceInput>;

/** An instance as stored and answered (Altinn Storage's Instance); `id` is `{partyId}/{instanceGuid}`. */
export const Instance = z
  .looseObject({
    id: z.string(),
    instanceOwner: InstanceOwner,
    appId: z.string(),
    org: z.string(),
    selfLinks: z.looseObject({ platform: z.string() }),
    dueBefore: DateTime.nullable().optional(),
    visibleAfter: DateTime.nullable().optional(),
    process: ProcessState.nullable(),
    status: InstanceStatus,
    completeConfirmations: z.array(CompleteConfirmation).nullable().optional(),
    data: z.array(z.looseObject({})),
    created: z.string(),
    createdBy: Stamp,
    lastChanged: z.string(),
    lastChangedBy: Stamp,
  })
  .openapi('Instance');

/** An instance as stored and answered. */
export type Instance = z.infer<typeof Instance>;

/** One page of an instance query. */
export const InstanceQueryResponse = z
  .object({
    count: z.number().int(),
    self: z.string(),
    next: z.string().optional(),
    instances: z.array(Instance),
  })
  .openapi('QueryResponse');
