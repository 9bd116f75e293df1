import type { AppIdentity } from '../../../platform/src/auth/index.js';
import { forbidden } from '../../../platform/src/auth/index.js';
import type { Queryable } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { ACTIONS, rulesFor } from '../authorization/policy.js';
import { authorizationRepository } from '../authorization/repository.js';
import type { AuthorizationServices } from '../authorization/services.js';
import { type Delegation, delegationRepository } from '../intermediary/repository.js';
import { profileRepository } from '../profile/repository.js';
import { partyRepository } from '../register/repository.js';
import { PARTY_TYPES } from '../register/schemas.js';
import { instanceRepository } from '../storage/repositories/instance-repository.js';
import { invalidField } from '../storage/shared/problems.js';
import { type AppsInstanceDelegationInput, DELEGATION_TYPES } from './schemas.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_ID = /^app_([a-z0-9][a-z0-9-]{0,62})_([a-z0-9][a-z0-9-]{0,62})$/;
const TASK = /^[A-Za-z0-9_.-]{1,100}$/;
const DELEGABLE = new Set<string>(ACTIONS);

/** One right of a request: an action in a task (null: any task). */
export interface RequestedRight {
  action: string;
  taskId: string | null;
  /** Whether the app may delegate it: its policy grants the action in that task (any known action without one). */
  delegable: boolean;
}

/** A request checked and its parties and instance resolved. */
export interface ResolvedDelegation {
  app: AppIdentity;
  instanceGuid: string;
  /** The instance owner, the party delegating. */
  fromPartyId: number;
  /** Who receives: the user whose own party `to` is, or the organisation `to` is. */
  covered: { userId: number | null; partyId: number | null };
  rights: RequestedRight[];
}

/** How the audit trail names an app changing delegations. */
export const actorOfApp = (app: AppIdentity): string => `app:${app.org}/${app.app}`;

/** The app `org/app` a resource id `app_{org}_{app}` names; 400 when it names none. */
export function appOfResourceId(resourceId: string): AppIdentity {
  const match = RESOURCE_ID.exec(resourceId);
  if (!match?.[1] || !match[2]) throw invalidField('resourceId', "must be an app's resource id, app_{org}_{app}");
  return { org: match[1], app: match[2] };
}

/** The action and task of each right, checked against the app; 400 naming the first wrong field. */
function rightsOf(
  body: AppsInstanceDelegationInput,
  app: AppIdentity,
  resourceId: string,
): Omit<RequestedRight, 'delegable'>[] {
  return body.rights.map((right, index) => {
    const at = `rights[${index}]`;
    if (right.action.type !== DELEGATION_TYPES.actionId) {
      throw invalidField(`${at}.action.type`, `must be ${DELEGATION_TYPES.actionId}`);
    }
    const seen = new Map<string, string>();
    for (const [n, attribute] of right.resource.entries()) {
      const known = [DELEGATION_TYPES.app, DELEGATION_TYPES.org, DELEGATION_TYPES.task, DELEGATION_TYPES.resource];
      if (!(known as string[]).includes(attribute.type)) {
        throw invalidField(`${at}.resource[${n}].type`, `must be one of ${known.join(', ')}`);
      }
      if (seen.has(attribute.type)) throw invalidField(`${at}.resource[${n}].type`, `${attribute.type} is given twice`);
      seen.set(attribute.type, attribute.value);
    }
    const named = seen.get(DELEGATION_TYPES.resource);
    const org = seen.get(DELEGATION_TYPES.org);
    const appName = seen.get(DELEGATION_TYPES.app);
    if (named === undefined && (org === undefined || appName === undefined)) {
      throw invalidField(`${at}.resource`, `must name the app: ${DELEGATION_TYPES.org} and ${DELEGATION_TYPES.app}`);
    }
    if (
      (named !== undefined && named !== resourceId) ||
      (org ?? app.org) !== app.org ||
      (appName ?? app.app) !== app.app
    ) {
      throw invalidField(`${at}.resource`, `must name the app of the path, ${app.org}/${app.app}`);
    }
    const taskId = seen.get(DELEGATION_TYPES.task) ?? null;
    if (taskId !== null && !TASK.test(taskId)) throw invalidField(`${at}.resource`, 'the task id is not a task id');
    return { action: right.action.value, taskId };
  });
}

/** A party UUID of `from` or `to`; 400 when the type or the value is not one. */
function partyUuidOf(party: { type: string; value: string }, field: 'from' | 'to'): string {
  if (party.type !== DELEGATION_TYPES.partyUuid)
    throw invalidField(`${field}.type`, `must be ${DELEGATION_TYPES.partyUuid}`);
  if (!GUID.test(party.value)) throw invalidField(`${field}.value`, 'must be a party UUID');
  return party.value.toLowerCase();
}

/**
 * Checks a delegation or revocation as the app `caller` sends it and resolves its parties through Register: 403 when
 * the resource is not the caller's own app, 404 when the instance is not one of that app's, 400 naming the field
 * when anything else is wrong (unknown party, a `from` that does not own the instance).
 */
export async function resolveDelegation(
  db: Queryable,
  caller: AppIdentity,
  path: { resourceId: string; instanceId: string },
  body: AppsInstanceDelegationInput,
): Promise<ResolvedDelegation> {
  const app = appOfResourceId(path.resourceId);
  if (app.org !== caller.org || app.app !== caller.app) {
    throw forbidden(`The app ${caller.org}/${caller.app} may not delegate rights on ${path.resourceId}.`);
  }
  if (!GUID.test(path.instanceId)) throw invalidField('instanceId', 'must be an instance guid');
  const instanceGuid = path.instanceId.toLowerCase();
  const asked = rightsOf(body, app, path.resourceId);
  const fromUuid = partyUuidOf(body.from, 'from');
  const toUuid = partyUuidOf(body.to, 'to');
  const owner = await instanceRepository(db).ownerOf(app.org, app.app, instanceGuid);
  if (owner === undefined) {
    throw new Problem(404, {
      kind: 'not-found',
      detail: `Instance ${instanceGuid} of ${app.org}/${app.app} does not exist.`,
    });
  }
  const parties = partyRepository(db);
  const from = await parties.byUuid(fromUuid);
  if (!from) throw invalidField('from.value', 'no party has this UUID');
  if (from.partyId !== owner) throw invalidField('from.value', "is not the instance's owner");
  const to = await parties.byUuid(toUuid);
  if (!to) throw invalidField('to.value', 'no party has this UUID');
  if (to.partyId === from.partyId) throw invalidField('to.value', "is the instance's owner");
  let covered: ResolvedDelegation['covered'];
  if (to.partyTypeName === PARTY_TYPES.person || to.partyTypeName === PARTY_TYPES.selfIdentified) {
    const user = await profileRepository(db).byPartyId(to.partyId);
    if (!user) throw invalidField('to.value', 'the person has no user to receive rights');
    covered = { userId: user.userId, partyId: null };
  } else {
    covered = { userId: null, partyId: to.partyId };
  }
  // As Altinn's delegation check: an app delegates the rights its policy has (an app without one, any known action).
  const policy = (await authorizationRepository(db).findPolicy(app.org, app.app))?.policy;
  const rights = asked.map((right) => ({
    ...right,
    delegable:
      DELEGABLE.has(right.action) &&
      (!policy || rulesFor(policy, { ...app, task: right.taskId ?? undefined }, right.action).length > 0),
  }));
  return { app, instanceGuid, fromPartyId: from.partyId, covered, rights };
}

/** The rights grouped by task, each task's actions in order, each once. */
function byTask(rights: readonly Omit<RequestedRight, 'delegable'>[]): Map<string | null, string[]> {
  const groups = new Map<string | null, string[]>();
  for (const { action, taskId } of rights) {
    const actions = groups.get(taskId) ?? [];
    if (!actions.includes(action)) actions.push(action);
    groups.set(taskId, actions);
  }
  return groups;
}

/**
 * Stores what `delegation` asks for (its delegable actions) in one change: each task's active delegation on the
 * instance is replaced by one holding the union of its actions and the new ones (both changes audited); nothing
 * changes when it holds them all already.
 */
export async function applyDelegation(services: AuthorizationServices, delegation: ResolvedDelegation): Promise<void> {
  const delegable = { ...delegation, rights: delegation.rights.filter((right) => right.delegable) };
  await changeInstanceRights(services, delegable, (held, asked) => [
    ...held,
    ...asked.filter((action) => !held.includes(action)),
  ]);
}

/** Takes the actions of `delegation` away in one change, keeping (as a new, audited delegation) what is left. */
export async function applyRevocation(services: AuthorizationServices, delegation: ResolvedDelegation): Promise<void> {
  await changeInstanceRights(services, delegation, (held, asked) => held.filter((action) => !asked.includes(action)));
}

async function changeInstanceRights(
  services: AuthorizationServices,
  delegation: ResolvedDelegation,
  next: (held: string[], asked: string[]) => string[],
): Promise<void> {
  const { app, instanceGuid, fromPartyId, covered } = delegation;
  const actor = actorOfApp(app);
  await services.change(async (tx) => {
    const repository = delegationRepository(tx);
    const now = services.now();
    // One change per instance at a time: the instance's row is locked until this change commits.
    await instanceRepository(tx).lockRow(instanceGuid);
    const active: Delegation[] = await repository.onInstance(instanceGuid, fromPartyId, covered);
    for (const [taskId, asked] of byTask(delegation.rights)) {
      const current = active.find((existing) => existing.taskId === taskId);
      const held = current?.rights?.actions ?? [];
      const wanted = next(held, asked);
      if (wanted.length === held.length && wanted.every((action) => held.includes(action))) continue;
      if (current) await repository.revoke(current.delegationId, actor, now);
      if (wanted.length === 0) continue;
      await repository.insert(
        {
          offeredByPartyId: fromPartyId,
          coveredByUserId: covered.userId,
          coveredByPartyId: covered.partyId,
          roleCode: null,
          rights: { org: app.org, app: app.app, actions: wanted },
          instance: { instanceGuid, taskId },
          validFrom: now,
          validTo: null,
        },
        actor,
        now,
      );
    }
  });
}
