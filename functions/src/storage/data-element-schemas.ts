import { z } from '@hono/zod-openapi';
import { InstanceParams } from './instance-schemas.js';

/** Path parameters naming one data element of one instance. */
export const DataElementParams = InstanceParams.extend({
  dataGuid: z.guid('must be a GUID, e.g. 4c1c2b6e-2d6b-4f0e-9a58-2f3e1a6d2c10'),
});

/** The path parameters of one data element, validated. */
export type DataElementParams = z.infer<typeof DataElementParams>;

/** A file or form data stored with an instance (Altinn Storage's DataElement). */
export const DataElement = z
  .looseObject({
    id: z.string(),
    instanceGuid: z.string(),
    dataType: z.string(),
    filename: z.string().nullable(),
    contentType: z.string(),
    blobStoragePath: z.string(),
    selfLinks: z.looseObject({ platform: z.string() }),
    size: z.number().int(),
    contentHash: z.string(),
    locked: z.boolean(),
    refs: z.array(z.string()),
    isRead: z.boolean(),
    tags: z.array(z.string()),
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
