import { randomUUID } from 'node:crypto';
import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { type Principal, principalOf } from '../../../../platform/src/auth/index.js';
import type { BlobStore } from '../../../../platform/src/blob/index.js';
import type { Database, Transaction } from '../../../../platform/src/db/index.js';
import { Problem } from '../../../../platform/src/errors/index.js';
import type { Logger } from '../../../../platform/src/logging/index.js';
import type { PlatformEnv } from '../../../../platform/src/request-context/index.js';
import { recordStorageEvent } from '../events/storage-events.js';
import type { InstanceLinks } from '../instances/instance-links.js';
import type { DataElement, DataElementParams, DataElementUpdate } from '../models/data-element-schemas.js';
import type { Instance } from '../models/instance-schemas.js';
import { dataElementRepository } from '../repositories/data-element-repository.js';
import { instanceGuidOf, instanceRepository } from '../repositories/instance-repository.js';
import { storageRepository } from '../repositories/repository.js';
import { callerIdOf } from '../shared/access.js';
import { invalidField } from '../shared/problems.js';
import { contentDisposition } from './data-element-disposition.js';
import { checkIfMatch, etagOf, isNotModified } from './data-element-etag.js';
import {
  downloadRoute,
  listRoute,
  lockRoute,
  removeRoute,
  replaceRoute,
  unlockRoute,
  updateMetadataRoute,
  uploadRoute,
} from './data-element-routes.js';
import {
  checkContentType,
  checkDeclaredLength,
  maxBytes,
  meterBody,
  readUpload,
  tooLarge,
  type UploadContent,
  type UploadRules,
} from './data-element-upload.js';

/** What the data element routes need. */
export interface DataElementRoutesOptions {
  db: Database;
  /** Where element content is kept. */
  blob: BlobStore;
  /** The one container holding every element, each at `{org}/{app}/{instanceGuid}/data/{dataGuid}`. */
  container: string;
  /** Public prefix the API is mounted under, for `Location` headers and `selfLinks`. */
  prefix: string;
  /** The clock stamping `created` and `lastChanged`. */
  now: () => Date;
  /** Where blobs that could not be removed (orphans left for a sweep) are reported. */
  logger: Logger;
  /** The absolute `selfLinks` of answered elements. */
  links: InstanceLinks;
}

/** Whether the caller is the org owning the instance (Altinn's `appOwnerRequestingElement`). */
const isAppOwner = (principal: Principal, instance: Instance) =>
  principal.kind === 'org' && principal.org === instance.org;

/** An element marked deleted with `delay=True`: gone for everyone but the app's owner. */
const isMarkedDeleted = (element: DataElement) => element.deleteStatus?.isHardDeleted === true;

function emptyUpload(): Problem {
  return new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: 'Empty stream provided. Cannot persist data.',
    errors: [{ field: 'body', detail: 'is empty' }],
  });
}

function instanceNotFound(partyId: string, instanceGuid: string): Problem {
  return new Problem(404, { kind: 'not-found', detail: `Instance ${partyId}/${instanceGuid} does not exist.` });
}

function elementNotFound(dataGuid: string): Problem {
  return new Problem(404, { kind: 'not-found', detail: `Data element ${dataGuid} does not exist.` });
}

function locked(dataGuid: string): Problem {
  return new Problem(409, { kind: 'locked', title: 'Conflict', detail: `Data element ${dataGuid} is locked.` });
}

function tooMany(dataType: string, maxCount: number): Problem {
  return new Problem(409, {
    kind: 'max-count',
    title: 'Conflict',
    detail: `Data type ${dataType} allows at most ${maxCount} elements per instance.`,
  });
}

/** The instance with `element` put in (or replacing its old copy in) `data`, and `lastChanged` moved to `stamp`. */
function withElement(instance: Instance, element: DataElement, stamp: string, by: string | null): Instance {
  const known = instance.data.some((item) => item.id === element.id);
  const data = known
    ? instance.data.map((item) => (item.id === element.id ? element : item))
    : [...instance.data, element];
  return { ...instance, data, lastChanged: stamp, lastChangedBy: by };
}

/** What the data element routes share: the instance and element lookups, the blob store and its clean-up. */
class DataElementWork {
  readonly db: Database;
  readonly blob: BlobStore;
  readonly container: string;
  readonly now: () => Date;
  readonly links: InstanceLinks;
  private readonly logger: Logger;
  private containerReady: Promise<void> | undefined;

  constructor(options: DataElementRoutesOptions) {
    this.db = options.db;
    this.blob = options.blob;
    this.container = options.container;
    this.now = options.now;
    this.links = options.links;
    this.logger = options.logger;
  }

  /** The element as answered: with absolute selfLinks under its instance. */
  answered(instance: Instance, element: DataElement) {
    return this.links.element(instance.id, instance.appId, element);
  }

  /** Deletes a blob no row points at; a failure is logged and leaves an orphan for a later sweep. */
  async discard(name: string) {
    try {
      await this.blob.delete(this.container, name);
    } catch (error) {
      this.logger.warn('orphan data element blob left behind', {
        container: this.container,
        name,
        error: String(error),
      });
    }
  }

  /** Makes the container once (again after a failure). */
  ensureContainer() {
    this.containerReady ??= this.blob.ensureContainer(this.container).catch((error: unknown) => {
      this.containerReady = undefined;
      throw error;
    });
    return this.containerReady;
  }

  /** The instance (not hard deleted) and the upload rules of `dataType` in its app's metadata. */
  async rulesFor(instance: Instance, dataType: string) {
    const [org = '', app = ''] = instance.appId.split('/');
    const application = await storageRepository(this.db).findApplication(org, app);
    const type = application?.dataTypes?.find((candidate) => candidate.id === dataType);
    if (!type) throw invalidField('dataType', `${dataType} is not a data type of ${instance.appId}`);
    const rules: UploadRules = { dataType, allowedContentTypes: type.allowedContentTypes, maxSize: type.maxSize };
    return { rules, maxCount: type.maxCount };
  }

  /** The instance; 404 when there is none. */
  async findInstance(partyId: string, instanceGuid: string) {
    const instance = await instanceRepository(this.db).findInstance(partyId, instanceGuid.toLowerCase());
    if (!instance) throw instanceNotFound(partyId, instanceGuid);
    return instance;
  }

  /** Runs `fn` in a transaction holding the instance's row lock; 404 when the instance is gone. */
  onLockedInstance<T>(partyId: string, instanceGuid: string, fn: (tx: Transaction, instance: Instance) => Promise<T>) {
    return this.db.transaction(async (tx) => {
      const instance = await instanceRepository(tx).lockInstance(partyId, instanceGuid.toLowerCase());
      if (!instance) throw instanceNotFound(partyId, instanceGuid);
      return fn(tx, instance);
    });
  }

  /** Streams `content` to `name`, checking the rules first and while streaming; answers size and hash. */
  async store(c: Context<PlatformEnv>, rules: UploadRules, name: string, content: UploadContent) {
    const { contentType } = content;
    try {
      checkContentType(rules, contentType);
      checkDeclaredLength(rules, content.declaredLength);
      await this.ensureContainer();
    } catch (error) {
      content.body.destroy();
      throw error;
    }
    const body = meterBody(content.body, maxBytes(rules));
    try {
      await this.blob.upload(this.container, name, body.stream, { contentType, signal: c.req.raw.signal });
    } catch (error) {
      content.body.destroy(); // stop reading the request when the store failed first
      await this.discard(name);
      if (body.tooLarge()) throw tooLarge(rules);
      throw content.failure() ?? error;
    }
    return { size: body.size(), contentHash: body.contentHash() };
  }

  /** Runs `write` after the blob `name` was stored; removes the blob again when `write` fails. */
  async commitOrDiscard<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      await this.discard(name);
      throw error;
    }
  }

  /** Marks the element read (an end user read its content); a concurrent removal leaves nothing to mark. */
  markRead(partyId: string, instanceGuid: string, dataGuid: string) {
    return this.db.transaction(async (tx) => {
      const instance = await instanceRepository(tx).lockInstance(partyId, instanceGuid.toLowerCase());
      if (!instance) return;
      const elements = dataElementRepository(tx);
      const element = await elements.findDataElement(instanceGuidOf(instance), dataGuid);
      if (!element || element.isRead) return;
      const read = { ...element, isRead: true };
      await elements.updateDataElement(read);
      await instanceRepository(tx).updateInstance(
        withElement(instance, read, instance.lastChanged, instance.lastChangedBy ?? null),
      );
    });
  }

  /** Sets the element's `locked` flag if `ifMatch` allows; answers the element and whether it changed. */
  setLocked(c: Context<PlatformEnv>, params: DataElementParams, value: boolean) {
    const { instanceOwnerPartyId: partyId, instanceGuid, dataGuid } = params;
    return this.onLockedInstance(partyId, instanceGuid, async (tx, instance) => {
      const elements = dataElementRepository(tx);
      const element = await elements.findDataElement(instanceGuidOf(instance), dataGuid.toLowerCase());
      if (!element) throw elementNotFound(dataGuid);
      checkIfMatch(c.req.header('if-match'), element);
      if (element.locked === value) return { element: this.answered(instance, element), changed: false };
      const updated = { ...element, locked: value };
      await elements.updateDataElement(updated);
      await instanceRepository(tx).updateInstance(
        withElement(instance, updated, instance.lastChanged, instance.lastChangedBy ?? null),
      );
      return { element: this.answered(instance, updated), changed: true };
    });
  }
}

/** Stores an upload as a new data element (201, `Location`). */
const uploadHandler =
  (w: DataElementWork): RouteHandler<typeof uploadRoute, PlatformEnv> =>
  async (c) => {
    const caller = callerIdOf(principalOf(c));
    const { instanceOwnerPartyId: partyId, instanceGuid } = c.req.valid('param');
    const query = c.req.valid('query');
    const { dataType, generatedFromTask } = query;
    const refs = query.refs === undefined ? [] : [query.refs].flat().map((ref) => ref.toLowerCase());
    const principal = principalOf(c);
    const instance = await w.findInstance(partyId, instanceGuid);
    const { rules, maxCount } = await w.rulesFor(instance, dataType);
    const guid = instanceGuidOf(instance);
    if (maxCount > 0 && (await dataElementRepository(w.db).countDataElements(guid, dataType)) >= maxCount) {
      throw tooMany(dataType, maxCount);
    }
    const content = await readUpload(c.req.raw, rules);
    const { filename, contentType } = content;
    const id = randomUUID();
    const blobStoragePath = `${instance.appId}/${guid}/data/${id}`;
    const stored = await w.store(c, rules, blobStoragePath, content);
    if (stored.size === 0) {
      await w.discard(blobStoragePath);
      throw emptyUpload();
    }
    const element = await w.commitOrDiscard(blobStoragePath, () =>
      w.onLockedInstance(partyId, instanceGuid, async (tx, current) => {
        const elements = dataElementRepository(tx);
        if (maxCount > 0 && (await elements.countDataElements(guid, dataType)) >= maxCount) {
          throw tooMany(dataType, maxCount);
        }
        const stamp = w.now().toISOString();
        const created: DataElement = {
          id,
          instanceGuid: guid,
          dataType,
          filename,
          contentType,
          blobStoragePath,
          selfLinks: w.links.element(current.id, current.appId, { id } as DataElement).selfLinks,
          size: stored.size,
          contentHash: stored.contentHash,
          locked: false,
          refs,
          // As Altinn's: unread when the app's owner adds it (news for the user), read when the user's app does.
          isRead: !isAppOwner(principal, current),
          tags: [],
          ...(generatedFromTask
            ? { references: [{ relation: 'GeneratedFrom', value: generatedFromTask, valueType: 'Task' }] }
            : {}),
          fileScanResult: 'NotApplicable',
          created: stamp,
          createdBy: caller,
          lastChanged: stamp,
          lastChangedBy: caller,
        };
        await elements.insertDataElement(created);
        const updated = withElement(current, created, stamp, caller);
        await instanceRepository(tx).updateInstance(updated);
        await recordStorageEvent(tx, updated, 'Created', principal, stamp, id);
        return w.answered(current, created);
      }),
    );
    return c.json(element, 201, { Location: element.selfLinks.platform, ETag: etagOf(element) });
  };

/** Lists the instance's data elements (marked-deleted ones for the app's owner only). */
const listHandler =
  (w: DataElementWork): RouteHandler<typeof listRoute, PlatformEnv> =>
  async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const instance = await w.findInstance(instanceOwnerPartyId, instanceGuid);
    const owner = isAppOwner(principalOf(c), instance);
    const dataElements = (await dataElementRepository(w.db).listDataElements(instanceGuidOf(instance)))
      .filter((element) => owner || !isMarkedDeleted(element))
      .map((element) => w.answered(instance, element));
    return c.json({ dataElements }, 200);
  };

/** Answers an element's content (304 when `If-None-Match` holds); an end user reading it marks it read. */
const downloadHandler =
  (w: DataElementWork): RouteHandler<typeof downloadRoute, PlatformEnv> =>
  async (c) => {
    const { instanceOwnerPartyId, instanceGuid, dataGuid } = c.req.valid('param');
    const instance = await w.findInstance(instanceOwnerPartyId, instanceGuid);
    const elements = dataElementRepository(w.db);
    const element = await elements.findDataElement(instanceGuidOf(instance), dataGuid.toLowerCase());
    if (!element) throw elementNotFound(dataGuid);
    const owner = isAppOwner(principalOf(c), instance);
    if (isMarkedDeleted(element) && !owner) throw elementNotFound(dataGuid);
    // As Altinn's: anyone but the app's owner reading the content marks the element read.
    if (!element.isRead && !owner) await w.markRead(instanceOwnerPartyId, instanceGuid, element.id);
    const etag = etagOf(element);
    // The typed OpenAPI handler only knows JSON answers, hence the casts of the two bodies below.
    if (isNotModified(c.req.header('if-none-match'), etag)) return c.body(null, 304, { ETag: etag }) as never;
    const content = await w.blob.download(w.container, element.blobStoragePath, c.req.raw.signal);
    if (!content) throw elementNotFound(dataGuid);
    return c.body(content.body, 200, {
      'Content-Type': element.contentType,
      'Content-Length': String(content.size),
      ETag: etag,
      'Content-Disposition': contentDisposition(element.filename),
    }) as never;
  };

/** Replaces an element's content with an upload; the old blob is removed once the row points at the new one. */
const replaceHandler =
  (w: DataElementWork): RouteHandler<typeof replaceRoute, PlatformEnv> =>
  async (c) => {
    const caller = callerIdOf(principalOf(c));
    const { instanceOwnerPartyId: partyId, instanceGuid, dataGuid } = c.req.valid('param');
    const instance = await w.findInstance(partyId, instanceGuid);
    const guid = instanceGuidOf(instance);
    const existing = await dataElementRepository(w.db).findDataElement(guid, dataGuid.toLowerCase());
    if (!existing) throw elementNotFound(dataGuid);
    if (existing.locked) throw locked(dataGuid);
    const ifMatch = c.req.header('if-match');
    checkIfMatch(ifMatch, existing); // checked again below, where the change is made
    const { rules } = await w.rulesFor(instance, existing.dataType);
    const content = await readUpload(c.req.raw, rules);
    const filename = content.filename ?? existing.filename;
    const { contentType } = content;
    // A new blob name per version: the old content stays readable until the row points at the new one.
    const blobStoragePath = `${instance.appId}/${guid}/data/${existing.id}.${randomUUID()}`;
    const stored = await w.store(c, rules, blobStoragePath, content);
    const { updated, previous } = await w.commitOrDiscard(blobStoragePath, () =>
      w.onLockedInstance(partyId, instanceGuid, async (tx, current) => {
        const elements = dataElementRepository(tx);
        const before = await elements.findDataElement(guid, existing.id);
        if (!before) throw elementNotFound(dataGuid);
        if (before.locked) throw locked(dataGuid);
        checkIfMatch(ifMatch, before);
        const stamp = w.now().toISOString();
        const after: DataElement = {
          ...before,
          filename,
          contentType,
          blobStoragePath,
          size: stored.size,
          contentHash: stored.contentHash,
          lastChanged: stamp,
          lastChangedBy: caller,
        };
        await elements.updateDataElement(after);
        const instanceAfter = withElement(current, after, stamp, caller);
        await instanceRepository(tx).updateInstance(instanceAfter);
        await recordStorageEvent(tx, instanceAfter, 'Saved', principalOf(c), stamp, after.id);
        return { updated: w.answered(current, after), previous: before };
      }),
    );
    await w.discard(previous.blobStoragePath);
    return c.json(updated, 200, { ETag: etagOf(updated) });
  };

/** Deletes an element, or with `delay=true` marks it deleted for removal when the process ends. */
const removeHandler =
  (w: DataElementWork): RouteHandler<typeof removeRoute, PlatformEnv> =>
  async (c) => {
    const principal = principalOf(c);
    const caller = callerIdOf(principal);
    const { instanceOwnerPartyId: partyId, instanceGuid, dataGuid } = c.req.valid('param');
    const delay = c.req.valid('query').delay === true;
    const deleted = await w.onLockedInstance(partyId, instanceGuid, async (tx, instance) => {
      const elements = dataElementRepository(tx);
      const element = await elements.findDataElement(instanceGuidOf(instance), dataGuid.toLowerCase());
      if (!element) throw elementNotFound(dataGuid);
      const owner = isAppOwner(principal, instance);
      if (isMarkedDeleted(element) && !owner) throw elementNotFound(dataGuid);
      if (delay && isMarkedDeleted(element)) return { element: w.answered(instance, element), removed: false };
      if (element.locked) throw locked(dataGuid);
      checkIfMatch(c.req.header('if-match'), element);
      const stamp = w.now().toISOString();
      if (delay) {
        // As Altinn's InitiateDelayedDelete: only for data types removed automatically when the process ends.
        const [org = '', app = ''] = instance.appId.split('/');
        const application = await storageRepository(tx).findApplication(org, app);
        const type = application?.dataTypes?.find((candidate) => candidate.id === element.dataType);
        const appLogic = type?.appLogic as { autoDeleteOnProcessEnd?: boolean } | null | undefined;
        if (appLogic?.autoDeleteOnProcessEnd !== true) {
          throw invalidField('delay', `DataType ${element.dataType} does not support delayed deletion`);
        }
        const marked: DataElement = {
          ...element,
          deleteStatus: { isHardDeleted: true, hardDeleted: stamp },
          lastChanged: stamp,
          lastChangedBy: caller,
        };
        await elements.updateDataElement(marked);
        const updated = withElement(instance, marked, stamp, caller);
        await instanceRepository(tx).updateInstance(updated);
        await recordStorageEvent(tx, updated, 'Deleted', principal, stamp, element.id);
        return { element: w.answered(instance, marked), removed: false };
      }
      await elements.deleteDataElement(element.instanceGuid, element.id);
      const data = instance.data.filter((item) => item.id !== element.id);
      const updated = { ...instance, data, lastChanged: stamp, lastChangedBy: caller };
      await instanceRepository(tx).updateInstance(updated);
      await recordStorageEvent(tx, updated, 'Deleted', principal, stamp, element.id);
      return { element: w.answered(instance, { ...element, lastChangedBy: caller }), removed: true };
    });
    if (deleted.removed) await w.discard(deleted.element.blobStoragePath);
    return c.json(deleted.element, 200);
  };

/** Updates an element's metadata fields from the body, as Altinn's Update does. */
const updateMetadataHandler =
  (w: DataElementWork): RouteHandler<typeof updateMetadataRoute, PlatformEnv> =>
  async (c) => {
    const { instanceOwnerPartyId: partyId, instanceGuid, dataGuid } = c.req.valid('param');
    const input: DataElementUpdate = c.req.valid('json');
    if (
      input.instanceGuid.toLowerCase() !== instanceGuid.toLowerCase() ||
      input.id.toLowerCase() !== dataGuid.toLowerCase()
    ) {
      throw invalidField(
        'body',
        'Mismatch between path and dataElement content: id and instanceGuid must match the path',
      );
    }
    await w.rulesFor(await w.findInstance(partyId, instanceGuid), input.dataType); // 400 unless the app declares it
    const updated = await w.onLockedInstance(partyId, instanceGuid, async (tx, instance) => {
      const elements = dataElementRepository(tx);
      const element = await elements.findDataElement(instanceGuidOf(instance), dataGuid.toLowerCase());
      if (!element) throw elementNotFound(dataGuid);
      // Altinn's Update sets exactly these fields from the body (absent ones become null) and keeps the rest.
      const after: DataElement = {
        ...element,
        locked: input.locked ?? false,
        refs: input.refs ?? [],
        references: input.references ?? null,
        tags: input.tags ?? [],
        userDefinedMetadata: input.userDefinedMetadata ?? null,
        metadata: input.metadata ?? null,
        deleteStatus: input.deleteStatus ?? null,
        lastChanged: input.lastChanged ?? element.lastChanged,
        lastChangedBy: input.lastChangedBy ?? element.lastChangedBy,
      };
      await elements.updateDataElement(after);
      await instanceRepository(tx).updateInstance(
        withElement(instance, after, instance.lastChanged, instance.lastChangedBy ?? null),
      );
      return w.answered(instance, after);
    });
    return c.json(updated, 200, { ETag: etagOf(updated) });
  };

/** Locks an element (201 when it changed, 200 when it was locked already). */
const lockHandler =
  (w: DataElementWork): RouteHandler<typeof lockRoute, PlatformEnv> =>
  async (c) => {
    const { element, changed } = await w.setLocked(c, c.req.valid('param'), true);
    const headers = { ETag: etagOf(element) };
    return changed ? c.json(element, 201, headers) : c.json(element, 200, headers);
  };

/** Unlocks an element. */
const unlockHandler =
  (w: DataElementWork): RouteHandler<typeof unlockRoute, PlatformEnv> =>
  async (c) => {
    const { element } = await w.setLocked(c, c.req.valid('param'), false);
    return c.json(element, 200, { ETag: etagOf(element) });
  };

/** Adds the data element routes (raw upload, list, download, replace, delete, lock) to the Storage app. */
export function addDataElementRoutes(api: PlatformApp, options: DataElementRoutesOptions): void {
  const work = new DataElementWork(options);
  api.openapi(uploadRoute, uploadHandler(work));
  api.openapi(listRoute, listHandler(work));
  api.openapi(downloadRoute, downloadHandler(work));
  api.openapi(replaceRoute, replaceHandler(work));
  api.openapi(removeRoute, removeHandler(work));
  api.openapi(updateMetadataRoute, updateMetadataHandler(work));
  api.openapi(lockRoute, lockHandler(work));
  api.openapi(unlockRoute, unlockHandler(work));
}
