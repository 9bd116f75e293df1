import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../platform/api/index.js';
import type { Database } from '../platform/db/index.js';
import { Problem } from '../platform/errors/index.js';
import { jsonContent as json } from '../platform/errors/openapi.js';
import { applicationNotFound, mismatchedField, problemContent } from './problems.js';
import { storageRepository } from './repository.js';
import { AppId, Application, ApplicationInput, ApplicationList, AppParams, OrgParams } from './schemas.js';

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

const createByQuery = createRoute({
  method: 'post',
  path: '/applications',
  summary: 'Create an application named by `appId={org}/{app}` (Altinn Storage shape)',
  request: { query: z.strictObject({ appId: AppId }), body },
  responses: {
    201: { description: 'Created; `Location` names it', content: json(Application) },
    400: invalid,
    409: { description: 'The application already exists', content: problemContent },
  },
});

const createByPath = createRoute({
  method: 'post',
  path: '/applications/{org}/{app}',
  summary: 'Create an application',
  request: { params: AppParams, body },
  responses: createByQuery.responses,
});

const read = createRoute({
  method: 'get',
  path: '/applications/{org}/{app}',
  summary: "Read an application's metadata",
  request: { params: AppParams },
  responses: { 200: { description: 'The application', content: json(Application) }, 400: invalid, 404: missing },
});

const list = createRoute({
  method: 'get',
  path: '/applications/{org}',
  summary: 'List the applications of an org',
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
  summary: 'Delete an application and its texts; answers the deleted metadata (as Altinn Storage does)',
  request: { params: AppParams },
  responses: {
    200: { description: 'The deleted application', content: json(Application) },
    400: invalid,
    404: missing,
  },
});

/** Refuses a body whose `id` or `org` names another app than the path. */
/**
 * The fields of `input` the server does not set itself: the named ones and any others Altinn's
 * Application has, which are kept as sent.
 */
function callerFields(input: ApplicationInput) {
  const { id: _id, org: _org, created: _c, createdBy: _cb, lastChanged: _l, lastChangedBy: _lb, ...fields } = input;
  return { ...fields, title: input.title, dataTypes: input.dataTypes, partyTypesAllowed: input.partyTypesAllowed };
}

function checkIdentity(org: string, app: string, input: ApplicationInput): void {
  if (input.id !== undefined && input.id !== `${org}/${app}`) {
    throw mismatchedField('id', `must be ${org}/${app} to match the path`);
  }
  if (input.org !== undefined && input.org !== org) throw mismatchedField('org', `must be ${org} to match the path`);
}

/** Adds the application metadata routes (create, read, list, update, delete) to the Storage app. */
export function addApplicationRoutes(api: PlatformApp, options: ApplicationRoutesOptions): void {
  const { db, prefix, now } = options;

  const create = async (org: string, app: string, input: ApplicationInput): Promise<Application> => {
    checkIdentity(org, app, input);
    const stamp = now().toISOString();
    const application: Application = {
      ...callerFields(input),
      id: `${org}/${app}`,
      org,
      created: stamp,
      createdBy: null,
      lastChanged: stamp,
      lastChangedBy: null,
    };
    const inserted = await db.transaction((tx) => storageRepository(tx).insertApplication(application));
    if (!inserted) {
      throw new Problem(409, { kind: 'conflict', detail: `Application ${org}/${app} already exists.` });
    }
    return application;
  };
  const location = (application: Application) => `${prefix}/applications/${application.id}`;

  api.openapi(createByQuery, async (c) => {
    const [org = '', app = ''] = c.req.valid('query').appId.split('/');
    const application = await create(org, app, c.req.valid('json'));
    return c.json(application, 201, { Location: location(application) });
  });

  api.openapi(createByPath, async (c) => {
    const { org, app } = c.req.valid('param');
    const application = await create(org, app, c.req.valid('json'));
    return c.json(application, 201, { Location: location(application) });
  });

  api.openapi(read, async (c) => {
    const { org, app } = c.req.valid('param');
    const application = await storageRepository(db).findApplication(org, app);
    if (!application) throw applicationNotFound(org, app);
    return c.json(application, 200);
  });

  api.openapi(list, async (c) => {
    const { org } = c.req.valid('param');
    return c.json({ applications: await storageRepository(db).listApplications(org) }, 200);
  });

  api.openapi(update, async (c) => {
    const { org, app } = c.req.valid('param');
    const input = c.req.valid('json');
    checkIdentity(org, app, input);
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
        lastChangedBy: null,
      };
      await repository.updateApplication(application);
      return application;
    });
    return c.json(updated, 200);
  });

  api.openapi(remove, async (c) => {
    const { org, app } = c.req.valid('param');
    const deleted = await db.transaction(async (tx) => {
      const repository = storageRepository(tx);
      const existing = await repository.findApplication(org, app);
      if (!existing || !(await repository.deleteApplication(org, app))) throw applicationNotFound(org, app);
      return existing;
    });
    return c.json(deleted, 200);
  });
}
