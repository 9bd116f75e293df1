import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import { Problem } from '../../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import {
  InstanceEvent,
  InstanceEventInput,
  InstanceEventList,
  InstanceEventParams,
  InstanceEventQuery,
  type ProcessHistoryItem,
  ProcessHistoryList,
  parseDotNetDateTime,
} from '../models/instance-event-schemas.js';
import { InstanceParams, type ProcessState } from '../models/instance-schemas.js';
import { instanceEventRepository } from '../repositories/instance-event-repository.js';
import { instanceRepository } from '../repositories/instance-repository.js';
import { instanceNotFound, mismatchedField, problemContent } from '../shared/problems.js';

/** What the instance event routes need. */
export interface InstanceEventRoutesOptions {
  db: Database;
  /** The clock stamping `created`. */
  now: () => Date;
}

/** The prefix of the event types recorded by a process change; the process history lists these. */
export const PROCESS_EVENT_PREFIX = 'process_';

const invalid = { description: 'Invalid path, query or body; `errors` names each field', content: problemContent };
const missing = { description: 'No such instance (or it is hard deleted)', content: problemContent };

const createEvent = createRoute({
  method: 'post',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/events',
  summary: 'Record an event of an instance; the body names the instance in `instanceId`, as Altinn requires',
  request: { params: InstanceParams, body: { required: true, content: json(InstanceEventInput) } },
  responses: { 201: { description: 'The stored event', content: json(InstanceEvent) }, 400: invalid, 404: missing },
});

const readEvent = createRoute({
  method: 'get',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/events/{eventGuid}',
  summary: 'Read one event of an instance',
  request: { params: InstanceEventParams },
  responses: {
    200: { description: 'The event', content: json(InstanceEvent) },
    400: invalid,
    404: { description: 'No such instance, or no such event of it', content: problemContent },
  },
});

const listEvents = createRoute({
  method: 'get',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/events',
  summary: "List an instance's events, oldest first; filter by repeated `eventTypes` and `from`/`to` on created",
  request: { params: InstanceParams, query: InstanceEventQuery },
  responses: { 200: { description: 'The events', content: json(InstanceEventList) }, 400: invalid, 404: missing },
});

const processHistory = createRoute({
  method: 'get',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/process/history',
  summary: "An instance's process history, from the process_* events recorded by process updates, oldest first",
  request: { params: InstanceParams },
  responses: {
    200: { description: 'The process history', content: json(ProcessHistoryList) },
    400: invalid,
    404: missing,
  },
});

/**
 * The process events a change from `before` to `after` records, in order (Altinn's event types):
 * - `process_StartEvent` when the process starts (no `started` before, one after);
 * - `process_EndTask` when the current task changes or goes away, with the ended task as `currentTask`;
 * - `process_StartTask` when a new current task appears;
 * - `process_EndEvent` when the process ends (`ended` set now and not before).
 * Each event's `processInfo` is the process state the step refers to.
 */
export function processChangeEvents(
  before: ProcessState | null | undefined,
  after: ProcessState,
  stamp: string,
): { eventType: string; processInfo: ProcessState }[] {
  const events: { eventType: string; processInfo: ProcessState }[] = [];
  const oldTask = before?.currentTask ?? null;
  const newTask = after.currentTask ?? null;
  if (!before?.started && after.started) events.push({ eventType: 'process_StartEvent', processInfo: after });
  if (oldTask && oldTask.elementId !== newTask?.elementId) {
    events.push({
      eventType: 'process_EndTask',
      processInfo: { ...before, currentTask: { ...oldTask, ended: oldTask.ended ?? stamp } },
    });
  }
  if (newTask && newTask.elementId !== oldTask?.elementId) {
    events.push({ eventType: 'process_StartTask', processInfo: after });
  }
  if (!before?.ended && after.ended) events.push({ eventType: 'process_EndEvent', processInfo: after });
  return events;
}

/** Builds a stored event of the instance `instanceId`, created at `stamp` (ISO 8601). */
export function newInstanceEvent(instanceId: string, input: InstanceEventInput, stamp: string): InstanceEvent {
  const { id: _id, instanceId: _instanceId, created: _created, ...fields } = input;
  return {
    ...fields,
    id: randomUUID(),
    instanceId,
    eventType: input.eventType,
    created: stamp,
    user: input.user ?? null,
    processInfo: input.processInfo ?? null,
  };
}

/** The history item of a process event (Altinn's mapping of InstanceEvent to ProcessHistoryItem). */
function historyItemOf(event: InstanceEvent): ProcessHistoryItem {
  const info = event.processInfo;
  const task = info?.currentTask ?? null;
  const user = event.user;
  const performedBy = user?.userId != null ? String(user.userId) : (user?.orgId ?? null);
  const base = { eventType: event.eventType, occured: event.created, performedBy };
  switch (event.eventType) {
    case 'process_StartEvent':
      return { ...base, elementId: info?.startEvent ?? null, started: info?.started ?? null, ended: null };
    case 'process_StartTask':
      return { ...base, elementId: task?.elementId ?? null, started: task?.started ?? null, ended: null };
    case 'process_EndTask':
      return {
        ...base,
        elementId: task?.elementId ?? null,
        started: task?.started ?? null,
        ended: task?.ended ?? event.created,
      };
    case 'process_EndEvent':
      return { ...base, elementId: info?.endEvent ?? null, started: null, ended: info?.ended ?? null };
    default:
      return {
        ...base,
        elementId: task?.elementId ?? info?.endEvent ?? null,
        started: task?.started ?? null,
        ended: task?.ended ?? null,
      };
  }
}

/** Adds the instance event and process history routes to the Storage app. */
export function addInstanceEventRoutes(api: PlatformApp, options: InstanceEventRoutesOptions): void {
  const { db, now } = options;

  /** The lower-cased guid of an existing (not hard-deleted) instance, or a 404. */
  const existingGuid = async (partyId: string, instanceGuid: string) => {
    const guid = instanceGuid.toLowerCase();
    if (!(await instanceRepository(db).findInstance(partyId, guid))) throw instanceNotFound(partyId, instanceGuid);
    return guid;
  };

  api.openapi(createEvent, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const input = c.req.valid('json');
    const guid = instanceGuid.toLowerCase();
    const instanceId = `${instanceOwnerPartyId}/${guid}`;
    // Altinn refuses an event without instanceId; one naming another instance than the path is refused here too.
    if (!input.instanceId) throw mismatchedField('instanceId', `required: ${instanceId}`);
    if (input.instanceId.toLowerCase() !== instanceId) {
      throw mismatchedField('instanceId', `must be ${instanceId} to match the path`);
    }
    // As Altinn's: the caller's `created` (app-lib sends its clock) is kept, in UTC.
    const stamp = (input.created && parseDotNetDateTime(input.created)) || now().toISOString();
    const event = await db.transaction(async (tx) => {
      if (!(await instanceRepository(tx).lockInstance(instanceOwnerPartyId, guid))) {
        throw instanceNotFound(instanceOwnerPartyId, instanceGuid);
      }
      const stored = newInstanceEvent(instanceId, input, stamp);
      await instanceEventRepository(tx).insertEvent(guid, stored);
      return stored;
    });
    return c.json(event, 201);
  });

  api.openapi(readEvent, async (c) => {
    const { instanceOwnerPartyId, instanceGuid, eventGuid } = c.req.valid('param');
    const guid = await existingGuid(instanceOwnerPartyId, instanceGuid);
    const event = await instanceEventRepository(db).findEvent(guid, eventGuid.toLowerCase());
    if (!event) {
      throw new Problem(404, {
        kind: 'not-found',
        detail: `Instance ${instanceOwnerPartyId}/${instanceGuid} has no event ${eventGuid}.`,
      });
    }
    return c.json(event, 200);
  });

  api.openapi(listEvents, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const query = c.req.valid('query');
    const guid = await existingGuid(instanceOwnerPartyId, instanceGuid);
    const eventTypes = query.eventTypes === undefined ? undefined : [query.eventTypes].flat().filter(Boolean);
    const instanceEvents = await instanceEventRepository(db).listEvents({
      instanceGuid: guid,
      eventTypes,
      from: query.from === undefined ? undefined : parseDotNetDateTime(query.from),
      to: query.to === undefined ? undefined : parseDotNetDateTime(query.to),
    });
    return c.json({ instanceEvents }, 200);
  });

  api.openapi(processHistory, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const guid = await existingGuid(instanceOwnerPartyId, instanceGuid);
    const events = await instanceEventRepository(db).listEvents({
      instanceGuid: guid,
      typePrefix: PROCESS_EVENT_PREFIX,
    });
    return c.json({ processHistory: events.map(historyItemOf) }, 200);
  });
}
