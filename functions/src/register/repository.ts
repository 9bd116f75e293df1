import type { Queryable } from '../../../platform/src/db/index.js';
import {
  type ChildParty,
  ORGANIZATION_DETAILS,
  type Organization,
  PARTY_TYPES,
  type Party,
  PERSON_DETAILS,
  type Person,
} from './schemas.js';

/** A row of `parties`. */
export type PartyRow = {
  party_id: string;
  party_uuid: string;
  party_type: number;
  ssn: string | null;
  org_number: string | null;
  name: string;
  unit_type: string | null;
  is_deleted: boolean;
  only_hierarchy_element_with_no_access: boolean;
  parent_party_id: string | null;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  details: Record<string, unknown>;
};

const COLUMNS = `party_id::text AS party_id, party_uuid::text AS party_uuid, party_type, ssn, org_number, name,
  unit_type, is_deleted, only_hierarchy_element_with_no_access, parent_party_id::text AS parent_party_id,
  first_name, middle_name, last_name, details`;

const detail = (row: PartyRow, field: string): string | null => {
  const value = row.details[field];
  return typeof value === 'string' ? value : null;
};

function personOf(row: PartyRow): Person | null {
  if (row.party_type !== PARTY_TYPES.person || row.ssn === null) return null;
  const fields = Object.fromEntries(PERSON_DETAILS.map((field) => [field, detail(row, field)]));
  return {
    ssn: row.ssn,
    name: row.name,
    firstName: row.first_name,
    middleName: row.middle_name,
    lastName: row.last_name ?? '',
    ...(fields as Record<(typeof PERSON_DETAILS)[number], string | null>),
  };
}

function organizationOf(row: PartyRow): Organization | null {
  if (row.org_number === null) return null;
  const fields = Object.fromEntries(ORGANIZATION_DETAILS.map((field) => [field, detail(row, field)]));
  return {
    orgNumber: row.org_number,
    name: row.name,
    unitType: row.unit_type,
    ...(fields as Record<(typeof ORGANIZATION_DETAILS)[number], string | null>),
  };
}

function childPartyOf(row: PartyRow): ChildParty {
  return {
    partyId: Number(row.party_id),
    partyUuid: row.party_uuid,
    partyTypeName: row.party_type,
    orgNumber: row.org_number,
    ssn: row.ssn,
    unitType: row.unit_type,
    name: row.name,
    isDeleted: row.is_deleted,
    onlyHierarchyElementWithNoAccess: row.only_hierarchy_element_with_no_access,
    person: personOf(row),
    organization: organizationOf(row),
    childParties: null,
  };
}

/** Parties of the register, read from `parties`. */
export interface PartyRepository {
  /** The party with this id, its sub-units as `childParties`; undefined when there is none. */
  byId(partyId: number): Promise<Party | undefined>;
  /** The person with this fødselsnummer. */
  bySsn(ssn: string): Promise<Party | undefined>;
  /** The organisation, sub-unit or bankruptcy estate with this organisasjonsnummer. */
  byOrgNumber(orgNumber: string): Promise<Party | undefined>;
  /** The party with this UUID (`partyUuid`, any casing); undefined when there is none. */
  byUuid(partyUuid: string): Promise<Party | undefined>;
  /** The parties with these ids that exist, in the order asked, each once. */
  byIds(partyIds: readonly number[]): Promise<Party[]>;
}

/** Reads parties through `db` (the database or a transaction). */
export function partyRepository(db: Queryable): PartyRepository {
  /** The rows as Parties, each organisation with its sub-units. */
  async function withChildren(rows: PartyRow[]): Promise<Party[]> {
    const parents = rows.filter((row) => row.party_type !== PARTY_TYPES.person).map((row) => row.party_id);
    const children =
      parents.length === 0
        ? []
        : await db.query<PartyRow>(
            `SELECT ${COLUMNS} FROM parties WHERE parent_party_id = ANY($1::bigint[]) ORDER BY party_id`,
            [parents],
          );
    return rows.map((row) => {
      const own = children.filter((child) => child.parent_party_id === row.party_id).map(childPartyOf);
      return { ...childPartyOf(row), childParties: own.length > 0 ? own : null };
    });
  }
  const one = async (where: string, value: unknown) => {
    const rows = await db.query<PartyRow>(`SELECT ${COLUMNS} FROM parties WHERE ${where}`, [value]);
    return (await withChildren(rows))[0];
  };
  return {
    byId: (partyId) => one('party_id = $1', partyId),
    bySsn: (ssn) => one('ssn = $1', ssn),
    byOrgNumber: (orgNumber) => one('org_number = $1', orgNumber),
    byUuid: (partyUuid) => one('party_uuid = $1::uuid', partyUuid.toLowerCase()),
    async byIds(partyIds) {
      const unique = [...new Set(partyIds)];
      if (unique.length === 0) return [];
      const rows = await db.query<PartyRow>(`SELECT ${COLUMNS} FROM parties WHERE party_id = ANY($1::bigint[])`, [
        unique.map(String),
      ]);
      const parties = await withChildren(rows);
      return unique.flatMap((id) => parties.filter((party) => party.partyId === id));
    },
  };
}
