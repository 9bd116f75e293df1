import type { Queryable } from '../../../../platform/src/db/index.js';
import type { Instance } from '../models/instance-schemas.js';
import type { DateCondition, InstanceCursor } from './instance-repository.js';

/** The date filters of an instance query, each on its column (process.ended on the stored process). */
export type QueryDateField = 'lastChanged' | 'created' | 'dueBefore' | 'visibleAfter' | 'processEnded';

/**
 * What `GET instances` selects, as Altinn Storage's query parameters do. A field left undefined does not filter:
 * `isSoftDeleted` and `isHardDeleted` undefined select both (the route sets `isHardDeleted: false` for callers
 * other than the app's owner).
 */
export interface InstanceQuery {
  org?: string | undefined;
  /** `appId` as `{org}/{app}`: both must match. */
  appOrg?: string | undefined;
  app?: string | undefined;
  partyId?: string | undefined;
  /** The owner's fødselsnummer, from `X-Ai-InstanceOwnerIdentifier: Person:...`. */
  personNumber?: string | undefined;
  /** The owner's organisasjonsnummer, from `X-Ai-InstanceOwnerIdentifier: Organisation:...`. */
  organisationNumber?: string | undefined;
  /** Leaves out instances whose completeConfirmations name any of these stakeholders. */
  excludeConfirmedBy?: string[] | undefined;
  /** Confirmed complete (or not) by the instance's own org. */
  confirmed?: boolean | undefined;
  dates: Partial<Record<QueryDateField, DateCondition[]>>;
  currentTask?: string | undefined;
  endEvent?: string | undefined;
  /** true: the process has ended; false: it has a current task (Altinn's meaning). */
  isComplete?: boolean | undefined;
  isArchived?: boolean | undefined;
  isSoftDeleted?: boolean | undefined;
  isHardDeleted?: boolean | undefined;
  /** The last 12 characters of the instance guid (Altinn's A3 reference). */
  a3Ref?: string | undefined;
  /** Case-insensitive substring of any of the instance's presentation texts. */
  searchString?: string | undefined;
  order: 'asc' | 'desc';
  after?: InstanceCursor | undefined;
  limit: number;
}

const DATE_COLUMNS: Record<QueryDateField, string> = {
  lastChanged: 'last_changed',
  created: 'created',
  dueBefore: 'due_before',
  visibleAfter: 'visible_after',
  processEnded: "(instance->'process'->>'ended')::timestamptz",
};
const OPERATORS: Record<DateCondition['op'], string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=' };

/** Escapes LIKE's wildcards, so a search string matches as written. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (wildcard) => `\\${wildcard}`);

/**
 * Instances matching `query`, in its order on (lastChanged, guid) with the guid breaking ties in the same direction
 * (keyset paging never skips rows sharing a timestamp), at most `query.limit`. Every statement is parameterised.
 */
export async function queryInstances(db: Queryable, query: InstanceQuery): Promise<Instance[]> {
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [];
  const equal = (column: string, value: unknown) => {
    if (value !== undefined) where.push(`${column} = ${param(value)}`);
  };
  equal('org', query.org);
  equal('org', query.appOrg);
  equal('app', query.app);
  equal('party_id', query.partyId);
  equal('person_number', query.personNumber);
  equal('organisation_number', query.organisationNumber);
  equal('current_task', query.currentTask);
  equal("instance->'process'->>'endEvent'", query.endEvent);
  equal('is_archived', query.isArchived);
  equal('is_soft_deleted', query.isSoftDeleted);
  // Literal, not a parameter: the query indexes are partial on NOT is_hard_deleted.
  if (query.isHardDeleted !== undefined) where.push(query.isHardDeleted ? 'is_hard_deleted' : 'NOT is_hard_deleted');
  if (query.excludeConfirmedBy && query.excludeConfirmedBy.length > 0) {
    where.push(`NOT (confirmed_by && ${param(query.excludeConfirmedBy)}::text[])`);
  }
  if (query.confirmed !== undefined) where.push(`(org = ANY(confirmed_by)) = ${param(query.confirmed)}`);
  if (query.isComplete === true) where.push('is_complete');
  if (query.isComplete === false) where.push('current_task IS NOT NULL');
  for (const [field, conditions] of Object.entries(query.dates) as [QueryDateField, DateCondition[]][]) {
    for (const condition of conditions) {
      where.push(`${DATE_COLUMNS[field]} ${OPERATORS[condition.op]} ${param(condition.at)}::timestamptz`);
    }
  }
  if (query.a3Ref !== undefined) where.push(`right(instance_guid::text, 12) = ${param(query.a3Ref.toLowerCase())}`);
  if (query.searchString !== undefined) {
    where.push(
      `EXISTS (SELECT 1 FROM jsonb_each_text(CASE WHEN jsonb_typeof(instance->'presentationTexts') = 'object'
         THEN instance->'presentationTexts' ELSE '{}'::jsonb END) AS text
       WHERE text.value ILIKE ${param(`%${likeLiteral(query.searchString)}%`)})`,
    );
  }
  const direction = query.order === 'desc' ? 'DESC' : 'ASC';
  if (query.after) {
    const past = query.order === 'desc' ? '<' : '>';
    where.push(
      `(last_changed, instance_guid) ${past} (${param(query.after.lastChanged)}::timestamptz, ${param(query.after.instanceGuid)}::uuid)`,
    );
  }
  const rows = await db.query<{ instance: Instance }>(
    `SELECT instance FROM instances WHERE ${where.length > 0 ? where.join(' AND ') : 'TRUE'}
     ORDER BY last_changed ${direction}, instance_guid ${direction}
     LIMIT ${param(query.limit)}`,
    params,
  );
  return rows.map((row) => row.instance);
}
