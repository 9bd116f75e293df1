import { createRoute, z } from '@hono/zod-openapi';
import { DataElement, DataElementList, DataElementParams } from './data-element-schemas.js';
import { InstanceParams } from './instance-schemas.js';
import { problemContent } from './problems.js';

// The OpenAPI routes of data elements; their handlers are in data-elements.ts.

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const problem = (description: string) => ({ description, content: problemContent });
const binary = { '*/*': { schema: z.string().openapi({ format: 'binary' }) } };
/** Path of one data element. */
const DataElementPath = '/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}';

/** `POST instances/{partyId}/{guid}/data?dataType=`: upload a raw body as a new data element. */
export const uploadRoute = createRoute({
  method: 'post',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/data',
  summary: 'Upload a data element of `dataType` as the raw body; the filename comes from Content-Disposition',
  request: { params: InstanceParams, query: z.strictObject({ dataType: z.string().min(1) }) },
  responses: {
    201: { description: 'Stored; `Location` names it', content: json(DataElement) },
    400: problem('Invalid path, data type or filename'),
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
  request: { params: DataElementParams },
  responses: {
    200: { description: 'The content', content: binary },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
  },
});

/** `PUT .../data/{dataGuid}`: replace a data element's content. */
export const replaceRoute = createRoute({
  method: 'put',
  path: DataElementPath,
  summary: "Replace a data element's content with the raw body",
  request: { params: DataElementParams },
  responses: {
    200: { description: 'The updated element', content: json(DataElement) },
    400: problem('Invalid path or filename'),
    404: problem('No such instance or data element'),
    409: problem('The element is locked'),
    413: problem('The body exceeds maxSize'),
    415: problem('The content type is not allowed by the data type'),
  },
});

/** `DELETE .../data/{dataGuid}`: delete a data element and its content. */
export const removeRoute = createRoute({
  method: 'delete',
  path: DataElementPath,
  summary: 'Delete a data element and its content',
  request: { params: DataElementParams },
  responses: {
    200: { description: 'The deleted element', content: json(DataElement) },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
    409: problem('The element is locked'),
  },
});

/** `PUT .../data/{dataGuid}/lock`: lock a data element. */
export const lockRoute = createRoute({
  method: 'put',
  path: `${DataElementPath}/lock`,
  summary: 'Lock a data element against change and deletion',
  request: { params: DataElementParams },
  responses: {
    200: { description: 'Already locked', content: json(DataElement) },
    201: { description: 'Locked now', content: json(DataElement) },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
  },
});

/** `DELETE .../data/{dataGuid}/lock`: unlock a data element. */
export const unlockRoute = createRoute({
  method: 'delete',
  path: `${DataElementPath}/lock`,
  summary: 'Unlock a data element',
  request: { params: DataElementParams },
  responses: {
    200: { description: 'The unlocked element', content: json(DataElement) },
    400: problem('Invalid path'),
    404: problem('No such instance or data element'),
  },
});
