import type { Principal } from '../../../../platform/src/auth/index.js';
import type { Queryable } from '../../../../platform/src/db/index.js';
import type { Instance } from '../models/instance-schemas.js';
import { instanceEventRepository } from '../repositories/instance-event-repository.js';
import { instanceGuidOf } from '../repositories/instance-repository.js';
import { newInstanceEvent } from './instance-events.js';

/** The instance events Altinn Storage records itself (InstanceEventType), never sent by callers. */
export type StorageEventType =
  | 'Created'
  | 'Deleted'
  | 'ConfirmedComplete'
  | 'SubstatusUpdated'
  | 'Signed'
  | 'SentToSign'
  | 'Saved';

/** Who caused an event, as Altinn's PlatformUser from the caller's token (`BuildInstanceEvent`). */
export function platformUserOf(principal: Principal) {
  return principal.kind === 'user'
    ? { userId: principal.userId, authenticationLevel: principal.authLevel, orgId: null }
    : { userId: null, authenticationLevel: principal.authLevel, orgId: principal.org };
}

/**
 * Records Storage's own event `eventType` of `instance` (about the data element `dataId`, if given) caused by
 * `principal`, at `stamp`, on `db` (the transaction of the change, so event and change commit together). Its
 * `processInfo` is the instance's process, as Altinn's `InstanceEventService.DispatchEvent`.
 */
export async function recordStorageEvent(
  db: Queryable,
  instance: Instance,
  eventType: StorageEventType,
  principal: Principal,
  stamp: string,
  dataId?: string,
): Promise<void> {
  const event = newInstanceEvent(
    instance.id,
    {
      eventType,
      instanceOwnerPartyId: instance.instanceOwner.partyId,
      ...(dataId ? { dataId } : {}),
      user: platformUserOf(principal),
      processInfo: instance.process ?? null,
    },
    stamp,
  );
  await instanceEventRepository(db).insertEvent(instanceGuidOf(instance), event);
}
