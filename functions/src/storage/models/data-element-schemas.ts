import { z } from '@hono/zod-openapi';
import { InstanceParams } from './instance-schemas.js';

/** Path parameters naming one data element of one instance. */
export const DataElementParams = InstanceParams.extend({
  dataGuid: z.guid('must be a GUID, e.g. 4c1c2b6e-2d6b-4f0e-9a58-2f3e1a6d2c10'),
});

/** The path parameters of one data element, validated. */
export type DataElementParams = z.infer<typeof DataElementParams>;

/** Altinn's KeyValueEntry. */
const KeyValueEntry = z.looseObject({ key: z.string().nullable(), value: z.string().nullable() });

/** Altinn's Reference, its enums spelt as Altinn serializes them. */
const Reference = z.looseObject({
  value: z.string().nullable().optional(),
  relation: z.enum(['GeneratedFrom']).nullable().optional(),
  valueType: z.enum(['DataElement', 'Task']).nullable().optional(),
});

/** Altinn's DeleteStatus: an element marked for deletion (`DELETE ...?delay=true`). */
const DeleteStatus = z.looseObject({ isHardDeleted: z.boolean(), hardDeleted: z.string().nullable().optional() });

/** Fields of a DataElement its owner may change through `PUT dataelements/{dataGuid}`, as Altinn's. */
const MetadataFields = {
  refs: z.array(z.string()).nullable().optional(),
  references: z.array(Reference).nullable().optional(),
  tags: z.array(z.string()).nullable().optional(),
  userDefinedMetadata: z.array(KeyValueEntry).nullable().optional(),
  metadata: z.array(KeyValueEntry).nullable().optional(),
  deleteStatus: DeleteStatus.nullable().optional(),
};

/** A DataElement as app-lib's `DataClient.Update` sends it: `id` and `instanceGuid` must match the path. */
export const DataElementUpdate = z
  .looseObject({
    id: z.string(),
    instanceGuid: z.string(),
    dataType: z.string().min(1),
    locked: z.boolean().optional(),
    ...MetadataFields,
    lastChanged: z.string().nullable().optional(),
    lastChangedBy: z.string().nullable().optional(),
  })
  .openapi('DataElementUpdate');

/** A data element's metadata as its owner sends it. */
export type DataElementUpdate = z.infer<typeof DataElementUpdate>;

/** A file or form data stored with an instance (Altinn Storage's DataElement). */
export const DataElement = z
  .looseObject({
    id: z.string(),
    instanceGuid: z.string(),
    dataType: z.string(),
    filename: z.string().nullable(),
    contentType: z.string(),
    blobStoragePath: z.string(),
    selfLinks: z.looseObject({ apps: z.string().optional(), platform: z.string() }),
    size: z.number().int(),
    contentHash: z.string(),
    locked: z.boolean(),
    refs: z.array(z.string()),
    isRead: z.boolean(),
    tags: z.array(z.string()),
    references: MetadataFields.references,
    userDefinedMetadata: MetadataFields.userDefinedMetadata,
    metadata: MetadataFields.metadata,
    deleteStatus: MetadataFields.deleteStatus,
    /** As Altinn serializes its FileScanResult enum; `NotApplicable` here, where no scanner runs. */
    fileScanResult: z.enum(['NotApplicable', 'Pending', 'Clean', 'Infected']).optional(),
    created: z.string(),
    createdBy: z.string().nullable(),
    lastChanged: z.string(),
    lastChangedBy: z.string().nullable(),
  })
  .openapi('DataElement');

/** A data element as stored and answered. */
export type DataElement = z.infer<typeof DataElement>;

/** The answer of `GET instances/{partyId}/{guid}/dataelements`. */
export const DataElementList = z.object({ dataElements: z.array(DataElement) }).openapi('DataElementList');
