import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { aspNetBoolean, aspNetEnum } from '../../../../platform/src/api/aspnet.js';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { principalOf } from '../../../../platform/src/auth/index.js';
import type { Database, Transaction } from '../../../../platform/src/db/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import { newInstanceEvent, processChangeEvents } from '../events/instance-events.js';
import { recordStorageEvent } from '../events/storage-events.js';
import { Instance, InstanceInput, InstanceParams, ProcessState } from '../models/instance-schemas.js';
import { instanceEventRepository } from '../repositories/instance-event-repository.js';
import { instanceGuidOf, instanceRepository, withConfirmation } from '../repositories/instance-repository.js';
import { storageRepository } from '../repositories/repository.js';
import { callerIdOf, type StorageAccess } from '../shared/access.js';
import {
  applicationNotFound,
  instanceChanged,
  instanceNotFound,
  mismatchedField,
  problemContent,
} from '../shared/problems.js';
import { AppId } from '../shared/schemas.js';
import { IfMatchHeaders, IfNoneMatchHeaders, ifMatchHolds, ifNoneMatchFails, instanceEtag } from './instance-etag.js';
import type { InstanceLinks } from './instance-links.js';

/** What the instance routes need. */
export interface InstanceRoutesOptions {
  db: Database;
  /** Public prefix the API is mounted under, for `Location` headers and `selfLinks`. */
  prefix: string;
  /** The clock stamping `created`, `lastChanged` and deletions. */
  now: () => Date;
  /** Who may create instances. */
  access: StorageAccess;
  /** The absolute `selfLinks` of answered instances. */
  links: InstanceLinks;
}

const invalid = { description: 'Invalid path, query or body; `errors` names each field', content: problemContent };
const missing = { description: 'No such instance (or it is hard deleted)', content: problemContent };
const etagHeader = { ETag: { description: "The instance's strong ETag", schema: { type: 'string' as const } } };
/** The 200 answer of a write: the instance as it now is, with its new ETag. */
const instanceAnswer = (description: string) => ({ description, headers: etagHeader, content: json(Instance) });
const changed = { description: 'If-Match names none of the current ETags; nothing changed', content: problemContent };

const create = createRoute({
  method: 'post',
  path: '/instances',
  summary: 'Create an instance of the app `appId={org}/{app}` from an Instance template',
  request: { query: z.strictObject({ appId: AppId }), body: { required: true, content: json(InstanceInput) } },
  responses: {
    201: { description: 'Created; `Location` names it', headers: etagHeader, content: json(Instance) },
    400: invalid,
    404: { description: 'No such application', content: problemContent },
  },
});

const read = createRoute({
  method: 'get',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}',
  summary: 'Read an instance',
  request: { params: InstanceParams, headers: IfNoneMatchHeaders },
  responses: {
    200: instanceAnswer('The instance'),
    304: { description: 'If-None-Match names the current ETag', headers: etagHeader },
    400: invalid,
    404: missing,
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}',
  summary: 'Soft delete an instance, or hard delete it with `hard=true` (the row stays, marked, and is hidden)',
  request: {
    params: InstanceParams,
    // A .NET bool as app-lib formats it (`hard=True`), any casing.
    query: z.strictObject({ hard: aspNetBoolean.optional() }),
    headers: IfMatchHeaders,
  },
  responses: { 200: instanceAnswer('The deleted instance'), 400: invalid, 404: missing, 412: changed },
});

const updateProcess = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/process',
  summary: "Replace an instance's process state",
  request: { params: InstanceParams, headers: IfMatchHeaders, body: { required: true, content: json(ProcessState) } },
  responses: { 200: instanceAnswer('The updated instance'), 400: invalid, 404: missing, 412: changed },
});

const updateReadStatus = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/readstatus',
  summary: "Set an instance's read status",
  request: {
    params: InstanceParams,
    query: z.strictObject({ status: aspNetEnum(['Read', 'Unread', 'UpdatedSinceLastReview']) }),
    headers: IfMatchHeaders,
  },
  responses: { 200: instanceAnswer('The updated instance'), 400: invalid, 404: missing, 412: changed },
});

const updateSubstatus = createRoute({
  method: 'put',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/substatus',
  summary: "Set an instance's substatus (Altinn's Substatus: a label and an optional description)",
  request: {
    params: InstanceParams,
    headers: IfMatchHeaders,
    body: {
      required: true,
      content: json(
        z
          .strictObject({ label: z.string().min(1), description: z.string().nullable().optional() })
          .openapi('Substatus'),
      ),
    },
  },
  responses: { 200: instanceAnswer('The updated instance'), 400: invalid, 404: missing, 412: changed },
});

const complete = createRoute({
  method: 'post',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/complete',
  summary: "The app's owner confirms it has received the instance (adds its complete confirmation; org only)",
  request: { params: InstanceParams, headers: IfMatchHeaders },
  responses: { 200: instanceAnswer('The confirmed instance'), 400: invalid, 404: missing, 412: changed },
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
    completeConfirmations: _confirmations,
    created: _c,
    createdBy: _cb,
    lastChanged: _l,
    lastChangedBy: _lb,
    ...fields
  } = input;
  return fields;
}

/**
 * Runs `fn` on the locked instance in a transaction and stores what it answers; `after` then runs in the same
 * transaction (e.g. to record events of the change). With `ifMatch` (the If-Match header) nothing is written and
 * a 412 is thrown unless it names the locked row's ETag, so no other write can come between check and write.
 * Answers the instance as stored and its ETag. (Made over the database and clock.)
 */
function instanceChanger(db: Database, now: () => Date) {
  return (
    partyId: string,
    instanceGuid: string,
    ifMatch: string | undefined,
    fn: (instance: Instance, stamp: string) => Instance,
    after?: (tx: Transaction, existing: Instance, updated: Instance, stamp: string) => Promise<void>,
  ) =>
    db.transaction(async (tx) => {
      const repository = instanceRepository(tx);
      const found = await repository.lockVersionedInstance(partyId, instanceGuid.toLowerCase());
      if (!found) throw instanceNotFound(partyId, instanceGuid);
      if (ifMatch !== undefined && !ifMatchHolds(ifMatch, instanceEtag(found.version))) {
        throw instanceChanged(partyId, instanceGuid);
      }
      const { instance: existing } = found;
      const stamp = now().toISOString();
      const updated = fn(existing, stamp);
      let version = found.version;
      if (updated !== existing) {
        const written = await repository.updateInstance(updated, found.version);
        if (written === undefined) throw instanceChanged(partyId, instanceGuid);
        version = written;
      }
      if (after) await after(tx, existing, updated, stamp);
      return { instance: updated, etag: instanceEtag(version) };
    });
}

/** Changes one instance under its row lock, as `instanceChanger` makes it. */
type InstanceChanger = ReturnType<typeof instanceChanger>;

/** Adds the instance routes (create, read, delete, process update) to the Storage app. */
export function addInstanceRoutes(api: PlatformApp, options: InstanceRoutesOptions): void {
  const change = instanceChanger(options.db, options.now);
  addInstanceLifecycleRoutes(api, options, change);
  addInstanceUpdateRoutes(api, options, change);
}

/** Instance routes: create, read, delete. */
function addInstanceLifecycleRoutes(api: PlatformApp, options: InstanceRoutesOptions, change: InstanceChanger): void {
  const { db, now, access, links } = options;
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
      selfLinks: { platform: links.instanceUrl(id) },
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
    const version = await db.transaction(async (tx) => {
      if (!(await storageRepository(tx).holdApplication(org, app))) throw applicationNotFound(org, app);
      const inserted = await instanceRepository(tx).insertInstance(instance);
      await recordStorageEvent(tx, instance, 'Created', principalOf(c), stamp);
      return inserted;
    });
    return c.json(links.instance(instance), 201, { Location: links.instanceUrl(id), ETag: instanceEtag(version) });
  });

  api.openapi(read, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const found = await instanceRepository(db).findVersionedInstance(instanceOwnerPartyId, instanceGuid.toLowerCase());
    if (!found) throw instanceNotFound(instanceOwnerPartyId, instanceGuid);
    const etag = instanceEtag(found.version);
    const ifNoneMatch = c.req.valid('header')['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatchFails(ifNoneMatch, etag)) return c.body(null, 304, { ETag: etag });
    return c.json(links.instance(found.instance), 200, { ETag: etag });
  });

  api.openapi(remove, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const hard = c.req.valid('query').hard === true;
    const ifMatch = c.req.valid('header')['if-match'];
    const deleted = await change(
      instanceOwnerPartyId,
      instanceGuid,
      ifMatch,
      (instance, stamp) => {
        if (instance.status.isSoftDeleted && !hard) return instance;
        const status = {
          ...instance.status,
          isSoftDeleted: true,
          softDeleted: instance.status.isSoftDeleted ? (instance.status.softDeleted ?? stamp) : stamp,
          ...(hard ? { isHardDeleted: true, hardDeleted: stamp } : {}),
        };
        return { ...instance, status, lastChanged: stamp, lastChangedBy: callerIdOf(principalOf(c)) };
      },
      async (tx, existing, updated, stamp) => {
        if (updated !== existing) await recordStorageEvent(tx, updated, 'Deleted', principalOf(c), stamp);
      },
    );
    return c.json(links.instance(deleted.instance), 200, { ETag: deleted.etag });
  });
}

/** Instance routes that change one: process, read status, substatus, complete confirmation. */
function addInstanceUpdateRoutes(api: PlatformApp, options: InstanceRoutesOptions, change: InstanceChanger): void {
  const { links } = options;
  api.openapi(updateProcess, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const process = c.req.valid('json');
    const updated = await change(
      instanceOwnerPartyId,
      instanceGuid,
      c.req.valid('header')['if-match'],
      (instance, stamp) => ({
        ...instance,
        process,
        // As Altinn's: a process reaching its end archives the instance, stamped with the end.
        status:
          process.ended && !instance.status.isArchived
            ? { ...instance.status, isArchived: true, archived: process.ended }
            : instance.status,
        lastChanged: stamp,
        lastChangedBy: callerIdOf(principalOf(c)),
      }),
      async (tx, existing, _updated, stamp) => {
        // The process history is derived from these events (see processChangeEvents).
        const events = instanceEventRepository(tx);
        for (const step of processChangeEvents(existing.process, process, stamp)) {
          await events.insertEvent(instanceGuidOf(existing), newInstanceEvent(existing.id, step, stamp));
        }
      },
    );
    return c.json(links.instance(updated.instance), 200, { ETag: updated.etag });
  });

  api.openapi(updateReadStatus, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const readStatus = c.req.valid('query').status;
    const ifMatch = c.req.valid('header')['if-match'];
    const updated = await change(instanceOwnerPartyId, instanceGuid, ifMatch, (instance, stamp) => ({
      ...instance,
      status: { ...instance.status, readStatus },
      lastChanged: stamp,
      lastChangedBy: callerIdOf(principalOf(c)),
    }));
    return c.json(links.instance(updated.instance), 200, { ETag: updated.etag });
  });

  api.openapi(updateSubstatus, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const { label, description } = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const updated = await change(
      instanceOwnerPartyId,
      instanceGuid,
      ifMatch,
      (instance, stamp) => ({
        ...instance,
        status: { ...instance.status, substatus: { label, description: description ?? null } },
        lastChanged: stamp,
        lastChangedBy: callerIdOf(principalOf(c)),
      }),
      (tx, _existing, updated, stamp) => recordStorageEvent(tx, updated, 'SubstatusUpdated', principalOf(c), stamp),
    );
    return c.json(links.instance(updated.instance), 200, { ETag: updated.etag });
  });

  api.openapi(complete, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const principal = principalOf(c);
    // The access rules let only the instance's own org through (an end user gets 403).
    const stakeholderId = principal.kind === 'org' ? principal.org : callerIdOf(principal);
    const ifMatch = c.req.valid('header')['if-match'];
    const updated = await change(
      instanceOwnerPartyId,
      instanceGuid,
      ifMatch,
      (instance, stamp) => withConfirmation(instance, stakeholderId, stamp, callerIdOf(principal)),
      async (tx, existing, confirmed, stamp) => {
        if (confirmed !== existing) await recordStorageEvent(tx, confirmed, 'ConfirmedComplete', principal, stamp);
      },
    );
    return c.json(links.instance(updated.instance), 200, { ETag: updated.etag });
  });
}
