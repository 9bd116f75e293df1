import type { Queryable } from '../platform/db/index.js';
import type { Instance } from './instance-schemas.js';

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
  org: string;
  app?: string | undefined;
  partyId?: string | undefined;
  dates: Partial<Record<DateField, DateCondition[]>>;
  currentTask?: string | undefined;
  isComplete?: boolean | undefined;
  isArchived?: boolean | undefined;
  isSoftDeleted: boolean;
  order: 'asc' | 'desc';
  after?: InstanceCursor | undefined;
  limit: number;
}

/** Reads and writes of Storage's instances; every statement is parameterised. */
export interface InstanceRepository {
  /** The instance, or undefined when there is none or it is hard deleted. */
  findInstance(partyId: string, instanceGuid: string): Promise<Instance | undefined>;
  /** Like findInstance, and on a transaction it locks the row until commit. */
  lockInstance(partyId: string, instanceGuid: string): Promise<Instance | undefined>;
  /** Stores a new instance. */
  insertInstance(instance: Instance): Promise<void>;
  /** Replaces a stored instance and its filter columns. */
  updateInstance(instance: Instance): Promise<void>;
  /** Instances matching `filter`, in its order on (lastChanged, guid), at most `filter.limit`. */
  queryInstances(filter: InstanceFilter): Promise<Instance[]>;
}

type InstanceRow = { instance: Instance };

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
  ];
}

/** Builds the repository on a database or an open transaction. */
export function instanceRepository(db: Queryable): InstanceRepository {
  const find = async (partyId: string, instanceGuid: string, lock: boolean) => {
    const [row] = await db.query<InstanceRow>(
      `SELECT instance FROM instances
       WHERE instance_guid = $1 AND party_id = $2 AND NOT is_hard_deleted${lock ? ' FOR UPDATE' : ''}`,
      [instanceGuid, partyId],
    );
    return row?.instance;
  };

  return {
    findInstance: (partyId, instanceGuid) => find(partyId, instanceGuid, false),
    lockInstance: (partyId, instanceGuid) => find(partyId, instanceGuid, true),

    async insertInstance(instance) {
      await db.query(
        `INSERT INTO instances (instance_guid, party_id, org, app, instance, created, last_changed, due_before,
           visible_after, current_task, is_complete, is_archived, is_soft_deleted, is_hard_deleted)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [instanceGuidOf(instance), ...columnsOf(instance)],
      );
    },

    async updateInstance(instance) {
      await db.query(
        `UPDATE instances SET party_id = $2, org = $3, app = $4, instance = $5::jsonb, created = $6,
           last_changed = $7, due_before = $8, visible_after = $9, current_task = $10, is_complete = $11,
           is_archived = $12, is_soft_deleted = $13, is_hard_deleted = $14
         WHERE instance_guid = $1`,
        [instanceGuidOf(instance), ...columnsOf(instance)],
      );
    },

    async queryInstances(filter) {
      const params: unknown[] = [];
      const param = (value: unknown): string => {
        params.push(value);
        return `$${params.length}`;
      };
      const where = ['NOT is_hard_deleted', `org = ${param(filter.org)}`];
      if (filter.app !== undefined) where.push(`app = ${param(filter.app)}`);
      if (filter.partyId !== undefined) where.push(`party_id = ${param(filter.partyId)}`);
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
