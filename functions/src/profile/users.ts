import { createRoute } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { forbidden, type Principal, principalOf, type UserPrincipal } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import { callerKeyOf, guardIdentityLookups, type IdentityLookupPolicy } from '../register/lockout.js';
import { partyRepository } from '../register/repository.js';
import { profileRepository } from './repository.js';
import { ProfileSettingUpdate, SsnBody, UserIdParams, UserProfile, UserUuidParams } from './schemas.js';

const problem = (description: string) => ({ description, content: problemContent });
const found = { description: 'The user profile', content: jsonContent(UserProfile) };
const responses = {
  200: found,
  400: problem('Invalid input; `errors` names each field'),
  401: problem('No valid platform token'),
  403: problem("A user asking for another user's profile"),
  404: problem('No such user'),
};

const byId = createRoute({
  method: 'get',
  path: '/users/{userId}',
  summary: 'Read a user profile by user id',
  request: { params: UserIdParams },
  responses,
});

const bySsn = createRoute({
  method: 'post',
  path: '/users',
  summary: 'Read a user profile by fødselsnummer, sent as a JSON string',
  request: { body: { required: true, content: jsonContent(SsnBody) } },
  responses: {
    ...responses,
    429: problem('Too many fødselsnummer lookups by this org (misses or finds per hour); `Retry-After` says when'),
  },
});

const current = createRoute({
  method: 'get',
  path: '/users/current',
  summary: "The calling user's own profile (user tokens only)",
  responses,
});

const byUuid = createRoute({
  method: 'get',
  path: '/users/byuuid/{userUuid}',
  summary: 'Read a user profile by user UUID',
  request: { params: UserUuidParams },
  responses,
});

const settings = createRoute({
  method: 'put',
  path: '/users/current/profilesettingpreference',
  summary: "Change the calling user's settings: language (nb, nn, en), preselected party, do-not-prompt",
  request: { body: { required: true, content: jsonContent(ProfileSettingUpdate) } },
  responses,
});

const userNotFound = (what: string) => new Problem(404, { kind: 'not-found', detail: `No user ${what}.` });

/** A user token, or 403: org tokens have no profile of their own. */
function requireUser(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user')
    throw forbidden(`Org ${principal.org} has no user profile: this call needs a user token.`);
  return principal;
}

/**
 * Answers `profile` when the caller may read it: an org (service owners look users up) any, a user their own.
 * A user asking for anyone else gets 403 whether or not that user exists.
 */
function readable(principal: Principal, profile: UserProfile | undefined, what: string): UserProfile {
  if (principal.kind === 'user' && profile?.userId !== principal.userId) {
    throw forbidden(`User ${principal.userId} may read their own profile only.`);
  }
  if (!profile) throw userNotFound(what);
  return profile;
}

/**
 * Whether user `userId` (own party `ownPartyId`) may represent party `partyId`: their own party, a role or a
 * delegation. Authorization answers it; the host that composes the APIs passes it in.
 */
export type MayRepresent = (userId: number, partyId: number, ownPartyId: number | undefined) => Promise<boolean>;

/** What the user profile routes need. */
export interface UserRoutesOptions {
  db: Database;
  /** Budgets of fødselsnummer lookups by an org, shared with the Register's. */
  identityLookups: IdentityLookupPolicy;
  now: () => Date;
  mayRepresent: MayRepresent;
}

/** Adds the user profile routes to the Profile API. */
export function addUserRoutes(api: PlatformApp, options: UserRoutesOptions): void {
  const { db, mayRepresent } = options;
  const profiles = profileRepository(db);

  api.openapi(current, async (c) => {
    const user = requireUser(principalOf(c));
    const profile = await profiles.byUserId(user.userId);
    if (!profile) throw userNotFound(`with id ${user.userId}`);
    return c.json(profile, 200);
  });

  api.openapi(settings, async (c) => {
    const user = requireUser(principalOf(c));
    const update = c.req.valid('json');
    const partyId = update.preSelectedPartyId;
    if (partyId !== undefined && partyId !== null && partyId !== 0) {
      const invalid = (detail: string) =>
        new Problem(400, {
          kind: 'validation',
          title: 'Invalid request',
          detail: `Invalid body: preSelectedPartyId (${detail}).`,
          errors: [{ field: 'preSelectedPartyId', detail }],
        });
      // Only a party the user may represent (their own, a role or a delegation) can be preselected; one answer for
      // a party that does not exist and one the user may not represent, so the answer tells nothing of others.
      const party = await partyRepository(db).byId(partyId);
      if (!party || party.isDeleted || !(await mayRepresent(user.userId, partyId, user.partyId))) {
        throw invalid(`not a party user ${user.userId} may represent`);
      }
    }
    const profile = await db.transaction(async (tx) => {
      const repository = profileRepository(tx);
      if (!(await repository.updateSettings(user.userId, update))) throw userNotFound(`with id ${user.userId}`);
      return repository.byUserId(user.userId);
    });
    if (!profile) throw userNotFound(`with id ${user.userId}`);
    return c.json(profile, 200);
  });

  api.openapi(byUuid, async (c) => {
    const { userUuid } = c.req.valid('param');
    return c.json(readable(principalOf(c), await profiles.byUuid(userUuid), `with uuid ${userUuid}`), 200);
  });

  api.openapi(byId, async (c) => {
    const { userId } = c.req.valid('param');
    const principal = principalOf(c);
    if (principal.kind === 'user' && principal.userId !== userId) {
      throw forbidden(`User ${principal.userId} may read their own profile only.`);
    }
    return c.json(readable(principal, await profiles.byUserId(userId), `with id ${userId}`), 200);
  });

  api.openapi(bySsn, async (c) => {
    const ssn = c.req.valid('json');
    const principal = principalOf(c);
    // An org maps a fødselsnummer to any user's name and contacts: counted against its budgets, as in the Register.
    // A user reads their own profile only (403 for anyone else, found or not), which tells nothing.
    const profile =
      principal.kind === 'org'
        ? await guardIdentityLookups(
            db,
            { caller: callerKeyOf(principal), policy: options.identityLookups, now: options.now(), asked: 1 },
            async (tx) => {
              const found = await profileRepository(tx).bySsn(ssn);
              return { result: found, found: found ? 1 : 0, missed: found ? 0 : 1 };
            },
          )
        : await profiles.bySsn(ssn);
    return c.json(readable(principal, profile, 'with that ssn'), 200);
  });
}
