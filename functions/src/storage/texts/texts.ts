import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { principalOf } from '../../../../platform/src/auth/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import { Problem } from '../../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import type { PlatformEnv } from '../../../../platform/src/request-context/index.js';
import { storageRepository } from '../repositories/repository.js';
import { callerIdOf } from '../shared/access.js';
import { applicationNotFound, mismatchedField, problemContent } from '../shared/problems.js';
import { AppParams, TextParams, TextResource, TextResourceInput } from '../shared/schemas.js';

/** What the text routes need. */
export interface TextRoutesOptions {
  db: Database;
  /** Public prefix the API is mounted under, for `Location` headers. */
  prefix: string;
  /** The clock stamping `created` and `lastChanged`. */
  now: () => Date;
}

const body = { required: true, content: json(TextResourceInput) };
const invalid = { description: 'Invalid path or body; `errors` names each field', content: problemContent };
const noTexts = { description: 'No such application, or no texts in this language', content: problemContent };
const stored = {
  200: { description: 'Stored (new or replaced)', content: json(TextResource) },
  400: invalid,
  404: { description: 'No such application', content: problemContent },
};

const createByBody = createRoute({
  method: 'post',
  path: '/applications/{org}/{app}/texts',
  summary: "Store an app's texts in the body's `language`: created, or replaced when they exist (Altinn Storage)",
  request: { params: AppParams, body },
  responses: stored,
});

const createByPath = createRoute({
  method: 'post',
  path: '/applications/{org}/{app}/texts/{language}',
  summary: "Store an app's texts in one language: created, or replaced when they exist",
  request: { params: TextParams, body },
  responses: stored,
});

const read = createRoute({
  method: 'get',
  path: '/applications/{org}/{app}/texts/{language}',
  summary: "Read an app's texts in one language (any caller with a token)",
  request: { params: TextParams },
  responses: { 200: { description: 'The texts', content: json(TextResource) }, 400: invalid, 404: noTexts },
});

const replace = createRoute({
  method: 'put',
  path: '/applications/{org}/{app}/texts/{language}',
  summary: "Replace an app's texts in one language",
  request: { params: TextParams, body },
  responses: { 200: { description: 'The updated texts', content: json(TextResource) }, 400: invalid, 404: noTexts },
});

const remove = createRoute({
  method: 'delete',
  path: '/applications/{org}/{app}/texts/{language}',
  summary: "Delete an app's texts in one language; answers 200 with no body (as Altinn Storage)",
  request: { params: TextParams },
  responses: { 200: { description: 'Deleted' }, 400: invalid, 404: noTexts },
});

function textsNotFound(org: string, app: string, language: string): Problem {
  return new Problem(404, { kind: 'not-found', detail: `Application ${org}/${app} has no texts in '${language}'.` });
}

/** Altinn's TextResource id: `{org}-{app}-{language}`. */
function textsId(org: string, app: string, language: string): string {
  return `${org}-${app}-${language}`;
}

/** Adds the per-language text routes (store, read, replace, delete) to the Storage app. */
export function addTextRoutes(api: PlatformApp, options: TextRoutesOptions): void {
  const { db, now } = options;

  /** Altinn's POST: an upsert; `id` and `org` come from the path, whatever the body says. */
  const store = async (
    c: Context<PlatformEnv>,
    org: string,
    app: string,
    language: string,
    input: TextResourceInput,
  ) => {
    const stamp = now().toISOString();
    const caller = callerIdOf(principalOf(c));
    const texts: TextResource = {
      id: textsId(org, app, language),
      org,
      language,
      resources: input.resources,
      created: stamp,
      createdBy: caller,
      lastChanged: stamp,
      lastChangedBy: caller,
    };
    return db.transaction(async (tx) => {
      const repository = storageRepository(tx);
      if (!(await repository.holdApplication(org, app))) throw applicationNotFound(org, app);
      return repository.upsertTexts(app, texts);
    });
  };

  api.openapi(createByBody, async (c) => {
    const { org, app } = c.req.valid('param');
    const input = c.req.valid('json');
    if (input.language === undefined) {
      throw mismatchedField('language', 'required: a two-letter ISO 639-1 language code, e.g. nb');
    }
    return c.json(await store(c, org, app, input.language, input), 200);
  });

  api.openapi(createByPath, async (c) => {
    const { org, app, language } = c.req.valid('param');
    const input = c.req.valid('json');
    if (input.language !== undefined && input.language !== language) {
      throw mismatchedField('language', `must be ${language} to match the path`);
    }
    return c.json(await store(c, org, app, language, input), 200);
  });

  api.openapi(read, async (c) => {
    const { org, app, language } = c.req.valid('param');
    const repository = storageRepository(db);
    const texts = await repository.findTexts(org, app, language);
    if (texts) return c.json(texts, 200);
    if (!(await repository.findApplication(org, app))) throw applicationNotFound(org, app);
    throw textsNotFound(org, app, language);
  });

  api.openapi(replace, async (c) => {
    const { org, app, language } = c.req.valid('param');
    const input = c.req.valid('json');
    if (input.language !== undefined && input.language !== language) {
      throw mismatchedField('language', `must be ${language} to match the path`);
    }
    const caller = callerIdOf(principalOf(c));
    const updated = await db.transaction(async (tx) => {
      const repository = storageRepository(tx);
      if (!(await repository.holdApplication(org, app))) throw applicationNotFound(org, app);
      const existing = await repository.findTexts(org, app, language);
      if (!existing) throw textsNotFound(org, app, language);
      const texts: TextResource = {
        ...existing,
        resources: input.resources,
        lastChanged: now().toISOString(),
        lastChangedBy: caller,
      };
      await repository.updateTexts(app, texts);
      return texts;
    });
    return c.json(updated, 200);
  });

  api.openapi(remove, async (c) => {
    const { org, app, language } = c.req.valid('param');
    if (!(await storageRepository(db).deleteTexts(org, app, language))) throw textsNotFound(org, app, language);
    return c.body(null, 200);
  });
}
