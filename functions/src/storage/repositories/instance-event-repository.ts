import type { Queryable } from '../../../../platform/src/db/index.js';
import type { InstanceEvent } from '../models/instance-event-schemas.js';

/** What an event listing selects: one instance's events, optionally of some types and within [from, to]. */
export interface InstanceEventFilter {
  instanceGuid: string;
  eventTypes?: string[] | undefined;
  /** ISO 8601 instant; events created at or after it. */
  from?: string | undefined;
  /** ISO 8601 instant; events created at or before it. */
  to?: string | undefined;
  /** Only events whose type starts with this (e.g. `process_`). */
  typePrefix?: string | undefined;
}

/** Reads and writes of Storage's instance events; every statement is parameterised. */
export interface InstanceEventRepository {
  /** Stores a new event of the instance `instanceGuid`. */
  insertEvent(instanceGuid: string, event: InstanceEvent): Promise<void>;
  /** The events matching `filter`, oldest first (insertion order breaks ties on `created`). */
  listEvents(filter: InstanceEventFilter): Promise<InstanceEvent[]>;
  /** One event of the instance `instanceGuid`, or undefined (also when the event belongs to another instance). */
  findEvent(instanceGuid: string, eventGuid: string): Promise<InstanceEvent | undefined>;
}

/** Builds the repository on a database or an open transaction. */
export function instanceEventRepository(db: Queryable): InstanceEventRepository {
  return {
    async insertEvent(instanceGuid, event) {
      await db.query(
        `INSERT INTO instance_events (event_guid, instance_guid, event_type, event, created)
         VALUES ($1, $2, $3, $4::jsonb, $5)`,
        [event.id, instanceGuid, event.eventType, JSON.stringify(event), event.created],
      );
    },

    async findEvent(instanceGuid, eventGuid) {
      const [row] = await db.query<{ event: InstanceEvent }>(
        'SELECT event FROM instance_events WHERE event_guid = $1 AND instance_guid = $2',
        [eventGuid, instanceGuid],
      );
      return row?.event;
    },

    async listEvents(filter) {
      const params: unknown[] = [];
      const param = (value: unknown): string => {
        params.push(value);
        return `$${params.length}`;
      };
      const where = [`instance_guid = ${param(filter.instanceGuid)}`];
      if (filter.eventTypes && filter.eventTypes.length > 0) {
        where.push(`event_type = ANY(${param(filter.eventTypes)}::text[])`);
      }
      if (filter.from !== undefined) where.push(`created >= ${param(filter.from)}::timestamptz`);
      if (filter.to !== undefined) where.push(`created <= ${param(filter.to)}::timestamptz`);
      if (filter.typePrefix !== undefined) where.push(`starts_with(event_type, ${param(filter.typePrefix)})`);
      const rows = await db.query<{ event: InstanceEvent }>(
        `SELECT event FROM instance_events WHERE ${where.join(' AND ')} ORDER BY created, seq`,
        params,
      );
      return rows.map((row) => row.event);
    },
  };
}
