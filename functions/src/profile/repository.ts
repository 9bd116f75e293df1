import type { Queryable } from '../../../platform/src/db/index.js';
import { partyRepository } from '../register/repository.js';
import type { ProfileSettingUpdate, UserProfile } from './schemas.js';

type ProfileRow = {
  user_id: string;
  user_uuid: string;
  user_name: string | null;
  party_id: string;
  phone_number: string | null;
  email: string | null;
  user_type: number;
  is_reserved: boolean;
  language: 'nb' | 'nn' | 'en';
  preselected_party_id: string | null;
  do_not_prompt_for_party: boolean;
};

const COLUMNS = `u.user_id::text AS user_id, u.user_uuid::text AS user_uuid, u.user_name, u.party_id::text AS party_id,
  u.phone_number, u.email, u.user_type, u.is_reserved, u.language, u.preselected_party_id::text AS preselected_party_id,
  u.do_not_prompt_for_party`;

/** User profiles, read from `user_profiles` with their parties. */
export interface ProfileRepository {
  byUserId(userId: number): Promise<UserProfile | undefined>;
  byUuid(userUuid: string): Promise<UserProfile | undefined>;
  /** The profile of the user whose own party is `partyId` (a person or a self-identified user). */
  byPartyId(partyId: number): Promise<UserProfile | undefined>;
  /** The profile of the person with this fødselsnummer. */
  bySsn(ssn: string): Promise<UserProfile | undefined>;
  /** Users by id after `afterUserId`, at most `limit`, in id order: their user id and own party (listings). */
  users(afterUserId: number, limit: number): Promise<{ userId: number; partyId: number }[]>;
  /** Changes the named settings of a user; false when there is no such user. */
  updateSettings(userId: number, update: ProfileSettingUpdate): Promise<boolean>;
}

/** Reads and writes profiles through `db` (the database or a transaction). */
export function profileRepository(db: Queryable): ProfileRepository {
  const parties = partyRepository(db);
  async function one(sql: string, value: unknown): Promise<UserProfile | undefined> {
    const [row] = await db.query<ProfileRow>(sql, [value]);
    if (!row) return undefined;
    const party = await parties.byId(Number(row.party_id));
    if (!party) return undefined;
    return {
      userId: Number(row.user_id),
      userUuid: row.user_uuid,
      userName: row.user_name,
      isReserved: row.is_reserved,
      phoneNumber: row.phone_number,
      email: row.email,
      partyId: Number(row.party_id),
      party,
      userType: row.user_type,
      profileSettingPreference: {
        language: row.language,
        // Altinn's ProfileSettingPreference.PreSelectedPartyId is an int: 0 means none (null breaks app-lib).
        preSelectedPartyId: row.preselected_party_id === null ? 0 : Number(row.preselected_party_id),
        doNotPromptForParty: row.do_not_prompt_for_party,
      },
    };
  }
  return {
    byUserId: (userId) => one(`SELECT ${COLUMNS} FROM user_profiles u WHERE u.user_id = $1`, userId),
    byUuid: (userUuid) => one(`SELECT ${COLUMNS} FROM user_profiles u WHERE u.user_uuid = $1`, userUuid),
    byPartyId: (partyId) => one(`SELECT ${COLUMNS} FROM user_profiles u WHERE u.party_id = $1`, partyId),
    // The person through Register's repository: Profile runs no SQL on Register's tables.
    async bySsn(ssn) {
      const person = await parties.bySsn(ssn);
      return person ? one(`SELECT ${COLUMNS} FROM user_profiles u WHERE u.party_id = $1`, person.partyId) : undefined;
    },
    async users(afterUserId, limit) {
      const rows = await db.query<{ user_id: string; party_id: string }>(
        'SELECT user_id::text AS user_id, party_id::text AS party_id FROM user_profiles WHERE user_id > $1 ORDER BY user_id LIMIT $2',
        [afterUserId, limit],
      );
      return rows.map((row) => ({ userId: Number(row.user_id), partyId: Number(row.party_id) }));
    },
    async updateSettings(userId, update) {
      const rows = await db.query(
        `UPDATE user_profiles SET
           language = CASE WHEN $2::boolean THEN $3 ELSE language END,
           preselected_party_id = CASE WHEN $4::boolean THEN $5::bigint ELSE preselected_party_id END,
           do_not_prompt_for_party = CASE WHEN $6::boolean THEN $7::boolean ELSE do_not_prompt_for_party END
         WHERE user_id = $1 RETURNING user_id`,
        [
          userId,
          update.language !== undefined,
          update.language ?? null,
          update.preSelectedPartyId !== undefined,
          update.preSelectedPartyId || null,
          update.doNotPromptForParty !== undefined,
          update.doNotPromptForParty ?? null,
        ],
      );
      return rows.length > 0;
    },
  };
}
