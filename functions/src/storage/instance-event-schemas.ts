import { z } from '@hono/zod-openapi';
import { ProcessState } from './instance-schemas.js';

/** An ISO 8601 date-time with `Z` or an offset. */
const DateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with Z or an offset' });

/** Who caused an event (Altinn's PlatformUser). */
const PlatformUser = z
  .looseObject({
    userId: z.number().int().nullable().optional(),
    orgId: z.string().nullable().optional(),
    authenticationLevel: z.number().int().min(0).optional(),
  })
  .openapi('PlatformUser');

/** An event as callers send it; the server sets `id`, `instanceId` and `created`. */
export const InstanceEventInput = z
  .looseObject({
    eventType: z.string().min(1),
    user: PlatformUser.nullable().optional(),
    processInfo: ProcessState.nullable().optional(),
  })
  .openapi('InstanceEventInput');

/** What callers send to record an event. */
export type InstanceEventInput = z.infer<typeof InstanceEventInput>;

/** An event of an instance as stored and answered (Altinn Storage's InstanceEvent). */
export const InstanceEvent = z
  .looseObject({
    id: z.string(),
    instanceId: z.string(),
    eventType: z.string(),
    created: z.string(),
    user: PlatformUser.nullable(),
    processInfo: ProcessState.nullable(),
  })
  .openapi('InstanceEvent');

/** An event of an instance. */
export type InstanceEvent = z.infer<typeof InstanceEvent>;

/** The answer of an event listing. */
export const InstanceEventList = z.object({ instanceEvents: z.array(InstanceEvent) }).openapi('InstanceEventList');

/** One step of an instance's process (Altinn's ProcessHistoryItem). */
export const ProcessHistoryItem = z
  .object({
    eventType: z.string(),
    elementId: z.string().nullable(),
    occured: z.string(),
    started: z.string().nullable(),
    ended: z.string().nullable(),
    performedBy: z.string().nullable(),
  })
  .openapi('ProcessHistoryItem');

/** One step of an instance's process. */
export type ProcessHistoryItem = z.infer<typeof ProcessHistoryItem>;

/** The answer of a process history request. */
export const ProcessHistoryList = z
  .object({ processHistory: z.array(ProcessHistoryItem) })
  .openapi('ProcessHistoryList');

/** Query parameters of the event listing: repeated `eventTypes`, and `from`/`to` bounds on `created`. */
export const InstanceEventQuery = z.strictObject({
  eventTypes: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  from: DateTime.optional(),
  to: DateTime.optional(),
});
