import { createRoute, z } from '@hono/zod-openapi';
import { aspNetBoolean } from '../../../../platform/src/api/aspnet.js';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { principalOf } from '../../../../platform/src/auth/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import { newInstanceEvent } from '../events/instance-events.js';
import { recordStorageEvent } from '../events/storage-events.js';
import { InstanceEventInput } from '../models/instance-event-schemas.js';
import { Instance, InstanceParams, ProcessState } from '../models/instance-schemas.js';
import { instanceEventRepository } from '../repositories/instance-event-repository.js';
import { instanceGuidOf, instanceRepository } from '../repositories/instance-repository.js';
import { callerIdOf } from '../shared/access.js';
import { instanceChanged, instanceNotFound, invalidField, problemContent } from '../shared/problems.js';
import { instanceEtag } from './instance-etag.js';
import type { InstanceLinks } from './instance-links.js';

/** Altinn's ProcessStateUpdate: the new process state and the events of the change, stored together. */
const ProcessStateUpdate = z
  .looseObject({
    state: ProcessState.nullable().optional(),
    events: z.array(InstanceEventInput).nullable().optional(),
  })
  .openapi('ProcessStateUpdate');

const updateRoute = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/process/instanceandevents',
  summary: "Replace an instance's process state and record the change's events, in one transaction",
  request: {
    params: InstanceParams,
    query: z.looseObject({ deleteGeneratedElements: aspNetBoolean.optional() }),
    body: { required: true, content: json(ProcessStateUpdate) },
  },
  responses: {
    200: { description: 'The updated instance', content: json(Instance) },
    400: { description: 'Invalid path or body; no state, or an event of another instance', content: problemContent },
    404: { description: 'No such instance', content: problemContent },
  },
});

/** Whether an event's user names someone, as Altinn's `ValidateInstanceEventUserObject`. */
function namesUser(user: InstanceEventInput['user']): boolean {
  if (!user) return false;
  const { userId, orgId, systemUserId, systemUserOwnerOrgNo, endUserSystemId } = user as Record<string, unknown>;
  const blank = (value: unknown) => typeof value !== 'string' || value.trim() === '';
  if (userId == null && blank(orgId) && systemUserId == null && endUserSystemId == null) return false;
  return systemUserId == null || !blank(systemUserOwnerOrgNo);
}

/** Adds `PUT instances/{partyId}/{guid}/process/instanceandevents` (app-lib's process start and next). */
export function addProcessRoutes(
  api: PlatformApp,
  options: { db: Database; now: () => Date; links: InstanceLinks },
): void {
  const { db, now, links } = options;

  api.openapi(updateRoute, async (c) => {
    const { instanceOwnerPartyId: partyId, instanceGuid } = c.req.valid('param');
    const { state, events } = c.req.valid('json');
    const instanceId = `${partyId}/${instanceGuid.toLowerCase()}`;
    (events ?? []).forEach((event, index) => {
      if (!namesUser(event.user))
        throw invalidField(`events[${index}].user`, 'must name a userId, orgId or system user');
      const eventInstance = typeof event.instanceId === 'string' ? event.instanceId.toLowerCase() : '';
      if (eventInstance === '') throw invalidField(`events[${index}].instanceId`, 'is missing');
      if (eventInstance !== instanceId) {
        throw invalidField(`events[${index}].instanceId`, 'does not match the instance id of the path');
      }
    });
    if (!state) throw invalidField('state', 'the process state is missing');
    const principal = principalOf(c);
    const updated = await db.transaction(async (tx) => {
      const repository = instanceRepository(tx);
      const found = await repository.lockVersionedInstance(partyId, instanceGuid.toLowerCase());
      if (!found) throw instanceNotFound(partyId, instanceGuid);
      const existing = found.instance;
      const stamp = now().toISOString();
      // As Altinn's: the process reaching its end archives the instance, stamped with the end.
      const archive = !existing.process?.ended && state.ended;
      const instance: Instance = {
        ...existing,
        process: state,
        status: archive ? { ...existing.status, isArchived: true, archived: state.ended } : existing.status,
        lastChanged: stamp,
        lastChangedBy: callerIdOf(principal),
      };
      const version = await repository.updateInstance(instance, found.version);
      if (version === undefined) throw instanceChanged(partyId, instanceGuid);
      const store = instanceEventRepository(tx);
      for (const event of events ?? []) {
        const given = typeof event.created === 'string' ? new Date(event.created) : undefined;
        const created = given && !Number.isNaN(given.getTime()) ? given.toISOString() : stamp;
        await store.insertEvent(instanceGuidOf(instance), newInstanceEvent(existing.id, event, created));
      }
      if (state.currentTask?.altinnTaskType === 'signing') {
        await recordStorageEvent(tx, instance, 'SentToSign', principal, stamp);
      }
      return { instance, etag: instanceEtag(version) };
    });
    return c.json(links.instance(updated.instance), 200, { ETag: updated.etag });
  });
}
