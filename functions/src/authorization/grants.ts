import type { Database } from '../../../platform/src/db/index.js';
import type { PartyAccess } from '../storage/shared/access.js';
import { authorizationRepository, type Grant } from './repository.js';
import type { DecisionRequest } from './xacml.js';

/** The role every person holds for their own party. */
export const PRIVATE_ROLE = 'PRIV';

/** App rights delegated on one instance, e.g. a signee's read and sign in the signing task. */
export interface InstanceRights {
  org: string;
  app: string;
  actions: string[];
  taskId: string | null;
}

/** What a user holds for one party at one instant. */
export interface Holdings {
  roles: Set<string>;
  /** App rights delegated to the user for the party. */
  appRights: { org: string; app: string; actions: string[] }[];
  /** Rights delegated to the user on the one instance asked about, in a task (null: any task). */
  instanceRights: InstanceRights[];
  /** The first instant after `now` when a grant starts or ends, ms since epoch; Infinity when none will. */
  changesAt: number;
}

/** The roles and app rights among `grants` that hold at `now`, plus PRIV when the party is the user's own. */
export function holdingsOf(grants: readonly Grant[], now: Date, ownParty: boolean): Holdings {
  const at = now.getTime();
  const holdings: Holdings = {
    roles: new Set(),
    appRights: [],
    instanceRights: [],
    changesAt: Number.POSITIVE_INFINITY,
  };
  if (ownParty) holdings.roles.add(PRIVATE_ROLE);
  for (const grant of grants) {
    const from = grant.validFrom.getTime();
    const to = grant.validTo?.getTime() ?? Number.POSITIVE_INFINITY;
    if (from > at) {
      holdings.changesAt = Math.min(holdings.changesAt, from);
      continue;
    }
    if (to <= at) continue;
    holdings.changesAt = Math.min(holdings.changesAt, to);
    if (grant.roleCode) holdings.roles.add(grant.roleCode);
    else if (grant.org && grant.app && grant.actions) {
      const rights = { org: grant.org, app: grant.app, actions: grant.actions };
      if (grant.instance) holdings.instanceRights.push({ ...rights, taskId: grant.instance.taskId });
      else holdings.appRights.push(rights);
    }
  }
  return holdings;
}

/** Whether `holdings` let the user act for the party at all (rights on one instance do not). */
export function holdsAnything(holdings: Holdings): boolean {
  return holdings.roles.size > 0 || holdings.appRights.length > 0;
}

/** Whether `rights` on an instance allow `action` on `org/app` while the instance's process is at `task`. */
export function instanceRightsAllow(
  rights: readonly InstanceRights[],
  target: { org: string; app: string; task: string | null | undefined },
  action: string,
): boolean {
  return rights.some(
    (held) =>
      held.org === target.org &&
      held.app === target.app &&
      held.actions.includes(action) &&
      (held.taskId === null || held.taskId === target.task),
  );
}

/** What the reportee logic needs. */
export interface ReporteeOptions {
  db: Database;
  now: () => Date;
}

/** What DataServices' party access needs: the reportee logic's, and the PDP judging against the app's policy. */
export interface PartyAccessOptions extends ReporteeOptions {
  /** Decides one request against the app's policy; without it, any role for the party lets the user act. */
  decide?: (request: DecisionRequest) => Promise<{ decision: string }>;
}

/** The reportee logic: which parties a user may represent, from role assignments and active delegations. */
export function createReportees(options: ReporteeOptions) {
  const repository = authorizationRepository(options.db);
  return {
    /**
     * What `userId` holds for `partyId` now; `ownPartyId` is their own party when known (it implies PRIV). Rights on
     * one instance are read for `instanceGuid` only.
     */
    async holdings(
      userId: number,
      partyId: number,
      ownPartyId: number | undefined,
      instanceGuid?: string,
    ): Promise<Holdings> {
      const now = options.now();
      const grants = await repository.grants(userId, partyId, now, instanceGuid);
      return holdingsOf(grants, now, ownPartyId === partyId);
    },

    /**
     * The parties `userId` may represent now, ascending: their own party (when known from `ownPartyId` or a PRIV
     * role assignment) and every party where they hold a role or an active delegation.
     */
    async parties(userId: number, ownPartyId: number | undefined): Promise<number[]> {
      const now = options.now();
      const found = new Set(await repository.reportees(userId, now));
      if (ownPartyId !== undefined) found.add(ownPartyId);
      return [...found].sort((a, b) => a - b);
    },

    /** Whether `userId` may represent `partyId` now. */
    async mayRepresent(userId: number, partyId: number, ownPartyId: number | undefined): Promise<boolean> {
      if (ownPartyId === partyId) return true;
      return holdsAnything(await this.holdings(userId, partyId, ownPartyId));
    },
  };
}

/** The reportee logic. */
export type Reportees = ReturnType<typeof createReportees>;

/**
 * A `PartyAccess` (DataServices' "whom may a user act for") backed by roles and delegations: a user acts for their
 * own party and every party they hold a role for; delegated app rights reach only that app, for the actions named.
 * For an action on one app's instances of another party, the app's policy decides (as Altinn Storage asks its PEP):
 * a role the policy does not name for that action and task is refused, whatever the user holds. Only an app with
 * no policy rule for the action (NotApplicable) falls back to the holdings alone. Rights delegated on one instance
 * (given as `instanceGuid`) reach only that instance, for the actions named, while its process is at their task.
 */
export function createPartyAccess(options: PartyAccessOptions): PartyAccess {
  const reportees = createReportees(options);
  const repository = authorizationRepository(options.db);
  return {
    async mayRepresent(user, partyId, scope, instanceGuid) {
      if (user.partyId === partyId) return true;
      if (scope?.org && scope.app && options.decide) {
        const { decision } = await options.decide({
          subject: { kind: 'user', userId: user.userId, ownPartyId: user.partyId },
          action: scope.action,
          org: scope.org,
          app: scope.app,
          partyId,
          task: scope.task,
          ...(instanceGuid === undefined ? {} : { instanceId: `${partyId}/${instanceGuid}` }),
        });
        if (decision === 'Permit') return true;
        if (decision === 'Deny') return false;
      }
      const holdings = await reportees.holdings(user.userId, partyId, user.partyId, instanceGuid);
      if (holdings.roles.size > 0) return true;
      const appWide = scope
        ? holdings.appRights.some(
            (rights) => rights.org === scope.org && rights.app === scope.app && rights.actions.includes(scope.action),
          )
        : holdings.appRights.length > 0;
      if (appWide) return true;
      if (instanceGuid === undefined || holdings.instanceRights.length === 0) return false;
      const instance = await repository.instanceTask(partyId, instanceGuid);
      if (!instance) return false;
      if (!scope) {
        return holdings.instanceRights.some((rights) => rights.taskId === null || rights.taskId === instance.task);
      }
      if (scope.org === undefined || scope.app === undefined) return false;
      return instanceRightsAllow(
        holdings.instanceRights,
        { org: scope.org, app: scope.app, task: instance.task },
        scope.action,
      );
    },
  };
}
