import type { Queryable } from '../../../platform/src/db/index.js';

/** A service owner: the org code apps are named by (e.g. `ttd`), its organisation number and name. */
export interface ServiceOwnerRow {
  org: string;
  orgNumber: string;
  name: string;
}

/** The test service owner, Testdepartementet (party 500300 in the seed), owner of the demo app `ttd/demo`. */
export const TEST_SERVICE_OWNERS: readonly ServiceOwnerRow[] = [
  { org: 'ttd', orgNumber: '310500003', name: 'Testdepartementet' },
];

/** Reads and writes the service owner list. */
export function serviceOwnerRepository(db: Queryable) {
  return {
    async byNumber(orgNumber: string): Promise<ServiceOwnerRow | undefined> {
      const [row] = await db.query<{ org: string; org_number: string; name: string }>(
        'SELECT org, org_number, name FROM service_owners WHERE org_number = $1',
        [orgNumber],
      );
      return row ? { org: row.org, orgNumber: row.org_number, name: row.name } : undefined;
    },
    /** The service owner with this org code (e.g. `ttd`), in any casing. */
    async byOrg(org: string): Promise<ServiceOwnerRow | undefined> {
      const [row] = await db.query<{ org: string; org_number: string; name: string }>(
        'SELECT org, org_number, name FROM service_owners WHERE org = $1',
        [org.toLowerCase()],
      );
      return row ? { org: row.org, orgNumber: row.org_number, name: row.name } : undefined;
    },
    /** Adds or updates `owner` (idempotent). */
    async upsert(owner: ServiceOwnerRow): Promise<void> {
      await db.query(
        `INSERT INTO service_owners (org, org_number, name) VALUES ($1, $2, $3)
         ON CONFLICT (org) DO UPDATE SET org_number = EXCLUDED.org_number, name = EXCLUDED.name`,
        [owner.org, owner.orgNumber, owner.name],
      );
    },
  };
}
