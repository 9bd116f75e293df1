import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../platform/api/index.js';
import { principalOf } from '../platform/auth/index.js';
import type { Database, Transaction } from '../platform/db/index.js';
import { callerIdOf, type StorageAccess } from './access.js';
import { instanceEventRepository } from './instance-event-repository.js';
import { newInstanceEvent, processChangeEvents } from './instance-events.js';
import { instanceGuidOf, instanceRepository } from './instance-repository.js';
import { Instance, InstanceInput, InstanceParams, ProcessState } from './instance-schemas.js';
import { applicationNotFound, instanceNotFound, mismatchedField, problemContent } from './problems.js';
import { storageRepository } from './repository.js';
import { AppId } from './schemas.js';

/** What the instance routes need. */
export interface InstanceRoutesOptions {
  db: Database;
  /** Public prefix the API is mounted under, for `Location` headers and `selfLinks`. */
  prefix: string;
  /** The clock stamping `created`, `lastChanged` and deletions. */
  now: () => Date;
  /** Who may create instances. */
  access: StorageAccess;
}

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const invalid = { description: 'Invalid path, query or body; `errors` names each field', content: problemContent };
const missing = { description: 'No such instance (or it is hard deleted)', content: problemContent };

const create = createRoute({
  method: 'post',
  path: '/instances',
  summary: 'Create an instance of the app `appId={org}/{app}` from an Instance template',
  request: { query: z.strictObject({ appId: AppId }), body: { required: true, content: json(InstanceInput) } },
  responses: {
    201: { description: 'Created; `Location` names it', content: json(Instance) },
    400: invalid,
    404: { description: 'No such application', content: problemContent },
  },
});

const read = createRoute({
  method: 'get',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}',
  summary: 'Read an instance',
  request: { params: InstanceParams },
  responses: { 200: { description: 'The instance', content: json(Instance) }, 400: invalid, 404: missing },
});

const remove = createRoute({
  method: 'delete',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}',
  summary: 'Soft delete an instance, or hard delete it with `hard=true` (the row stays, marked, and is hidden)',
  request: { params: InstanceParams, query: z.strictObject({ hard: z.enum(['true', 'false']).optional() }) },
  responses: { 200: { description: 'The deleted instance', content: json(Instance) }, 400: invalid, 404: missing },
});

const updateProcess = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/process',
  summary: "Replace an instance's process state",
  request: { params: InstanceParams, body: { required: true, content: json(ProcessState) } },
  responses: { 200: { description: 'The updated instance', content: json(Instance) }, 400: invalid, 404: missing },
});

const updateReadStatus = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/readstatus',
  summary: "Set an instance's read status",
  request: {
    params: InstanceParams,
    query: z.strictObject({ status: z.enum(['Read', 'Unread', 'UpdatedSinceLastReview']) }),
  },
  responses: { 200: { description: 'The updated instance', content: json(Instance) }, 400: invalid, 404: missing },
});

const updateSubstatus = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/substatus',
  summary: "Set an instance's substatus (Altinn's Substatus: a label and an optional description)",
  request: {
    params: InstanceParams,
    body: {
      required: true,
      content: json(
        z
          .strictObject({ label: z.string().min(1), description: z.string().nullable().optional() })
          .openapi('Substatus'),
      ),
    },
  },
  responses: { 200: { description: 'The updated instance', content: json(Instance) }, 400: invalid, 404: missing },
});

/** The fields of a template the server does not set itself, kept as sent. */
function callerFields(input: InstanceInput) {
  const {
    id: _id,
    appId: _appId,
    org: _org,
    selfLinks: _links,
    data: _data,
    status: _status,
    created: _c,
    createdBy: _cb,
    lastChanged: _l,
    lastChangedBy: _lb,
    ...fields
  } = input;
  return fields;
}

/** Adds the instance routes (create, read, delete, process update) to the Storage app. */
export function addInstanceRoutes(api: PlatformApp, options: InstanceRoutesOptions): void {
  const { db, prefix, now, access } = options;

  /**
   * Runs `fn` on the locked instance in a transaction and stores what it answers; `after` then runs in the same
   * transaction (e.g. to record events of the change).
   */
  const change = (
    partyId: string,
    instanceGuid: string,
    fn: (instance: Instance, stamp: string) => Instance,
    after?: (tx: Transaction, existing: Instance, updated: Instance, stamp: string) => Promise<void>,
  ) =>
    db.transaction(async (tx) => {
      const repository = instanceRepository(tx);
      const existing = await repository.lockInstance(partyId, instanceGuid.toLowerCase());
      if (!existing) throw instanceNotFound(partyId, instanceGuid);
      const stamp = now().toISOString();
      const updated = fn(existing, stamp);
      if (updated !== existing) await repository.updateInstance(updated);
      if (after) await after(tx, existing, updated, stamp);
      return updated;
    });

  api.openapi(create, async (c) => {
    const appId = c.req.valid('query').appId;
    const [org = '', app = ''] = appId.split('/');
    const input = c.req.valid('json');
    if (input.appId !== undefined && input.appId !== appId) {
      throw mismatchedField('appId', `must be ${appId} to match the query`);
    }
    if (input.org !== undefined && input.org !== org) throw mismatchedField('org', `must be ${org} to match appId`);
    const partyId = input.instanceOwner.partyId;
    await access.checkCreate(c, { org, app }, Number(partyId));
    const createdBy = callerIdOf(principalOf(c));
    const id = `${partyId}/${randomUUID()}`;
    const stamp = now().toISOString();
    const instance: Instance = {
      ...callerFields(input),
      id,
      instanceOwner: input.instanceOwner,
      appId,
      org,
      selfLinks: { platform: `${prefix}/instances/${id}` },
      process: input.process ?? null,
      status: {
        isArchived: false,
        isSoftDeleted: false,
        isHardDeleted: false,
        readStatus: 'Unread',
        ...(input.status?.substatus ? { substatus: input.status.substatus } : {}),
      },
      data: [],
      created: stamp,
      createdBy,
      lastChanged: stamp,
      lastChangedBy: createdBy,
    };
    await db.transaction(async (tx) => {
      if (!(await storageRepository(tx).holdApplication(org, app))) throw applicationNotFound(org, app);
      await instanceRepository(tx).insertInstance(instance);
    });
    return c.json(instance, 201, { Location: instance.selfLinks.platform });
  });

  api.openapi(read, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const instance = await instanceRepository(db).findInstance(instanceOwnerPartyId, instanceGuid.toLowerCase());
    if (!instance) throw instanceNotFound(instanceOwnerPartyId, instanceGuid);
    return c.json(instance, 200);
  });

  api.openapi(remove, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const hard = c.req.valid('query').hard === 'true';
    const deleted = await change(instanceOwnerPartyId, instanceGuid, (instance, stamp) => {
      if (instance.status.isSoftDeleted && !hard) return instance;
      const status = {
        ...instance.status,
        isSoftDeleted: true,
        softDeleted: instance.status.isSoftDeleted ? (instance.status.softDeleted ?? stamp) : stamp,
        ...(hard ? { isHardDeleted: true, hardDeleted: stamp } : {}),
      };
      return { ...instance, status, lastChanged: stamp, lastChangedBy: null };
    });
    return c.json(deleted, 200);
  });

  api.openapi(updateProcess, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const process = c.req.valid('json');
    const updated = await change(
      instanceOwnerPartyId,
      instanceGuid,
      (instance, stamp) => ({ ...instance, process, lastChanged: stamp, lastChangedBy: null }),
      async (tx, existing, _updated, stamp) => {
        // The process history is derived from these events (see processChangeEvents).
        const events = instanceEventRepository(tx);
        for (const step of processChangeEvents(existing.process, process, stamp)) {
          await events.insertEvent(instanceGuidOf(existing), newInstanceEvent(existing.id, step, stamp));
        }
      },
    );
    return c.json(updated, 200);
  });

  api.openapi(updateReadStatus, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const readStatus = c.req.valid('query').status;
    const updated = await change(instanceOwnerPartyId, instanceGuid, (instance, stamp) => ({
      ...instance,
      status: { ...instance.status, readStatus },
      lastChanged: stamp,
      lastChangedBy: null,
    }));
    return c.json(updated, 200);
  });

  api.openapi(updateSubstatus, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const { label, description } = c.req.valid('json');
    const updated = await change(instanceOwnerPartyId, instanceGuid, (instance, stamp) => ({
      ...instance,
      status: { ...instance.status, substatus: { label, description: description ?? null } },
      lastChanged: stamp,
      lastChangedBy: null,
    }));
    return c.json(updated, 200);
  });
}
