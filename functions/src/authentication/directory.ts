import type { Database } from '../../../platform/src/db/index.js';
import { serviceOwnerRepository } from '../register/service-owners.js';

/** A person the platform knows, as a platform token names them. */
export interface KnownUser {
  userId: number;
  partyId: number;
}

/** A service owner: its org code (e.g. `ttd`) and organisation number. */
export interface ServiceOwner {
  org: string;
  orgNumber: string;
}

/** Where the Authentication API finds the people and service owners external tokens name. */
export interface IdentityDirectory {
  /** The user with this fødselsnummer, or undefined when Register and Profile do not know them. */
  userBySsn(ssn: string): Promise<KnownUser | undefined>;
  /** The service owner with this organisation number, or undefined when it is not one. */
  serviceOwnerByNumber(orgNumber: string): Promise<ServiceOwner | undefined>;
  /** The persons with a user profile, for the test login page (local mode); at most 200. */
  people?(): Promise<{ ssn: string; name: string; userId: number }[]>;
}

/** The directory on Register's tables: persons by fødselsnummer with their user profile, and the service owners. */
export function registerDirectory(db: Database): IdentityDirectory {
  const owners = serviceOwnerRepository(db);
  return {
    async userBySsn(ssn) {
      const [row] = await db.query<{ user_id: string; party_id: string }>(
        `SELECT u.user_id::text AS user_id, u.party_id::text AS party_id
         FROM parties p JOIN user_profiles u ON u.party_id = p.party_id
         WHERE p.ssn = $1 AND NOT p.is_deleted`,
        [ssn],
      );
      return row ? { userId: Number(row.user_id), partyId: Number(row.party_id) } : undefined;
    },
    async people() {
      const rows = await db.query<{ ssn: string; name: string; user_id: string }>(
        `SELECT p.ssn, p.name, u.user_id::text AS user_id
         FROM parties p JOIN user_profiles u ON u.party_id = p.party_id
         WHERE p.ssn IS NOT NULL AND NOT p.is_deleted ORDER BY u.user_id LIMIT 200`,
      );
      return rows.map((row) => ({ ssn: row.ssn, name: row.name, userId: Number(row.user_id) }));
    },
    async serviceOwnerByNumber(orgNumber) {
      const owner = await owners.byNumber(orgNumber);
      return owner ? { org: owner.org, orgNumber: owner.orgNumber } : undefined;
    },
  };
}
