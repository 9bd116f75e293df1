import type { Queryable } from '../../../../platform/src/db/index.js';
import type { DataElement } from '../models/data-element-schemas.js';

/** Reads and writes of Storage's data elements; every statement is parameterised. */
export interface DataElementRepository {
  /** The element `dataGuid` of the instance, or undefined. */
  findDataElement(instanceGuid: string, dataGuid: string): Promise<DataElement | undefined>;
  /** The instance's elements, oldest first. */
  listDataElements(instanceGuid: string): Promise<DataElement[]>;
  /** How many elements of `dataType` the instance holds. */
  countDataElements(instanceGuid: string, dataType: string): Promise<number>;
  /** Stores a new element. */
  insertDataElement(element: DataElement): Promise<void>;
  /** Replaces a stored element. */
  updateDataElement(element: DataElement): Promise<void>;
  /** Removes an element; true when it existed. */
  deleteDataElement(instanceGuid: string, dataGuid: string): Promise<boolean>;
}

type ElementRow = { element: DataElement };

/** Builds the repository on a database or an open transaction. */
export function dataElementRepository(db: Queryable): DataElementRepository {
  return {
    async findDataElement(instanceGuid, dataGuid) {
      const [row] = await db.query<ElementRow>(
        'SELECT element FROM data_elements WHERE data_guid = $1 AND instance_guid = $2',
        [dataGuid, instanceGuid],
      );
      return row?.element;
    },

    async listDataElements(instanceGuid) {
      const rows = await db.query<ElementRow>(
        'SELECT element FROM data_elements WHERE instance_guid = $1 ORDER BY created, data_guid',
        [instanceGuid],
      );
      return rows.map((row) => row.element);
    },

    async countDataElements(instanceGuid, dataType) {
      const [row] = await db.query<{ count: string }>(
        'SELECT count(*) AS count FROM data_elements WHERE instance_guid = $1 AND data_type = $2',
        [instanceGuid, dataType],
      );
      return Number(row?.count ?? 0);
    },

    async insertDataElement(element) {
      await db.query(
        `INSERT INTO data_elements (data_guid, instance_guid, data_type, element, created, last_changed)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6)`,
        [
          element.id,
          element.instanceGuid,
          element.dataType,
          JSON.stringify(element),
          element.created,
          element.lastChanged,
        ],
      );
    },

    async updateDataElement(element) {
      await db.query(
        'UPDATE data_elements SET element = $3::jsonb, last_changed = $4 WHERE data_guid = $1 AND instance_guid = $2',
        [element.id, element.instanceGuid, JSON.stringify(element), element.lastChanged],
      );
    },

    async deleteDataElement(instanceGuid, dataGuid) {
      const rows = await db.query(
        'DELETE FROM data_elements WHERE data_guid = $1 AND instance_guid = $2 RETURNING data_guid',
        [dataGuid, instanceGuid],
      );
      return rows.length === 1;
    },
  };
}
