import { createRoute, z } from '@hono/zod-openapi';
import { aspNetBoolean } from '../../../../platform/src/api/aspnet.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import { DataElement, DataElementList, DataElementParams, DataElementUpdate } from '../models/data-element-schemas.js';
import { InstanceParams } from '../models/instance-schemas.js';
import { problemContent } from '../shared/problems.js';

// The OpenAPI routes of data elements; their handlers are in data-elements.ts.

const problem = (description: string) => ({ description, content: problemContent });
const binary = { '*/*': { schema: z.string().openapi({ format: 'binary' }) } };
/** The strong ETag answered with an element's JSON and content alike. */
const etag = {
  ETag: { description: 'Strong ETag of the element; changes whenever it does', schema: { type: 'string' as const } },
};
/** The `If-Match` request header of the routes that change an element. */
const ifMatch = z.object({
  'if-match': z.string().optional().openapi({ description: 'Change only if the element still has this ETag (or `*`)' }),
});
const preconditionFailed = problem('If-Match names no current ETag of the element; nothing changed');
/** Path of one data element. */
const DataElementPath = '/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}';

/** `POST instances/{partyId}/{guid}/data?dataType=`: upload a raw body as a new data element. */
export const uploadRoute = createRoute({
  method: 'post',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/data',
  summary:
    'Upload a data element of `dataType`: the raw body (filename from Content-Disposition) or, for ' +
    'multipart/form-data, the first file part (its Content-Type and filename); streamed, never buffered whole',
  request: {
    params: InstanceParams,
    // As Altinn's: `refs` (repeated) and `generatedFromTask` are bound, any other parameter is ignored.
    query: z.looseObject({
      dataType: z.string().min(1),
      refs: z.union([z.guid(), z.array(z.guid())]).optional(),
      generatedFromTask: z.string().optional(),
    }),
  },
  responses: {
    201: { description: 'Stored; `Location` names it', headers: etag, content: json(DataElement) },
    400: problem('Invalid path, data type or filename, or a malformed multipart body'),
    404: problem('No such instance'),
    409: problem('The data type already has maxCount elements'),
    413: problem('The body exceeds maxSize'),
    415: problem('The content type is not allowed by the data type'),
  },
});

/** `GET instances/{partyId}/{guid}/dataelements`: the instance's data elements. */
export const listRoute = createRoute({
  method: 'get',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/dataelements',
  summary: "List an instance's data elements",
  request: { params: InstanceParams },
  responses: {
    200: { description: 'The elements', content: json(DataElementList) },
    400: problem('Invalid path'),
    404: problem('No such instance'),
  },
});

/** `GET .../data/{dataGuid}`: stream a data element's content. */
export const downloadRoute = createRoute({
  method: 'get',
  path: DataElementPath,
  summary: "Stream a data element's content",
  request: {
    params: DataElementParams,
    headers: z.object({
      'if-none-match': z.string().optional().openapi({ description: 'Answer 304 if the element has this ETag' }),
    }),
  },
  responses: {
    200: { description: 'The content', headers: etag, content: binary },
    304: { description: 'The element still has the ETag named by If-None-Match', headers: etag },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
  },
});

/** `PUT .../data/{dataGuid}`: replace a data element's content. */
export const replaceRoute = createRoute({
  method: 'put',
  path: DataElementPath,
  summary: "Replace a data element's content with the raw body or the first file part of a multipart/form-data body",
  request: { params: DataElementParams, headers: ifMatch },
  responses: {
    200: { description: 'The updated element', headers: etag, content: json(DataElement) },
    400: problem('Invalid path or filename, or a malformed multipart body'),
    404: problem('No such instance or data element'),
    409: problem('The element is locked'),
    412: preconditionFailed,
    413: problem('The body exceeds maxSize'),
    415: problem('The content type is not allowed by the data type'),
  },
});

/** `DELETE .../data/{dataGuid}`: delete a data element and its content. */
export const removeRoute = createRoute({
  method: 'delete',
  path: DataElementPath,
  summary:
    'Delete a data element and its content, or with `delay=True` mark it deleted (deleteStatus) for removal at the ' +
    'process end (only data types whose appLogic has autoDeleteOnProcessEnd)',
  request: {
    params: DataElementParams,
    headers: ifMatch,
    query: z.looseObject({ delay: aspNetBoolean.optional() }),
  },
  responses: {
    200: { description: 'The deleted element', content: json(DataElement) },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
    409: problem('The element is locked'),
    412: preconditionFailed,
  },
});

/** `PUT .../data/{dataGuid}/lock`: lock a data element. */
export const lockRoute = createRoute({
  method: 'put',
  path: `${DataElementPath}/lock`,
  summary: 'Lock a data element against change and deletion',
  request: { params: DataElementParams, headers: ifMatch },
  responses: {
    200: { description: 'Already locked', headers: etag, content: json(DataElement) },
    201: { description: 'Locked now', headers: etag, content: json(DataElement) },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
    412: preconditionFailed,
  },
});

/** `DELETE .../data/{dataGuid}/lock`: unlock a data element. */
export const unlockRoute = createRoute({
  method: 'delete',
  path: `${DataElementPath}/lock`,
  summary: 'Unlock a data element',
  request: { params: DataElementParams, headers: ifMatch },
  responses: {
    200: { description: 'The unlocked element', headers: etag, content: json(DataElement) },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
    412: preconditionFailed,
  },
});

/** `PUT instances/{partyId}/{guid}/dataelements/{dataGuid}`: update a data element's metadata (app-lib's DataClient.Update). */
export const updateMetadataRoute = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/dataelements/{dataGuid}',
  summary:
    "Update a data element's metadata: locked, refs, references, tags, userDefinedMetadata, metadata, deleteStatus, " +
    'lastChanged and lastChangedBy (the rest is kept)',
  request: { params: DataElementParams, body: { required: true, content: json(DataElementUpdate) } },
  responses: {
    200: { description: 'The updated element', headers: etag, content: json(DataElement) },
    400: problem('Invalid path or body; id or instanceGuid differ from the path; unknown data type'),
    404: problem('No such instance or data element'),
  },
});
