import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { type AppIdentity, type Principal, principalOf } from '../../../platform/src/auth/index.js';
import type { Database, Queryable } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import { callerKeyOf, guardIdentityLookups, type IdentityLookupPolicy } from './lockout.js';
import type { Representation } from './parties.js';
import { partyRepository } from './repository.js';
import type { Party } from './schemas.js';

/**
 * Register v2's party query by URN, as app-lib's `AltinnPartyClient.GetPartyIdByUrn` (`apps/parties/query`) and
 * `GetPartyUuidByUrn` (`access-management/parties/query`) call it: `{ "data": ["urn:..."] }` in, `{ "data": [party] }`
 * out, one entry per URN found (none for an unknown one).
 */

/** The most URNs one query may name. */
export const MAX_QUERY_URNS = 100;

const QueryBody = z
  .object({ data: z.array(z.string().min(1).max(200)).max(MAX_QUERY_URNS) })
  .openapi('PartyQuery', { example: { data: ['urn:altinn:person:identifier-no:01817550181'] } });

const QueriedParty = z
  .object({
    partyUuid: z.string(),
    partyId: z.number().int(),
    partyType: z.enum(['person', 'organization', 'self-identified-user', 'sub-unit', 'bankruptcy-estate']),
    displayName: z.string(),
    personIdentifier: z.string().nullable(),
    organizationIdentifier: z.string().nullable(),
    isDeleted: z.boolean(),
  })
  .openapi('QueriedParty');

const refused = {
  description: 'No token (401), or a user naming a party they do not represent (403)',
  content: problemContent,
};

const routeOf = (path: string, summary: string) =>
  createRoute({
    method: 'post',
    path,
    summary,
    request: {
      query: z.object({ fields: z.string().max(500).optional() }),
      body: { content: { 'application/json': { schema: QueryBody } }, required: true },
    },
    responses: {
      200: { description: 'The parties found', content: jsonContent(z.object({ data: z.array(QueriedParty) })) },
      400: { description: 'A URN of an unknown form; `errors` names it', content: problemContent },
      401: refused,
      403: refused,
      429: {
        description:
          'Too many fødselsnummer lookups by this org or app user (misses or finds per hour, all URNs of the query counted); `Retry-After` says when',
        content: problemContent,
      },
    },
  });

const appsQuery = routeOf('/apps/parties/query', "Parties by URN, for apps (app-lib's GetPartyIdByUrn)");
const accessManagementQuery = routeOf(
  '/access-management/parties/query',
  "Parties by URN, for access management (app-lib's GetPartyUuidByUrn)",
);

const PARTY_TYPES: Record<number, z.infer<typeof QueriedParty>['partyType']> = {
  1: 'person',
  2: 'organization',
  3: 'self-identified-user',
  4: 'sub-unit',
  5: 'bankruptcy-estate',
};

/** How a URN names a party: by national identity number, organisation number, party id or party UUID. */
type PartyUrn =
  | { kind: 'ssn'; value: string }
  | { kind: 'orgNumber'; value: string }
  | { kind: 'id'; value: number }
  | { kind: 'uuid'; value: string };

const URN_FORMS: readonly [RegExp, (match: string) => PartyUrn][] = [
  [/^urn:altinn:person:identifier-no:(\d{11})$/i, (value) => ({ kind: 'ssn', value })],
  [/^urn:altinn:organization:identifier-no:(\d{9})$/i, (value) => ({ kind: 'orgNumber', value })],
  [/^urn:altinn:party:id:(\d{1,15})$/i, (value) => ({ kind: 'id', value: Number(value) })],
  [
    /^urn:altinn:party:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,
    (value) => ({ kind: 'uuid', value }),
  ],
];

/** The party a URN names, or undefined for a URN of another form. */
export function parsePartyUrn(urn: string): PartyUrn | undefined {
  for (const [pattern, make] of URN_FORMS) {
    const match = pattern.exec(urn.trim());
    if (match?.[1]) return make(match[1]);
  }
  return undefined;
}

function queried(party: Party): z.infer<typeof QueriedParty> {
  return {
    partyUuid: party.partyUuid,
    partyId: party.partyId,
    partyType: PARTY_TYPES[party.partyTypeName] ?? 'person',
    displayName: party.name,
    personIdentifier: party.ssn,
    organizationIdentifier: party.orgNumber,
    isDeleted: party.isDeleted,
  };
}

/**
 * Adds `apps/parties/query` and `access-management/parties/query` to the Register. An app (its PlatformAccessToken
 * beside the user's token, as app-lib sends it) or an org may look up any party, as with `parties/lookup`; a user
 * without their app gets only their own party and the parties they represent (the others are left out, not
 * refused, so the answer does not tell whether they exist).
 */
export function addPartyQueryRoutes(
  api: PlatformApp,
  options: { db: Database; represents: Representation; identityLookups: IdentityLookupPolicy; now: () => Date },
): void {
  /** The parties `data` names that `principal` may see (any, for an app or an org). */
  async function query(principal: Principal, app: AppIdentity | undefined, data: readonly string[]) {
    const urns = data.map((urn, index) => ({ index, urn, parsed: parsePartyUrn(urn) }));
    const unknown = urns.filter((entry) => entry.parsed === undefined);
    if (unknown.length > 0) {
      throw new Problem(400, {
        kind: 'validation',
        title: 'Invalid request',
        detail:
          'A URN names a party as urn:altinn:person:identifier-no, organization:identifier-no, party:id or party:uuid.',
        errors: unknown.map(({ index, urn }) => ({ field: `data[${index}]`, detail: `'${urn}' is not a party URN` })),
      });
    }
    const mayReadAny = principal.kind === 'org' || app !== undefined;
    const lookup = async (tx: Queryable) => {
      const parties = partyRepository(tx);
      const found: Party[] = [];
      let ssnsFound = 0;
      let ssnsMissed = 0;
      for (const { parsed } of urns) {
        if (!parsed) continue;
        const party =
          parsed.kind === 'ssn'
            ? await parties.bySsn(parsed.value)
            : parsed.kind === 'orgNumber'
              ? await parties.byOrgNumber(parsed.value)
              : parsed.kind === 'id'
                ? await parties.byId(parsed.value)
                : await parties.byUuid(parsed.value);
        if (parsed.kind === 'ssn') {
          if (party) ssnsFound++;
          else ssnsMissed++;
        }
        if (!party || found.some((known) => known.partyId === party.partyId)) continue;
        if (!mayReadAny && principal.kind === 'user' && party.partyId !== principal.partyId) {
          if (!(await options.represents(principal, party.partyId))) continue;
        }
        found.push(party);
      }
      return { result: { data: found.map(queried) }, found: ssnsFound, missed: ssnsMissed };
    };
    // An org or an app maps fødselsnumre to any party: every person URN of the query counts against its budgets (a
    // user alone sees only the parties they represent, which tells nothing of others).
    const asked = urns.filter((entry) => entry.parsed?.kind === 'ssn').length;
    if (!mayReadAny || asked === 0) return (await lookup(options.db)).result;
    return guardIdentityLookups(
      options.db,
      { caller: callerKeyOf(principal), policy: options.identityLookups, now: options.now(), asked },
      lookup,
    );
  }

  for (const route of [appsQuery, accessManagementQuery]) {
    api.openapi(route, async (c) =>
      c.json(await query(principalOf(c), c.get('appIdentity'), c.req.valid('json').data), 200),
    );
  }
}
