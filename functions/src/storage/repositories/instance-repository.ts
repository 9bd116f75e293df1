import type { Queryable, Transaction } from '../../../../platform/src/db/index.js';
import type { Instance } from '../models/instance-schemas.js';

/** A comparison of one date column with a point in time, from a `gt:2024-01-01T00:00:00Z` style filter. */
export interface DateCondition {
  op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq';
  /** ISO 8601 instant. */
  at: string;
}

/** The date fields an instance query can filter on. */
export type DateField = 'lastChanged' | 'created' | 'dueBefore' | 'visibleAfter';

/** Where a page starts: after the row with this `lastChanged` and guid, in the query's order. */
export interface InstanceCursor {
  lastChanged: string;
  instanceGuid: string;
}

/** What an instance query selects; hard-deleted instances are never selected. */
export interface InstanceFilter {
  /** Always given by an org caller; an end user's query names a party instead (see access.ts). */
  org?: string | undefined;
  app?: string | undefined;
  partyId?: string | undefined;
  /** The owner's fødselsnummer (11 digits), from `X-Ai-InstanceOwnerIdentifier: Person:...`. */
  personNumber?: string | undefined;
  /** The owner's organisasjonsnummer (9 digits), from `X-Ai-InstanceOwnerIdentifier: Organisation:...`. */
  organisationNumber?: string | undefined;
  /** Leaves out instances whose completeConfirmations name any of these stakeholders. */
  excludeConfirmedBy?: string[] | undefined;
  dates: Partial<Record<DateField, DateCondition[]>>;
  currentTask?: string | undefined;
  isComplete?: boolean | undefined;
  isArchived?: boolean | undefined;
  isSoftDeleted: boolean;
  order: 'asc' | 'desc';
  after?: InstanceCursor | undefined;
  limit: number;
}

/**
 * An instance with its row version: a counter the database raises on every UPDATE of the row (migration 7's
 * trigger), so it changes whenever the instance does. A decimal string (int8 comes back as text).
 */
export interface VersionedInstance {
  instance: Instance;
  version: string;
}

/** Reads and writes of Storage's instances; every statement is parameterised. */
export interface InstanceRepository {
  /** The instance, or undefined when there is none or it is hard deleted. */
  findInstance(partyId: string, instanceGuid: string): Promise<Instance | undefined>;
  /** Like findInstance, and on a transaction it locks the row until commit. */
  lockInstance(partyId: string, instanceGuid: string): Promise<Instance | undefined>;
  /** Like findInstance, with the row version. */
  findVersionedInstance(partyId: string, instanceGuid: string): Promise<VersionedInstance | undefined>;
  /** Like lockInstance, with the row version. */
  lockVersionedInstance(partyId: string, instanceGuid: string): Promise<VersionedInstance | undefined>;
  /** Stores a new instance; answers its row version. */
  insertInstance(instance: Instance): Promise<string>;
  /**
   * Replaces a stored instance and its filter columns; answers the new row version. With `expectedVersion` the
   * row is only written while it still has that version (checked in the UPDATE itself); undefined when it had not.
   */
  updateInstance(instance: Instance, expectedVersion?: string): Promise<string | undefined>;
  /** Instances matching `filter`, in its order on (lastChanged, guid), at most `filter.limit`. */
  queryInstances(filter: InstanceFilter): Promise<Instance[]>;
  /** The current task of an instance of `partyId` (not hard deleted), null between tasks; undefined when none. */
  currentTask(partyId: number, instanceGuid: string): Promise<{ task: string | null } | undefined>;
  /** The party that owns the instance of `org`/`app` (not hard deleted); undefined when there is none. */
  ownerOf(org: string, app: string, instanceGuid: string): Promise<number | undefined>;
  /** On a transaction: locks the instance's row until commit, so changes about one instance run one at a time. */
  lockRow(instanceGuid: string): Promise<void>;
}

type InstanceRow = { instance: Instance };
type VersionedRow = { instance: Instance; version: string };

const DATE_COLUMNS: Record<DateField, string> = {
  lastChanged: 'last_changed',
  created: 'created',
  dueBefore: 'due_before',
  visibleAfter: 'visible_after',
};
const OPERATORS: Record<DateCondition['op'], string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=' };

/** The guid part of an instance id `{partyId}/{instanceGuid}`. */
export function instanceGuidOf(instance: Instance): string {
  return instance.id.slice(instance.id.indexOf('/') + 1);
}

/** The column values an instance is filtered and sorted on, in the order of the INSERT below after the guid. */
function columnsOf(instance: Instance): unknown[] {
  const [org = '', app = ''] = instance.appId.split('/');
  return [
    instance.instanceOwner.partyId,
    org,
    app,
    JSON.stringify(instance),
    instance.created,
    instance.lastChanged,
    instance.dueBefore ?? null,
    instance.visibleAfter ?? null,
    instance.process?.currentTask?.elementId ?? null,
    Boolean(instance.process?.ended),
    instance.status.isArchived,
    instance.status.isSoftDeleted,
    instance.status.isHardDeleted,
    instance.instanceOwner.personNumber || null,
    instance.instanceOwner.organisationNumber || null,
    [...new Set((instance.completeConfirmations ?? []).map((confirmation) => confirmation.stakeholderId))],
  ];
}

/** Builds the repository on a database or an open transaction. */
export function instanceRepository(db: Queryable): InstanceRepository {
  const find = async (partyId: string, instanceGuid: string, lock: boolean) => {
    const [row] = await db.query<VersionedRow>(
      `SELECT instance, version::text AS version FROM instances
       WHERE instance_guid = $1 AND party_id = $2 AND NOT is_hard_deleted${lock ? ' FOR UPDATE' : ''}`,
      [instanceGuid, partyId],
    );
    return row && { instance: row.instance, version: row.version };
  };

  return {
    findInstance: async (partyId, instanceGuid) => (await find(partyId, instanceGuid, false))?.instance,
    lockInstance: async (partyId, instanceGuid) => (await find(partyId, instanceGuid, true))?.instance,
    findVersionedInstance: (partyId, instanceGuid) => find(partyId, instanceGuid, false),
    lockVersionedInstance: (partyId, instanceGuid) => find(partyId, instanceGuid, true),

    async currentTask(partyId, instanceGuid) {
      const [row] = await db.query<{ current_task: string | null }>(
        'SELECT current_task FROM instances WHERE instance_guid = $1 AND party_id = $2 AND NOT is_hard_deleted',
        [instanceGuid.toLowerCase(), partyId],
      );
      return row ? { task: row.current_task } : undefined;
    },

    async ownerOf(org, app, instanceGuid) {
      const [row] = await db.query<{ party_id: string }>(
        `SELECT party_id::text AS party_id FROM instances
         WHERE instance_guid = $1 AND org = $2 AND app = $3 AND NOT is_hard_deleted`,
        [instanceGuid, org, app],
      );
      return row ? Number(row.party_id) : undefined;
    },

    async lockRow(instanceGuid) {
      await db.query('SELECT 1 FROM instances WHERE instance_guid = $1 FOR UPDATE', [instanceGuid]);
    },

    async insertInstance(instance) {
      const [row] = await db.query<{ version: string }>(
        `INSERT INTO instances (instance_guid, party_id, org, app, instance, created, last_changed, due_before,
           visible_after, current_task, is_complete, is_archived, is_soft_deleted, is_hard_deleted, person_number,
           organisation_number, confirmed_by)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::text[])
         RETURNING version::text AS version`,
        [instanceGuidOf(instance), ...columnsOf(instance)],
      );
      return row?.version ?? '1';
    },

    async updateInstance(instance, expectedVersion) {
      const [row] = await db.query<{ version: string }>(
        `UPDATE instances SET party_id = $2, org = $3, app = $4, instance = $5::jsonb, created = $6,
           last_changed = $7, due_before = $8, visible_after = $9, current_task = $10, is_complete = $11,
           is_archived = $12, is_soft_deleted = $13, is_hard_deleted = $14, person_number = $15,
           organisation_number = $16, confirmed_by = $17::text[]
         WHERE instance_guid = $1 AND ($18::bigint IS NULL OR version = $18::bigint)
         RETURNING version::text AS version`,
        [instanceGuidOf(instance), ...columnsOf(instance), expectedVersion ?? null],
      );
      return row?.version;
    },

    async queryInstances(filter) {
      const params: unknown[] = [];
      const param = (value: unknown): string => {
        params.push(value);
        return `$${params.length}`;
      };
      const where = ['NOT is_hard_deleted'];
      if (filter.org !== undefined) where.push(`org = ${param(filter.org)}`);
      if (filter.app !== undefined) where.push(`app = ${param(filter.app)}`);
      if (filter.partyId !== undefined) where.push(`party_id = ${param(filter.partyId)}`);
      if (filter.personNumber !== undefined) where.push(`person_number = ${param(filter.personNumber)}`);
      if (filter.organisationNumber !== undefined) {
        where.push(`organisation_number = ${param(filter.organisationNumber)}`);
      }
      if (filter.excludeConfirmedBy && filter.excludeConfirmedBy.length > 0) {
        where.push(`NOT (confirmed_by && ${param(filter.excludeConfirmedBy)}::text[])`);
      }
      for (const [field, conditions] of Object.entries(filter.dates) as [DateField, DateCondition[]][]) {
        for (const condition of conditions) {
          where.push(`${DATE_COLUMNS[field]} ${OPERATORS[condition.op]} ${param(condition.at)}::timestamptz`);
        }
      }
      if (filter.currentTask !== undefined) where.push(`current_task = ${param(filter.currentTask)}`);
      if (filter.isComplete !== undefined) where.push(`is_complete = ${param(filter.isComplete)}`);
      if (filter.isArchived !== undefined) where.push(`is_archived = ${param(filter.isArchived)}`);
      where.push(`is_soft_deleted = ${param(filter.isSoftDeleted)}`);
      const direction = filter.order === 'desc' ? 'DESC' : 'ASC';
      if (filter.after) {
        // Keyset: the guid breaks ties on lastChanged in the same direction, so equal timestamps are never skipped.
        const past = filter.order === 'desc' ? '<' : '>';
        where.push(
          `(last_changed, instance_guid) ${past} (${param(filter.after.lastChanged)}::timestamptz, ${param(filter.after.instanceGuid)}::uuid)`,
        );
      }
      const rows = await db.query<InstanceRow>(
        `SELECT instance FROM instances WHERE ${where.join(' AND ')}
         ORDER BY last_changed ${direction}, instance_guid ${direction}
         LIMIT ${param(filter.limit)}`,
        params,
      );
      return rows.map((row) => row.instance);
    },
  };
}

/**
 * `instance` with `stakeholderId`'s complete confirmation added at `at` by `by`; the same object when that
 * stakeholder has confirmed already (confirming twice changes nothing).
 */
export function withConfirmation(instance: Instance, stakeholderId: string, at: string, by: string | null): Instance {
  const confirmations = instance.completeConfirmations ?? [];
  if (confirmations.some((confirmation) => confirmation.stakeholderId === stakeholderId)) return instance;
  return {
    ...instance,
    completeConfirmations: [...confirmations, { stakeholderId, confirmedOn: at }],
    lastChanged: at,
    lastChangedBy: by,
  };
}

/**
 * Records that `stakeholderId` (an org, or a party) has confirmed the instance complete, at `at` (ISO 8601):
 * appends `{ stakeholderId, confirmedOn }` to completeConfirmations and moves lastChanged (changed by `by`, the
 * stakeholder by default). A stakeholder that has confirmed before is not added again and nothing changes. Locks
 * the row on `tx` until it commits. Undefined when there is no such instance (or it is hard deleted).
 */
export async function confirmComplete(
  tx: Transaction,
  partyId: string,
  instanceGuid: string,
  stakeholderId: string,
  at: string,
  by: string | null = stakeholderId,
): Promise<VersionedInstance | undefined> {
  const repository = instanceRepository(tx);
  const found = await repository.lockVersionedInstance(partyId, instanceGuid);
  if (!found) return undefined;
  const instance = withConfirmation(found.instance, stakeholderId, at, by);
  if (instance === found.instance) return found;
  const version = await repository.updateInstance(instance, found.version);
  if (version === undefined) throw new Error(`instance ${partyId}/${instanceGuid} changed while locked`);
  return { instance, version };
}
