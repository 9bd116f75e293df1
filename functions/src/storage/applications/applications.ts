import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { aspNetBoolean } from '../../../../platform/src/api/aspnet.js';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { principalOf } from '../../../../platform/src/auth/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import type { PlatformEnv } from '../../../../platform/src/request-context/index.js';
import { storageRepository } from '../repositories/repository.js';
import { callerIdOf } from '../shared/access.js';
import { applicationNotFound, mismatchedField, problemContent } from '../shared/problems.js';
import { AppId, Application, ApplicationInput, ApplicationList, AppParams, OrgParams } from '../shared/schemas.js';

/** What the application routes need. */
export interface ApplicationRoutesOptions {
  db: Database;
  /** Public prefix the API is mounted under, for `Location` headers. */
  prefix: string;
  /** The clock stamping `created` and `lastChanged`. */
  now: () => Date;
}

const body = { required: true, content: json(ApplicationInput) };
const invalid = { description: 'Invalid path, query or body; `errors` names each field', content: problemContent };
const missing = { description: 'No such application', content: problemContent };
const stored = { description: 'Stored (new or replaced); `Location` names it', content: json(Application) };

const createByQuery = createRoute({
  method: 'post',
  path: '/applications',
  summary: 'Store an application named by `appId={org}/{app}`: created, or replaced when it exists (Altinn Storage)',
  request: { query: z.object({ appId: AppId }), body },
  responses: { 201: stored, 400: invalid },
});

const createByPath = createRoute({
  method: 'post',
  path: '/applications/{org}/{app}',
  summary: 'Store an application: created, or replaced when it exists',
  request: { params: AppParams, body },
  responses: createByQuery.responses,
});

const read = createRoute({
  method: 'get',
  path: '/applications/{org}/{app}',
  summary: "Read an application's metadata (any caller, as Altinn serves it anonymously)",
  request: { params: AppParams },
  responses: { 200: { description: 'The application', content: json(Application) }, 400: invalid, 404: missing },
});

const listAll = createRoute({
  method: 'get',
  path: '/applications',
  summary: 'List the applications of every org (any caller)',
  responses: { 200: { description: 'Every application', content: json(ApplicationList) } },
});

const list = createRoute({
  method: 'get',
  path: '/applications/{org}',
  summary: 'List the applications of an org (any caller)',
  request: { params: OrgParams },
  responses: { 200: { description: "The org's applications", content: json(ApplicationList) }, 400: invalid },
});

const update = createRoute({
  method: 'put',
  path: '/applications/{org}/{app}',
  summary: "Replace an application's metadata",
  request: { params: AppParams, body },
  responses: {
    200: { description: 'The updated application', content: json(Application) },
    400: invalid,
    404: missing,
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/applications/{org}/{app}',
  summary:
    'Delete an application: marked with `validTo` (soft), or removed with its texts when `hard=True`; answers its metadata',
  request: { params: AppParams, query: z.object({ hard: aspNetBoolean.optional() }) },
  responses: {
    200: { description: 'The deleted application', content: json(Application) },
    400: invalid,
    404: missing,
  },
});

/**
 * The fields of `input` the server does not set itself: the named ones and any others Altinn's
 * Application has, which are kept as sent.
 */
function callerFields(input: ApplicationInput) {
  const { id: _id, org: _org, created: _c, createdBy: _cb, lastChanged: _l, lastChangedBy: _lb, ...fields } = input;
  return { ...fields, title: input.title, dataTypes: input.dataTypes, partyTypesAllowed: input.partyTypesAllowed };
}

/** Refuses a body whose `id` or `org` names another app than the path (as Altinn's PUT does). */
function checkIdentity(org: string, app: string, input: ApplicationInput): void {
  if (input.id !== undefined && input.id !== `${org}/${app}`) {
    throw mismatchedField('id', `must be ${org}/${app} to match the path`);
  }
  if (input.org !== undefined && input.org !== org) throw mismatchedField('org', `must be ${org} to match the path`);
}

/** Adds the application metadata routes (store, read, list, update, delete) to the Storage app. */
export function addApplicationRoutes(api: PlatformApp, options: ApplicationRoutesOptions): void {
  const { db, prefix, now } = options;

  /** Altinn's POST: `id` and `org` come from the path, whatever the body says; an existing app is replaced. */
  const store = async (c: Context<PlatformEnv>, org: string, app: string, input: ApplicationInput) => {
    const stamp = now().toISOString();
    const caller = callerIdOf(principalOf(c));
    const application: Application = {
      ...callerFields(input),
      id: `${org}/${app}`,
      org,
      validFrom: input.validFrom ?? stamp,
      created: stamp,
      createdBy: caller,
      lastChanged: stamp,
      lastChangedBy: caller,
    };
    return storageRepository(db).upsertApplication(application);
  };
  const location = (application: Application) => `${prefix}/applications/${application.id}`;

  api.openapi(createByQuery, async (c) => {
    const [org = '', app = ''] = c.req.valid('query').appId.split('/');
    const application = await store(c, org, app, c.req.valid('json'));
    return c.json(application, 201, { Location: location(application) });
  });

  api.openapi(createByPath, async (c) => {
    const { org, app } = c.req.valid('param');
    const application = await store(c, org, app, c.req.valid('json'));
    return c.json(application, 201, { Location: location(application) });
  });

  api.openapi(read, async (c) => {
    const { org, app } = c.req.valid('param');
    const application = await storageRepository(db).findApplication(org, app);
    if (!application) throw applicationNotFound(org, app);
    return c.json(application, 200);
  });

  api.openapi(listAll, async (c) => c.json({ applications: await storageRepository(db).listApplications() }, 200));

  api.openapi(list, async (c) => {
    const { org } = c.req.valid('param');
    return c.json({ applications: await storageRepository(db).listApplications(org) }, 200);
  });

  api.openapi(update, async (c) => {
    const { org, app } = c.req.valid('param');
    const input = c.req.valid('json');
    checkIdentity(org, app, input);
    const caller = callerIdOf(principalOf(c));
    const updated = await db.transaction(async (tx) => {
      const repository = storageRepository(tx);
      const existing = await repository.findApplication(org, app);
      if (!existing) throw applicationNotFound(org, app);
      const application: Application = {
        ...callerFields(input),
        id: existing.id,
        org: existing.org,
        created: existing.created,
        createdBy: existing.createdBy,
        lastChanged: now().toISOString(),
        lastChangedBy: caller,
      };
      await repository.updateApplication(application);
      return application;
    });
    return c.json(updated, 200);
  });

  api.openapi(remove, async (c) => {
    const { org, app } = c.req.valid('param');
    const hard = c.req.valid('query').hard === true;
    const caller = callerIdOf(principalOf(c));
    const deleted = await db.transaction(async (tx) => {
      const repository = storageRepository(tx);
      const existing = await repository.findApplication(org, app);
      if (!existing) throw applicationNotFound(org, app);
      if (hard) {
        await repository.deleteApplication(org, app);
        return existing;
      }
      // Soft: the metadata stays readable, marked as no longer valid (Altinn's validTo).
      const stamp = now().toISOString();
      const application: Application = { ...existing, validTo: stamp, lastChanged: stamp, lastChangedBy: caller };
      await repository.updateApplication(application);
      return application;
    });
    return c.json(deleted, 200);
  });
}
