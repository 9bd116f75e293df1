import type { Database } from '../../../platform/src/db/index.js';
import { profileRepository } from '../profile/repository.js';
import { partyRepository } from '../register/repository.js';
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

/** Most persons the test login page lists. */
const PEOPLE_LIMIT = 200;

/**
 * The directory on Register and Profile, through their repositories: persons by fødselsnummer with their user
 * profile, and the service owners.
 */
export function registerDirectory(db: Database): IdentityDirectory {
  const owners = serviceOwnerRepository(db);
  const parties = partyRepository(db);
  const profiles = profileRepository(db);
  return {
    async userBySsn(ssn) {
      const person = await parties.bySsn(ssn);
      if (!person || person.isDeleted) return undefined;
      const profile = await profiles.byPartyId(person.partyId);
      return profile ? { userId: profile.userId, partyId: profile.partyId } : undefined;
    },
    async people() {
      const people: { ssn: string; name: string; userId: number }[] = [];
      let after = 0;
      while (people.length < PEOPLE_LIMIT) {
        const users = await profiles.users(after, PEOPLE_LIMIT);
        if (users.length === 0) break;
        const byId = new Map((await parties.byIds(users.map((user) => user.partyId))).map((p) => [p.partyId, p]));
        for (const user of users) {
          const party = byId.get(user.partyId);
          if (party?.ssn && !party.isDeleted && people.length < PEOPLE_LIMIT) {
            people.push({ ssn: party.ssn, name: party.name, userId: user.userId });
          }
        }
        after = users[users.length - 1]!.userId;
      }
      return people;
    },
    async serviceOwnerByNumber(orgNumber) {
      const owner = await owners.byNumber(orgNumber);
      return owner ? { org: owner.org, orgNumber: owner.orgNumber } : undefined;
    },
  };
}
