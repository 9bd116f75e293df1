import { createRoute, z } from '@hono/zod-openapi';
import { aspNetBoolean } from '../../../platform/src/api/aspnet.js';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { forbidden, type Principal, principalOf, type UserPrincipal } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import { callerKeyOf, guardIdentityLookups, type IdentityLookupPolicy } from './lockout.js';
import { partyRepository } from './repository.js';
import { Organization, OrgNrParams, Party, PartyIdParams, PartyIds, PartyLookup } from './schemas.js';

const invalid = { description: 'Invalid input; `errors` names each field', content: problemContent };
const refused = {
  description: 'No token (401) or a user asking for a party not their own (403)',
  content: problemContent,
};
const missing = { description: 'No such party or organisation', content: problemContent };

const read = createRoute({
  method: 'get',
  path: '/parties/{partyId}',
  summary: 'Read a party, with its sub-units as childParties',
  request: { params: PartyIdParams },
  responses: {
    200: { description: 'The party', content: jsonContent(Party) },
    400: invalid,
    401: refused,
    403: refused,
    404: missing,
  },
});

const lookup = createRoute({
  method: 'post',
  path: '/parties/lookup',
  summary:
    "Find a party by fødselsnummer (`ssn`) or organisasjonsnummer (`orgNo`); a user's call through their app (its PlatformAccessToken) finds any party, as Altinn's",
  request: { body: { required: true, content: jsonContent(PartyLookup) } },
  responses: {
    ...read.responses,
    429: {
      description: 'Too many `ssn` lookups by this org or app user (misses or finds per hour); `Retry-After` says when',
      content: problemContent,
    },
  },
});

const list = createRoute({
  method: 'post',
  path: '/parties/partylist',
  summary:
    'Read several parties by id; unknown ids are left out, none found is a 404 (as Altinn); sub-units with `fetchSubUnits=true`',
  request: {
    query: z.object({ fetchSubUnits: aspNetBoolean.optional() }),
    body: { required: true, content: jsonContent(PartyIds) },
  },
  responses: {
    200: { description: 'The parties found, in the order asked', content: jsonContent(z.array(Party)) },
    400: invalid,
    401: refused,
    403: refused,
    404: missing,
  },
});

const organization = createRoute({
  method: 'get',
  path: '/organizations/{orgNr}',
  summary: 'Read an organisation by organisasjonsnummer (public register data: any authenticated caller)',
  request: { params: OrgNrParams },
  responses: {
    200: { description: 'The organisation', content: jsonContent(Organization) },
    400: invalid,
    401: refused,
    404: missing,
  },
});

/**
 * Whether the user may represent `partyId` (a role such as DAGL, or a delegation), as Authorization decides; the
 * user's own party is always theirs.
 */
export type Representation = (user: UserPrincipal, partyId: number) => Promise<boolean>;

/** Only the user's own party: the representation when none is wired. */
export const ownPartyOnly: Representation = async (user, partyId) => user.partyId === partyId;

/** End users read their own party and the parties they may represent; org callers (service owners) read any. */
async function requireParty(principal: Principal, partyId: number, represents: Representation): Promise<void> {
  if (principal.kind !== 'user' || principal.partyId === partyId) return;
  if (!(await represents(principal, partyId))) {
    throw forbidden(`User ${principal.userId} may read their own party and parties they represent only.`);
  }
}

const partyNotFound = (what: string) => new Problem(404, { kind: 'not-found', detail: `No party ${what}.` });

/** What the party routes need. */
export interface PartyRoutesOptions {
  db: Database;
  represents?: Representation;
  /** Budgets of `ssn` lookups by an org or an app (a user alone finds only parties they represent). */
  identityLookups: IdentityLookupPolicy;
  now: () => Date;
}

/** Adds `parties/{partyId}`, `parties/lookup`, `parties/partylist` and `organizations/{orgNr}` to the Register. */
export function addPartyRoutes(api: PlatformApp, options: PartyRoutesOptions): void {
  const parties = partyRepository(options.db);
  const represents = options.represents ?? ownPartyOnly;

  api.openapi(read, async (c) => {
    const { partyId } = c.req.valid('param');
    const principal = principalOf(c);
    await requireParty(principal, partyId, represents);
    // Party ids are sequential: an org or an app reading any party by id is counted against the same budgets as a
    // fødselsnummer lookup (a person found counts as found, an id that names no party as missed), so the register's
    // persons cannot be walked by id either.
    const mayReadAny = principal.kind === 'org' || c.get('appIdentity') !== undefined;
    const party = mayReadAny
      ? await guardIdentityLookups(
          options.db,
          { caller: callerKeyOf(principal), policy: options.identityLookups, now: options.now(), asked: 1 },
          async (tx) => {
            const found = await partyRepository(tx).byId(partyId);
            return { result: found, found: found?.person ? 1 : 0, missed: found ? 0 : 1 };
          },
        )
      : await parties.byId(partyId);
    if (!party) throw partyNotFound(`with id ${partyId}`);
    return c.json(party, 200);
  });

  api.openapi(lookup, async (c) => {
    const { ssn, orgNo } = c.req.valid('json');
    const principal = principalOf(c);
    const mayReadAny = principal.kind === 'org' || c.get('appIdentity') !== undefined;
    // Organisation numbers are public register data; a fødselsnummer that an org or an app may map to any party is
    // counted against the caller's budgets, so a list of numbers cannot be walked.
    const party =
      ssn == null
        ? await parties.byOrgNumber(orgNo ?? '')
        : mayReadAny
          ? await guardIdentityLookups(
              options.db,
              { caller: callerKeyOf(principal), policy: options.identityLookups, now: options.now(), asked: 1 },
              async (tx) => {
                const found = await partyRepository(tx).bySsn(ssn);
                return { result: found, found: found ? 1 : 0, missed: found ? 0 : 1 };
              },
            )
          : await parties.bySsn(ssn);
    // A user learns nothing about parties they may not represent, not even whether they exist; their app (a verified
    // PlatformAccessToken) looks any party up, as Altinn's Register serves app-lib's LookupParty.
    if (principal.kind === 'user' && !c.get('appIdentity') && party?.partyId !== principal.partyId) {
      if (!party || !(await represents(principal, party.partyId))) {
        throw forbidden(`User ${principal.userId} may look up their own party and parties they represent only.`);
      }
    }
    if (!party) throw partyNotFound(ssn != null ? 'with that ssn' : `with orgNo ${orgNo}`);
    return c.json(party, 200);
  });

  api.openapi(list, async (c) => {
    const ids = c.req.valid('json');
    const { fetchSubUnits = false } = c.req.valid('query');
    const principal = principalOf(c);
    // app-lib's RegisterClient.GetPartyListUnchecked: the app (its PlatformAccessToken) reads any party for its user.
    if (!c.get('appIdentity')) for (const id of new Set(ids)) await requireParty(principal, id, represents);
    const found = await parties.byIds(ids);
    if (found.length === 0) throw partyNotFound('with any of those ids');
    return c.json(fetchSubUnits ? found : found.map((party) => ({ ...party, childParties: null })), 200);
  });

  api.openapi(organization, async (c) => {
    principalOf(c);
    const { orgNr } = c.req.valid('param');
    const party = await parties.byOrgNumber(orgNr);
    if (!party?.organization) throw new Problem(404, { kind: 'not-found', detail: `No organisation ${orgNr}.` });
    return c.json(party.organization, 200);
  });
}
