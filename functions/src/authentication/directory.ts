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
}
