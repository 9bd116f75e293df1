import { z } from '@hono/zod-openapi';
import { InstanceParams, ProcessState } from './instance-schemas.js';

/** Who caused an event (Altinn's PlatformUser). */
const PlatformUser = z
  .looseObject({
    userId: z.number().int().nullable().optional(),
    orgId: z.string().nullable().optional(),
    authenticationLevel: z.number().int().min(0).optional(),
  })
  .openapi('PlatformUser');

/**
 * An event as callers send it (Altinn's InstanceEvent: dataId, instanceOwnerPartyId, relatedUser, additionalInfo
 * and other fields are kept as sent). The server sets `id`; `instanceId` names the instance of the path (Altinn's
 * POST requires it) and `created` is kept when sent, as Altinn's, else the server's clock.
 */
export const InstanceEventInput = z
  .looseObject({
    instanceId: z.string().nullish(),
    created: z
      .string()
      .nullish()
      .refine((value) => value == null || parseDotNetDateTime(value) !== undefined, {
        message: 'must be a date-time, e.g. 2026-01-01T00:00:00Z',
      }),
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

const DOTNET_DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A date or date-time as Altinn reads `from` and `to` (.NET `DateTime.Parse`, assuming UTC): `2026-01-01`,
 * `2026-01-01T10:00`, `2026-01-01 10:00:00.1234567`, with `Z` or an offset or without (UTC). The ISO instant, or
 * undefined when it is not one.
 */
export function parseDotNetDateTime(value: string): string | undefined {
  const match = DOTNET_DATE_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, date, time = '00:00:00', zone = 'Z'] = match;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  // JavaScript keeps milliseconds only: .NET's seven fraction digits are cut to three.
  const [clock = '', fraction] = time.split('.');
  const at = Date.parse(`${date}T${clock}${fraction ? `.${fraction.slice(0, 3)}` : ''}${offset}`);
  if (Number.isNaN(at)) return undefined;
  const iso = new Date(at).toISOString();
  // Date.parse rolls 2026-02-30 over to March: refuse dates that are not on the calendar.
  return offset === 'Z' && iso.slice(0, 10) !== date ? undefined : iso;
}

const DotNetDateTime = z
  .string()
  .refine((value) => parseDotNetDateTime(value) !== undefined, {
    message: 'must be a date or date-time, e.g. 2026-01-01T00:00:00Z (without a zone it is UTC)',
  })
  .openapi({ example: '2026-01-01T00:00:00Z' });

/**
 * Query parameters of the event listing: repeated `eventTypes`, and `from`/`to` bounds on `created` (inclusive).
 * Parameters Altinn does not know are ignored, as ASP.NET does.
 */
export const InstanceEventQuery = z.object({
  eventTypes: z.union([z.string(), z.array(z.string())]).optional(),
  from: DotNetDateTime.optional(),
  to: DotNetDateTime.optional(),
});

/** Path parameters naming one event of one instance. */
export const InstanceEventParams = InstanceParams.extend({
  eventGuid: z.guid('must be a GUID, e.g. 4c1c2b6e-2d6b-4f0e-9a58-2f3e1a6d2c10'),
});
