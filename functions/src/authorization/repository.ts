import type { Queryable } from '../../../platform/src/db/index.js';
import { instanceRepository } from '../storage/repositories/instance-repository.js';
import type { AppPolicy } from './policy.js';

/**
 * Altinn's key roles (nøkkelroller), the roles of the Central Coordinating Register with overall responsibility for
 * an organisation: managing director, chair of the board, owner, participants with shared or full responsibility,
 * managing shipowner, general partner and estate administrator. Their holders act for an organisation that is covered
 * by a delegation, and they answer the `altinn_keyrole_access` resource.
 */
export const KEY_ROLES = ['DAGL', 'LEDE', 'INNH', 'DTPR', 'DTSO', 'BEST', 'KOMP', 'BOBE'] as const;

/** A stored app policy. */
export interface StoredPolicy {
  org: string;
  app: string;
  policy: AppPolicy;
  version: number;
  created: string;
  lastChanged: string;
}

/** A role a user holds for a party, as data. */
export interface RoleAssignment {
  id: number;
  userId: number;
  partyId: number;
  roleCode: string;
  validFrom: string;
  validTo: string | null;
  created: string;
}

/**
 * One thing that lets a user act for a party: a role (assigned or delegated) or app rights (delegated), with the
 * window in which it holds. Grants through a covered organisation hold where both the key role and the
 * delegation hold.
 */
export interface Grant {
  roleCode: string | null;
  org: string | null;
  app: string | null;
  actions: string[] | null;
  /** Set on rights delegated on one instance: its guid, and the task they hold in (null for any task). */
  instance: { instanceGuid: string; taskId: string | null } | null;
  validFrom: Date;
  validTo: Date | null;
}

type PolicyRow = { org: string; app: string; policy: AppPolicy; version: string; created: Date; last_changed: Date };
type AssignmentRow = {
  assignment_id: string;
  user_id: string;
  party_id: string;
  role_code: string;
  valid_from: Date;
  valid_to: Date | null;
  created: Date;
};
type GrantRow = {
  role_code: string | null;
  org: string | null;
  app: string | null;
  actions: string[] | null;
  instance_guid: string | null;
  task_id: string | null;
  valid_from: Date;
  valid_to: Date | null;
};

const iso = (value: Date | string) => new Date(value).toISOString();

function policyOf(row: PolicyRow): StoredPolicy {
  return {
    org: row.org,
    app: row.app,
    policy: row.policy,
    version: Number(row.version),
    created: iso(row.created),
    lastChanged: iso(row.last_changed),
  };
}

/** Maps a role_assignments row. */
export function assignmentOf(row: AssignmentRow): RoleAssignment {
  return {
    id: Number(row.assignment_id),
    userId: Number(row.user_id),
    partyId: Number(row.party_id),
    roleCode: row.role_code,
    validFrom: iso(row.valid_from),
    validTo: row.valid_to ? iso(row.valid_to) : null,
    created: iso(row.created),
  };
}

const KEY_ROLE_LIST = `'${KEY_ROLES.join("','")}'`;

/**
 * Grants of `userId` for `partyId` that have not ended at `now` (some may start later): role assignments,
 * delegations to the user, and delegations to organisations where the user holds a key role. Delegations on one
 * instance count only for the instance `$4` (none when it is null).
 */
const GRANTS_SQL = `
SELECT role_code, NULL AS org, NULL AS app, NULL::text[] AS actions, NULL::uuid AS instance_guid,
       NULL::text AS task_id, valid_from, valid_to
  FROM role_assignments
  WHERE user_id = $1 AND party_id = $2 AND (valid_to IS NULL OR valid_to > $3)
UNION ALL
SELECT role_code, org, app, actions, instance_guid, task_id, valid_from, valid_to
  FROM delegations
  WHERE covered_by_user_id = $1 AND offered_by_party_id = $2 AND revoked_at IS NULL
    AND (valid_to IS NULL OR valid_to > $3) AND (instance_guid IS NULL OR instance_guid = $4::uuid)
UNION ALL
SELECT d.role_code, d.org, d.app, d.actions, d.instance_guid, d.task_id, GREATEST(d.valid_from, r.valid_from),
       CASE WHEN d.valid_to IS NULL THEN r.valid_to WHEN r.valid_to IS NULL THEN d.valid_to
            ELSE LEAST(d.valid_to, r.valid_to) END
  FROM role_assignments r
  JOIN delegations d ON d.covered_by_party_id = r.party_id AND d.offered_by_party_id = $2 AND d.revoked_at IS NULL
  WHERE r.user_id = $1 AND r.role_code IN (${KEY_ROLE_LIST})
    AND (r.valid_to IS NULL OR r.valid_to > $3) AND (d.valid_to IS NULL OR d.valid_to > $3)
    AND (d.instance_guid IS NULL OR d.instance_guid = $4::uuid)`;

/**
 * Parties `userId` holds an active role for or received an active delegation from, directly or through a key role.
 * Rights on one instance do not make its owner a party the user represents.
 */
const REPORTEES_SQL = `
SELECT party_id AS party_id FROM role_assignments
  WHERE user_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
UNION
SELECT offered_by_party_id FROM delegations
  WHERE covered_by_user_id = $1 AND revoked_at IS NULL AND instance_guid IS NULL
    AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
UNION
SELECT d.offered_by_party_id
  FROM role_assignments r
  JOIN delegations d ON d.covered_by_party_id = r.party_id AND d.revoked_at IS NULL AND d.instance_guid IS NULL
  WHERE r.user_id = $1 AND r.role_code IN (${KEY_ROLE_LIST})
    AND r.valid_from <= $2 AND (r.valid_to IS NULL OR r.valid_to > $2)
    AND d.valid_from <= $2 AND (d.valid_to IS NULL OR d.valid_to > $2)`;

/**
 * The validity of every key role `userId` holds for `partyId` from the register's role assignments (not from
 * delegations: a key role is not delegable) that has not ended at `now`.
 */
export async function keyRoleAssignments(
  db: Queryable,
  userId: number,
  partyId: number,
  now: Date,
): Promise<{ validFrom: Date; validTo: Date | null }[]> {
  const rows = await db.query<{ valid_from: Date | string; valid_to: Date | string | null }>(
    `SELECT valid_from, valid_to FROM role_assignments
      WHERE user_id = $1 AND party_id = $2 AND role_code IN (${KEY_ROLE_LIST}) AND (valid_to IS NULL OR valid_to > $3)`,
    [userId, partyId, now],
  );
  return rows.map((row) => ({
    validFrom: new Date(row.valid_from),
    validTo: row.valid_to === null ? null : new Date(row.valid_to),
  }));
}

/** SQL of Authorization: app policies, role assignments, grants and the cache generation. */
export function authorizationRepository(db: Queryable) {
  return {
    async findPolicy(org: string, app: string): Promise<StoredPolicy | undefined> {
      const [row] = await db.query<PolicyRow>('SELECT * FROM authorization_policies WHERE org = $1 AND app = $2', [
        org,
        app,
      ]);
      return row ? policyOf(row) : undefined;
    },

    /** Inserts or replaces the policy of `org/app`, counting versions from 1; answers the stored policy. */
    async savePolicy(org: string, app: string, policy: AppPolicy, now: Date): Promise<StoredPolicy> {
      const [row] = await db.query<PolicyRow>(
        `INSERT INTO authorization_policies (org, app, policy, version, created, last_changed)
         VALUES ($1, $2, $3, 1, $4, $4)
         ON CONFLICT (org, app) DO UPDATE
           SET policy = EXCLUDED.policy, version = authorization_policies.version + 1, last_changed = EXCLUDED.last_changed
         RETURNING *`,
        [org, app, JSON.stringify(policy), now],
      );
      if (!row) throw new Error('policy upsert returned no row');
      return policyOf(row);
    },

    /**
     * Grants of `userId` for `partyId` not ended at `now`; rights delegated on one instance only for `instanceGuid`
     * (a guid, lower-case or not) when given.
     */
    async grants(userId: number, partyId: number, now: Date, instanceGuid?: string): Promise<Grant[]> {
      const rows = await db.query<GrantRow>(GRANTS_SQL, [userId, partyId, now, instanceGuid?.toLowerCase() ?? null]);
      return rows.map((row) => ({
        roleCode: row.role_code,
        org: row.org,
        app: row.app,
        actions: row.actions,
        instance: row.instance_guid ? { instanceGuid: row.instance_guid, taskId: row.task_id } : null,
        validFrom: new Date(row.valid_from),
        validTo: row.valid_to ? new Date(row.valid_to) : null,
      }));
    },

    /** Party ids `userId` may represent at `now` besides their own, ascending. */
    async reportees(userId: number, now: Date): Promise<number[]> {
      const rows = await db.query<{ party_id: string }>(`${REPORTEES_SQL} ORDER BY 1`, [userId, now]);
      return rows.map((row) => Number(row.party_id));
    },

    /** The current task of an instance of `partyId` that is not hard-deleted (Storage's); undefined when none. */
    instanceTask(partyId: number, instanceGuid: string): Promise<{ task: string | null } | undefined> {
      return instanceRepository(db).currentTask(partyId, instanceGuid);
    },

    async insertAssignment(
      input: { userId: number; partyId: number; roleCode: string; validFrom: Date; validTo: Date | null },
      now: Date,
    ): Promise<RoleAssignment | undefined> {
      const [row] = await db.query<AssignmentRow>(
        `INSERT INTO role_assignments (user_id, party_id, role_code, valid_from, valid_to, created)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, party_id, role_code) DO NOTHING RETURNING *`,
        [input.userId, input.partyId, input.roleCode, input.validFrom, input.validTo, now],
      );
      return row ? assignmentOf(row) : undefined;
    },

    async listAssignments(filter: { userId?: number | undefined; partyId?: number | undefined }) {
      const rows = await db.query<AssignmentRow>(
        `SELECT * FROM role_assignments
         WHERE ($1::bigint IS NULL OR user_id = $1) AND ($2::bigint IS NULL OR party_id = $2)
         ORDER BY assignment_id`,
        [filter.userId ?? null, filter.partyId ?? null],
      );
      return rows.map(assignmentOf);
    },

    async deleteAssignment(id: number): Promise<RoleAssignment | undefined> {
      const [row] = await db.query<AssignmentRow>('DELETE FROM role_assignments WHERE assignment_id = $1 RETURNING *', [
        id,
      ]);
      return row ? assignmentOf(row) : undefined;
    },

    /** Bumps the generation every decision cache compares; call in the transaction of the change. */
    async bumpGeneration(): Promise<void> {
      await db.query('UPDATE authorization_generation SET generation = generation + 1');
    },

    async generation(): Promise<string> {
      const [row] = await db.query<{ generation: string }>(
        'SELECT generation::text AS generation FROM authorization_generation',
      );
      return row?.generation ?? '0';
    },
  };
}

/** The repository over one database or transaction. */
export type AuthorizationRepository = ReturnType<typeof authorizationRepository>;
