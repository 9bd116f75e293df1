import type { Queryable } from '../../../platform/src/db/index.js';

/** A delegation: an offering party lets a covered user or organisation act for it with a role or app rights. */
export interface Delegation {
  delegationId: string;
  offeredByPartyId: number;
  coveredByUserId: number | null;
  coveredByPartyId: number | null;
  roleCode: string | null;
  rights: { org: string; app: string; actions: string[] } | null;
  /** The one instance the rights hold on, `{partyId}/{instanceGuid}`; null for rights on every instance. */
  instanceId: string | null;
  /** The process task the instance rights hold in; null for any task. */
  taskId: string | null;
  validFrom: string;
  validTo: string | null;
  created: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** One audited change of a delegation. */
export interface DelegationAudit {
  seq: number;
  delegationId: string;
  change: 'created' | 'revoked';
  actor: string;
  at: string;
  delegation: Delegation;
}

/** What a new delegation says. */
export interface NewDelegation {
  offeredByPartyId: number;
  coveredByUserId: number | null;
  coveredByPartyId: number | null;
  roleCode: string | null;
  rights: { org: string; app: string; actions: string[] } | null;
  /** Rights on one instance (of the offering party) only, in one task when given. */
  instance?: { instanceGuid: string; taskId: string | null };
  validFrom: Date;
  validTo: Date | null;
}

type DelegationRow = {
  delegation_id: string;
  offered_by_party_id: string;
  covered_by_user_id: string | null;
  covered_by_party_id: string | null;
  role_code: string | null;
  org: string | null;
  app: string | null;
  actions: string[] | null;
  instance_guid: string | null;
  task_id: string | null;
  valid_from: Date;
  valid_to: Date | null;
  created: Date;
  created_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
};

const iso = (value: Date | string) => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null) => (value === null ? null : iso(value));
const numberOrNull = (value: string | null) => (value === null ? null : Number(value));

function delegationOf(row: DelegationRow): Delegation {
  return {
    delegationId: row.delegation_id,
    offeredByPartyId: Number(row.offered_by_party_id),
    coveredByUserId: numberOrNull(row.covered_by_user_id),
    coveredByPartyId: numberOrNull(row.covered_by_party_id),
    roleCode: row.role_code,
    rights: row.org && row.app && row.actions ? { org: row.org, app: row.app, actions: row.actions } : null,
    instanceId: row.instance_guid ? `${row.offered_by_party_id}/${row.instance_guid}` : null,
    taskId: row.task_id,
    validFrom: iso(row.valid_from),
    validTo: isoOrNull(row.valid_to),
    created: iso(row.created),
    createdBy: row.created_by,
    revokedAt: isoOrNull(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

/** Storing, finding and revoking delegations, each change with its audit row. */
function delegationWrites(db: Queryable) {
  const audit = async (delegation: Delegation, change: 'created' | 'revoked', actor: string, at: Date) => {
    await db.query(
      'INSERT INTO delegation_audit (delegation_id, change, actor, at, delegation) VALUES ($1, $2, $3, $4, $5)',
      [delegation.delegationId, change, actor, at, JSON.stringify(delegation)],
    );
  };
  return {
    /** Stores a delegation and its `created` audit row. */
    async insert(input: NewDelegation, actor: string, now: Date): Promise<Delegation> {
      const [row] = await db.query<DelegationRow>(
        `INSERT INTO delegations (offered_by_party_id, covered_by_user_id, covered_by_party_id, role_code, org, app,
           actions, valid_from, valid_to, created, created_by, instance_guid, task_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
        [
          input.offeredByPartyId,
          input.coveredByUserId,
          input.coveredByPartyId,
          input.roleCode,
          input.rights?.org ?? null,
          input.rights?.app ?? null,
          input.rights?.actions ?? null,
          input.validFrom,
          input.validTo,
          now,
          actor,
          input.instance?.instanceGuid ?? null,
          input.instance?.taskId ?? null,
        ],
      );
      if (!row) throw new Error('delegation insert returned no row');
      const delegation = delegationOf(row);
      await audit(delegation, 'created', actor, now);
      return delegation;
    },

    async find(delegationId: string): Promise<Delegation | undefined> {
      const [row] = await db.query<DelegationRow>('SELECT * FROM delegations WHERE delegation_id = $1', [delegationId]);
      return row ? delegationOf(row) : undefined;
    },

    /** Revokes an unrevoked delegation and audits it; undefined when it is already revoked. */
    async revoke(delegationId: string, actor: string, now: Date): Promise<Delegation | undefined> {
      const [row] = await db.query<DelegationRow>(
        `UPDATE delegations SET revoked_at = $2, revoked_by = $3
         WHERE delegation_id = $1 AND revoked_at IS NULL RETURNING *`,
        [delegationId, now, actor],
      );
      if (!row) return undefined;
      const delegation = delegationOf(row);
      await audit(delegation, 'revoked', actor, now);
      return delegation;
    },
  };
}

/** Delegations offered by a party, received by a user or party, or on an instance; and an audit trail. */
function delegationReads(db: Queryable) {
  return {
    /** Delegations offered by `partyId`, oldest first; revoked ones only when asked. */
    async offered(partyId: number, includeRevoked: boolean): Promise<Delegation[]> {
      const rows = await db.query<DelegationRow>(
        `SELECT * FROM delegations WHERE offered_by_party_id = $1 AND ($2 OR revoked_at IS NULL)
         ORDER BY created, delegation_id`,
        [partyId, includeRevoked],
      );
      return rows.map(delegationOf);
    },

    /** Delegations received by a user or an organisation, oldest first; revoked ones only when asked. */
    async received(covered: { userId?: number; partyId?: number }, includeRevoked: boolean): Promise<Delegation[]> {
      const column = covered.userId === undefined ? 'covered_by_party_id' : 'covered_by_user_id';
      const rows = await db.query<DelegationRow>(
        `SELECT * FROM delegations WHERE ${column} = $1 AND ($2 OR revoked_at IS NULL)
         ORDER BY created, delegation_id`,
        [covered.userId ?? covered.partyId, includeRevoked],
      );
      return rows.map(delegationOf);
    },

    /**
     * Active delegations on one instance from its owner `offeredByPartyId` to a user or an organisation, oldest
     * first, their rows locked for the change of the transaction it runs in.
     */
    async onInstance(
      instanceGuid: string,
      offeredByPartyId: number,
      covered: { userId: number | null; partyId: number | null },
    ): Promise<Delegation[]> {
      const rows = await db.query<DelegationRow>(
        `SELECT * FROM delegations
         WHERE instance_guid = $1 AND offered_by_party_id = $2 AND revoked_at IS NULL
           AND covered_by_user_id IS NOT DISTINCT FROM $3 AND covered_by_party_id IS NOT DISTINCT FROM $4
         ORDER BY created, delegation_id FOR UPDATE`,
        [instanceGuid, offeredByPartyId, covered.userId, covered.partyId],
      );
      return rows.map(delegationOf);
    },

    async auditTrail(delegationId: string): Promise<DelegationAudit[]> {
      const rows = await db.query<{
        seq: string;
        delegation_id: string;
        change: 'created' | 'revoked';
        actor: string;
        at: Date;
        delegation: Delegation;
      }>('SELECT * FROM delegation_audit WHERE delegation_id = $1 ORDER BY seq', [delegationId]);
      return rows.map((row) => ({
        seq: Number(row.seq),
        delegationId: row.delegation_id,
        change: row.change,
        actor: row.actor,
        at: iso(row.at),
        delegation: row.delegation,
      }));
    },
  };
}

/** SQL of delegations and their audit trail. */
export function delegationRepository(db: Queryable) {
  return {
    ...delegationWrites(db),
    ...delegationReads(db),
  };
}
