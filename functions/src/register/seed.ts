import type { Database } from '../../../platform/src/db/index.js';
import { PARTY_TYPES, type PartyType } from './schemas.js';

/** A party of the local test data. */
export interface TestParty {
  partyId: number;
  partyUuid: string;
  type: PartyType;
  name: string;
  ssn?: string;
  orgNumber?: string;
  unitType?: string;
  /** The parent organisation of a sub-unit (or of a bankruptcy estate's former business). */
  parentPartyId?: number;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  /** Further Person or Organization fields (addresses, phone numbers). */
  details?: Record<string, string>;
}

/** A user of the local test data, with their own party. */
export interface TestUser {
  userId: number;
  userUuid: string;
  userName: string;
  partyId: number;
  /** 1 identified by fødselsnummer, 2 self-identified. */
  userType: 1 | 2;
  email: string;
  phoneNumber: string | null;
  isReserved: boolean;
}

/**
 * Roles a test user holds for an organisation (Altinn role codes, e.g. DAGL = managing director). Listed for the
 * Authorization API and for people testing locally; the Register itself does not store roles.
 */
export interface TestRole {
  userId: number;
  partyId: number;
  roles: readonly string[];
  /** Why it is there: what it lets you test. */
  purpose: string;
}

const partyUuid = (partyId: number) => `00000000-0000-4000-a000-${String(partyId).padStart(12, '0')}`;
const userUuid = (userId: number) => `00000000-0000-4000-b000-${String(userId).padStart(12, '0')}`;

const person = (
  partyId: number,
  ssn: string,
  firstName: string,
  lastName: string,
  details: Record<string, string>,
): TestParty => ({
  partyId,
  partyUuid: partyUuid(partyId),
  type: PARTY_TYPES.person,
  name: `${firstName} ${lastName}`,
  ssn,
  firstName,
  lastName,
  details,
});

const organisation = (
  partyId: number,
  type: PartyType,
  orgNumber: string,
  name: string,
  unitType: string,
  extra: Partial<TestParty> = {},
): TestParty => ({ partyId, partyUuid: partyUuid(partyId), type, name, orgNumber, unitType, ...extra });

const oslo = { addressCity: 'OSLO', addressPostalCode: '0150', addressMunicipalNumber: '0301' };

/**
 * Test parties, in Altinn's spirit (users 1001-1004, 12345 and 1337; parties 510001.. and 500000..). Every
 * fødselsnummer is a synthetic one (month + 80, as Skatteetaten's test numbers) with valid mod-11 control digits,
 * so it can never be a real person's; organisation numbers are valid but start with 31 (test range). Parents come
 * before their sub-units. Documented in SEED.md: keep the two in step.
 */
export const TEST_PARTIES: readonly TestParty[] = [
  person(510001, '01817550181', 'Sophie', 'Salt', {
    ...oslo,
    addressStreetName: 'Karl Johans gate',
    addressHouseNumber: '1',
    mobileNumber: '+4799000001',
  }),
  person(510002, '02828840048', 'Ola', 'Nordmann', { ...oslo, addressStreetName: 'Storgata', addressHouseNumber: '2' }),
  person(510003, '15859030014', 'Kari', 'Nordmann', { addressCity: 'BERGEN', addressPostalCode: '5003' }),
  person(510004, '24839920071', 'Pål', 'Sørensen', { addressCity: 'TROMSØ', addressPostalCode: '9008' }),
  person(512345, '17856510077', 'Astrid', 'Tester', { addressCity: 'TRONDHEIM', addressPostalCode: '7010' }),
  {
    partyId: 501337,
    partyUuid: partyUuid(501337),
    type: PARTY_TYPES.selfIdentified,
    name: 'hackerman',
  },
  organisation(500000, PARTY_TYPES.organisation, '310000000', 'DDG Fitness AS', 'AS', {
    details: { businessAddress: 'Sentrum 1', businessPostalCode: '0150', businessPostalCity: 'OSLO', unitStatus: 'N' },
  }),
  organisation(500001, PARTY_TYPES.subUnit, '310100005', 'DDG Fitness Bergen', 'BEDR', {
    parentPartyId: 500000,
    details: { businessAddress: 'Bryggen 3', businessPostalCode: '5003', businessPostalCity: 'BERGEN' },
  }),
  organisation(500002, PARTY_TYPES.subUnit, '310200018', 'DDG Fitness Tromsø', 'BEDR', { parentPartyId: 500000 }),
  organisation(500100, PARTY_TYPES.organisation, '310300004', 'Nordlys Regnskap AS', 'AS', {
    details: { eMailAddress: 'post@nordlys-regnskap.test' },
  }),
  organisation(500200, PARTY_TYPES.bankruptcyEstate, '310400009', 'Konkursbo Gamle Bakeriet AS', 'KBO', {
    details: { unitStatus: 'K' },
  }),
  organisation(500300, PARTY_TYPES.organisation, '310500003', 'Testdepartementet', 'ORGL', {
    details: { internetAddress: 'https://ttd.test' },
  }),
];

/** Test users, each with their own party from TEST_PARTIES. */
export const TEST_USERS: readonly TestUser[] = [
  ...[
    { userId: 1001, partyId: 510001, userName: 'sophie', email: 'sophie.salt@test.local', phoneNumber: '+4799000001' },
    { userId: 1002, partyId: 510002, userName: 'ola', email: 'ola.nordmann@test.local', phoneNumber: '+4799000002' },
    { userId: 1003, partyId: 510003, userName: 'kari', email: 'kari.nordmann@test.local', phoneNumber: null },
    { userId: 1004, partyId: 510004, userName: 'paal', email: 'pal.sorensen@test.local', phoneNumber: null },
    { userId: 12345, partyId: 512345, userName: 'astrid', email: 'astrid@test.local', phoneNumber: null },
  ].map((user) => ({
    ...user,
    userUuid: userUuid(user.userId),
    userType: 1 as const,
    isReserved: user.userId === 1004,
  })),
  {
    userId: 1337,
    userUuid: userUuid(1337),
    userName: 'hackerman',
    partyId: 501337,
    userType: 2,
    email: 'hackerman@test.local',
    phoneNumber: null,
    isReserved: false,
  },
];

/** Roles of the test users, for the Authorization API to load and for testers to pick from. */
export const TEST_ROLES: readonly TestRole[] = [
  {
    userId: 1001,
    partyId: 500000,
    roles: ['DAGL'],
    purpose: 'managing director: acts for DDG Fitness and its sub-units',
  },
  { userId: 1002, partyId: 500000, roles: ['REGN'], purpose: 'accountant role for DDG Fitness' },
  { userId: 1002, partyId: 500100, roles: ['DAGL'], purpose: 'managing director of the accounting firm' },
  { userId: 1003, partyId: 500200, roles: ['BOBE'], purpose: 'estate administrator of the bankruptcy estate' },
  { userId: 12345, partyId: 510003, roles: ['PRIV'], purpose: 'acts for another person (delegated)' },
];

/**
 * Writes the test parties and users, updating rows that are there already (idempotent, safe at every start). A
 * user's own settings (language, preselected party, do-not-prompt) are kept when the user exists.
 */
export async function seedRegister(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const party of TEST_PARTIES) {
      await tx.query(
        `INSERT INTO parties (party_id, party_uuid, party_type, ssn, org_number, name, unit_type, parent_party_id,
           first_name, middle_name, last_name, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (party_id) DO UPDATE SET party_uuid = EXCLUDED.party_uuid, party_type = EXCLUDED.party_type,
           ssn = EXCLUDED.ssn, org_number = EXCLUDED.org_number, name = EXCLUDED.name, unit_type = EXCLUDED.unit_type,
           parent_party_id = EXCLUDED.parent_party_id, first_name = EXCLUDED.first_name,
           middle_name = EXCLUDED.middle_name, last_name = EXCLUDED.last_name, details = EXCLUDED.details,
           is_deleted = false`,
        [
          party.partyId,
          party.partyUuid,
          party.type,
          party.ssn ?? null,
          party.orgNumber ?? null,
          party.name,
          party.unitType ?? null,
          party.parentPartyId ?? null,
          party.firstName ?? null,
          party.middleName ?? null,
          party.lastName ?? null,
          JSON.stringify(party.details ?? {}),
        ],
      );
    }
    for (const user of TEST_USERS) {
      await tx.query(
        `INSERT INTO user_profiles (user_id, user_uuid, user_name, party_id, phone_number, email, user_type, is_reserved)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_id) DO UPDATE SET user_uuid = EXCLUDED.user_uuid, user_name = EXCLUDED.user_name,
           party_id = EXCLUDED.party_id, phone_number = EXCLUDED.phone_number, email = EXCLUDED.email,
           user_type = EXCLUDED.user_type, is_reserved = EXCLUDED.is_reserved`,
        [
          user.userId,
          user.userUuid,
          user.userName,
          user.partyId,
          user.phoneNumber,
          user.email,
          user.userType,
          user.isReserved,
        ],
      );
    }
  });
}
