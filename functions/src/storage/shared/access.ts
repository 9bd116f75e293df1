import type { Context, MiddlewareHandler } from 'hono';
import {
  type AppIdentity,
  forbidden,
  hasScope,
  type Principal,
  principalOf,
  type UserPrincipal,
} from '../../../../platform/src/auth/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import type { PlatformEnv } from '../../../../platform/src/request-context/index.js';
import { invalidField } from './problems.js';

/** Scopes an org token needs, as Altinn's service-owner scopes. */
export const SCOPES = {
  instancesRead: 'altinn:serviceowner/instances.read',
  instancesWrite: 'altinn:serviceowner/instances.write',
  /** Deploying an app: writing its metadata and texts. */
  appDeploy: 'altinn:appdeploy',
} as const;

/** The lowest authentication level an end user reaches instances with, as Altinn's. */
export const MIN_USER_AUTH_LEVEL = 2;

/**
 * Whether a user may act for a party. By default a user reaches only their own party; the Authorization API
 * (reportees, roles and delegations) plugs in here when it runs.
 */
export interface PartyAccess {
  /**
   * Without `scope`: may the user act for the party at all (a role, or rights to some app)? With it: for that
   * action on instances of `org/app` (a role, or delegated rights to that app and action); with `org` and `app`
   * left out, only a role counts (e.g. a query across every app of the party). With `instanceGuid` (the one
   * instance of the party the user wants to reach), rights delegated on that instance count too.
   */
  mayRepresent(user: UserPrincipal, partyId: number, scope?: AccessScope, instanceGuid?: string): Promise<boolean>;
}

/** What a user wants to do with a party's instances. */
export interface AccessScope {
  org?: string;
  app?: string;
  action: 'read' | 'write' | 'instantiate' | 'delete' | 'sign';
  /** The instance's current process task, which the app's policy rules may name (`urn:altinn:task`). */
  task?: string;
}

/** A user acts for their own party only. */
export const ownPartyOnly: PartyAccess = {
  mayRepresent: async (user, partyId) => user.partyId === partyId,
};

/** Instance sub-resources only the owning org writes (an end user gets 403), as Altinn's `complete` and `substatus`. */
const ORG_ONLY = new Set(['complete', 'substatus']);

/** Instance writes an end user makes without an app (from an inbox): read status and deleting the instance. */
const USER_DIRECT_WRITES = new Set(['', 'readstatus']);

/** Instance writes Altinn authorizes with the `read` action (its InstanceRead policy): events and read status. */
const WRITES_NEEDING_READ = new Set(['events', 'readstatus']);

/** Settings of the access rules. */
export interface StorageAccessOptions {
  /**
   * Refuse an end user's instance writes that do not come with the app's `PlatformAccessToken` (besides read status
   * and deletion). Altinn does not: app-lib writes with the end user's token alone, so this is off by default
   * (STORAGE_REQUIRE_APP_TOKEN).
   */
  requireAppToken?: boolean;
}

/** Which of a query's instances the caller may see: all of them for an org, those of parties and apps a user may read. */
export type QueryVisibility = <T extends { instanceOwner: { partyId: string }; appId: string }>(
  instances: T[],
) => Promise<T[]>;

const isRead = (method: string) => method === 'GET' || method === 'HEAD';

/** The access rules of DataServices. */
export interface StorageAccess {
  /** Middleware for `/instances/{partyId}/{instanceGuid}` and below: who may read or change that instance. */
  instances(): MiddlewareHandler<PlatformEnv>;
  /** Middleware for application metadata and texts: reads by any caller, writes by the app's own org deploying. */
  applications(): MiddlewareHandler<PlatformEnv>;
  /** May the caller create an instance of `org/app` owned by `partyId`? Throws 403 when not. */
  checkCreate(c: Context<PlatformEnv>, app: AppIdentity, partyId: number): Promise<void>;
  /**
   * May the caller query instances of `org` (and `app`), or of `partyId` (or the owner named by header)? Throws
   * 400/403 when an org may not, or a query names no owner; answers which of the found instances the caller may
   * see. As Altinn's, an end user's query is never refused for the party: instances they may not read are left out.
   */
  checkQuery(
    c: Context<PlatformEnv>,
    filter: { org?: string; app?: string; partyId?: number; ownerByHeader?: boolean },
  ): Promise<QueryVisibility>;
}

function requireUserLevel(user: UserPrincipal): void {
  if (user.authLevel < MIN_USER_AUTH_LEVEL) {
    throw forbidden(
      `Instances need authentication level ${MIN_USER_AUTH_LEVEL} or more; this token has ${user.authLevel}.`,
    );
  }
}

function requireScope(principal: Principal, scope: string): void {
  if (!hasScope(principal, scope)) throw forbidden(`This call needs the scope ${scope}.`);
}

async function requireParty(
  access: PartyAccess,
  user: UserPrincipal,
  partyId: number,
  scope?: AccessScope,
  instanceGuid?: string,
): Promise<void> {
  requireUserLevel(user);
  if (!(await access.mayRepresent(user, partyId, scope, instanceGuid))) {
    const what = scope
      ? ` to ${scope.action}${scope.app ? ` instances of ${scope.org}/${scope.app}` : ' across its apps'}`
      : '';
    throw forbidden(`User ${user.userId} may not act for party ${partyId}${what}.`);
  }
}

/** An app calling for a user must be the instance's own app. */
function requireSameApp(identity: AppIdentity | undefined, org: string, app: string): void {
  if (identity && (identity.org !== org || identity.app !== app)) {
    throw forbidden(`The app ${identity.org}/${identity.app} may not reach instances of ${org}/${app}.`);
  }
}

function requireApp(identity: AppIdentity | undefined, org: string, app: string): void {
  if (!identity) {
    // Only with STORAGE_REQUIRE_APP_TOKEN: Altinn takes app-lib's writes with the end user's token alone.
    throw forbidden(
      `End users change instances through their app: send the app's PlatformAccessToken for ${org}/${app}.`,
    );
  }
  requireSameApp(identity, org, app);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The middleware of `StorageAccess.instances`: who may read or change the instance in the path, and how. */
function instanceAccess(
  db: Database,
  partyAccess: PartyAccess,
  requireAppToken: boolean,
): MiddlewareHandler<PlatformEnv> {
  return async (c, next) => {
    const principal = principalOf(c);
    const match = /\/instances\/([^/]+)\/([^/]+)(?:\/([^/]+))?/.exec(c.req.path);
    const [, partyText = '', guid = '', sub = ''] = match ?? [];
    // Malformed ids are the route's to answer (400): nothing can be reached with them.
    if (!/^\d{1,18}$/.test(partyText) || !GUID.test(guid)) return next();
    const partyId = Number(partyText);
    const write = !isRead(c.req.method);
    if (principal.kind === 'user') {
      await requireParty(partyAccess, principal, partyId, undefined, guid);
      if (write && ORG_ONLY.has(sub)) throw forbidden(`Only the app's owner may call ${sub}.`);
    }
    const rows = await db.query<{ org: string; app: string; task: string | null }>(
      'SELECT org, app, current_task AS task FROM instances WHERE instance_guid = $1 AND party_id = $2 AND NOT is_hard_deleted',
      [guid.toLowerCase(), partyText],
    );
    const owner = rows[0];
    // No such instance: the route answers 404 (a user was already limited to their parties above).
    if (!owner) return next();
    const identity = c.get('appIdentity');
    if (principal.kind === 'org') {
      if (principal.org !== owner.org) {
        throw forbidden(`Org ${principal.org} may not reach instances of ${owner.org}/${owner.app}.`);
      }
      // Events and read status are authorized as reads (Altinn's InstanceRead policy).
      const needsWrite = write && !WRITES_NEEDING_READ.has(sub);
      requireScope(principal, needsWrite ? SCOPES.instancesWrite : SCOPES.instancesRead);
      requireSameApp(identity, owner.org, owner.app);
    } else {
      // What the user may do with this app's instances: delegated app rights name actions (Altinn's policies).
      // Signing is its own action, as Altinn's InstanceSign policy.
      const action =
        !write || WRITES_NEEDING_READ.has(sub)
          ? 'read'
          : c.req.method === 'DELETE' && sub === ''
            ? 'delete'
            : sub === 'sign'
              ? 'sign'
              : 'write';
      await requireParty(
        partyAccess,
        principal,
        partyId,
        { org: owner.org, app: owner.app, action, ...(owner.task ? { task: owner.task } : {}) },
        guid,
      );
      if (requireAppToken && write && !USER_DIRECT_WRITES.has(sub)) requireApp(identity, owner.org, owner.app);
      else requireSameApp(identity, owner.org, owner.app);
    }
    return next();
  };
}

/** The access rules on `db`, with `partyAccess` deciding whom a user may act for. */
export function createStorageAccess(
  db: Database,
  partyAccess: PartyAccess = ownPartyOnly,
  options: StorageAccessOptions = {},
): StorageAccess {
  const requireAppToken = options.requireAppToken ?? false;
  return {
    instances() {
      return instanceAccess(db, partyAccess, requireAppToken);
    },

    applications() {
      return async (c, next) => {
        // Altinn serves application metadata to anyone; texts to any caller with a token (the route's authentication).
        if (isRead(c.req.method)) return next();
        const principal = principalOf(c);
        // The org is in the path, or in `appId` on Altinn's `POST applications?appId={org}/{app}`.
        const org = /\/applications\/([^/]+)/.exec(c.req.path)?.[1] ?? c.req.query('appId')?.split('/')[0] ?? '';
        // A malformed name reaches nothing: the route answers 400 naming it.
        if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(org)) return next();
        if (principal.kind !== 'org' || principal.org !== org) {
          throw forbidden(`Only the org ${org} deploying its apps may change their metadata and texts.`);
        }
        requireScope(principal, SCOPES.appDeploy);
        return next();
      };
    },

    async checkCreate(c, app, partyId) {
      const principal = principalOf(c);
      const identity = c.get('appIdentity');
      if (principal.kind === 'org') {
        if (principal.org !== app.org)
          throw forbidden(`Org ${principal.org} may not instantiate ${app.org}/${app.app}.`);
        requireScope(principal, SCOPES.instancesWrite);
        requireSameApp(identity, app.org, app.app);
        return;
      }
      await requireParty(partyAccess, principal, partyId, { org: app.org, app: app.app, action: 'instantiate' });
      if (requireAppToken) requireApp(identity, app.org, app.app);
      else requireSameApp(identity, app.org, app.app);
    },

    async checkQuery(c, filter) {
      const principal = principalOf(c);
      if (principal.kind === 'org') {
        requireScope(principal, SCOPES.instancesRead);
        if (filter.org === undefined) {
          throw invalidField('query.org', 'an org queries the instances of its apps: give org or appId');
        }
        if (filter.org !== principal.org) {
          throw forbidden(`Org ${principal.org} may not query instances of ${filter.org}.`);
        }
        return async (instances) => instances;
      }
      if (filter.partyId === undefined && !filter.ownerByHeader) {
        throw invalidField(
          'query.instanceOwner.partyId',
          'an end user queries the instances of one owner: give instanceOwner.partyId or X-Ai-InstanceOwnerIdentifier',
        );
      }
      // Below the level instances need, nothing is visible (Altinn's decisions carry the level as an obligation).
      if (principal.authLevel < MIN_USER_AUTH_LEVEL) return async () => [];
      const decisions = new Map<string, Promise<boolean>>();
      const mayRead = (partyId: number, appId: string) => {
        const key = `${partyId} ${appId}`;
        let decision = decisions.get(key);
        if (!decision) {
          const [org = '', app = ''] = appId.split('/');
          decision = partyAccess.mayRepresent(principal, partyId, { org, app, action: 'read' });
          decisions.set(key, decision);
        }
        return decision;
      };
      return async (instances) => {
        const visible = await Promise.all(
          instances.map((instance) => mayRead(Number(instance.instanceOwner.partyId), instance.appId)),
        );
        return instances.filter((_, index) => visible[index]);
      };
    },
  };
}

/** What `createdBy` and `lastChangedBy` record of a caller: the user id, or the org's number (its name without one), as Altinn's. */
export function callerIdOf(principal: Principal): string {
  return principal.kind === 'user' ? String(principal.userId) : (principal.orgNumber ?? principal.org);
}
