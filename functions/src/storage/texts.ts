import { createRoute } from '@hono/zod-openapi';
import type { PlatformApp } from '../platform/api/index.js';
import type { Database } from '../platform/db/index.js';
import { Problem } from '../platform/errors/index.js';
import { jsonContent as json } from '../platform/errors/openapi.js';
import { applicationNotFound, mismatchedField, problemContent } from './problems.js';
import { storageRepository } from './repository.js';
import { AppParams, TextParams, TextResource, TextResourceInput } from './schemas.js';

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
const created = {
  201: { description: 'Created; `Location` names it', content: json(TextResource) },
  400: invalid,
  404: { description: 'No such application', content: problemContent },
  409: { description: 'The app already has texts in this language', content: problemContent },
};

const createByBody = createRoute({
  method: 'post',
  path: '/applications/{org}/{app}/texts',
  summary: "Create an app's texts in the body's `language` (Altinn Storage shape)",
  request: { params: AppParams, body },
  responses: created,
});

const createByPath = createRoute({
  method: 'post',
  path: '/applications/{org}/{app}/texts/{language}',
  summary: "Create an app's texts in one language",
  request: { params: TextParams, body },
  responses: created,
});

const read = createRoute({
  method: 'get',
  path: '/applications/{org}/{app}/texts/{language}',
  summary: "Read an app's texts in one language",
  request: { params: TextParams },
  responses: {
    200: { description: 'The texts', content: json(TextResource) },
    400: invalid,
    404: { description: 'No such application, or no texts in this language', content: problemContent },
  },
});

const replace = createRoute({
  method: 'put',
  path: '/applications/{org}/{app}/texts/{language}',
  summary: "Replace an app's texts in one language",
  request: { params: TextParams, body },
  responses: {
    200: { description: 'The updated texts', content: json(TextResource) },
    400: invalid,
    404: { description: 'No such application, or no texts in this language', content: problemContent },
  },
});

function textsNotFound(org: string, app: string, language: string): Problem {
  return new Problem(404, { kind: 'not-found', detail: `Application ${org}/${app} has no texts in '${language}'.` });
}

/** Altinn's TextResource id: `{org}-{app}-{language}`. */
function textsId(org: string, app: string, language: string): string {
  return `${org}-${app}-${language}`;
}

/** Refuses a body whose `id`, `org` or `language` contradicts the path. */
function checkIdentity(org: string, app: string, language: string, input: TextResourceInput): void {
  if (input.language !== undefined && input.language !== language) {
    throw mismatchedField('language', `must be ${language} to match the path`);
  }
  if (input.org !== undefined && input.org !== org) throw mismatchedField('org', `must be ${org} to match the path`);
  const id = textsId(org, app, language);
  if (input.id !== undefined && input.id !== id) throw mismatchedField('id', `must be ${id} to match the path`);
}

/** Adds the per-language text routes (create, read, replace) to the Storage app. */
export function addTextRoutes(api: PlatformApp, options: TextRoutesOptions): void {
  const { db, prefix, now } = options;

  const create = async (org: string, app: string, language: string, input: TextResourceInput) => {
    checkIdentity(org, app, language, input);
    const stamp = now().toISOString();
    const texts: TextResource = {
      id: textsId(org, app, language),
      org,
      language,
      resources: input.resources,
      created: stamp,
      createdBy: null,
      lastChanged: stamp,
      lastChangedBy: null,
    };
    await db.transaction(async (tx) => {
      const repository = storageRepository(tx);
      if (!(await repository.holdApplication(org, app))) throw applicationNotFound(org, app);
      if (!(await repository.insertTexts(app, texts))) {
        throw new Problem(409, {
          kind: 'conflict',
          detail: `Application ${org}/${app} already has texts in '${language}'; replace them with PUT.`,
        });
      }
    });
    return texts;
  };
  const location = (app: string, texts: TextResource) =>
    `${prefix}/applications/${texts.org}/${app}/texts/${texts.language}`;

  api.openapi(createByBody, async (c) => {
    const { org, app } = c.req.valid('param');
    const input = c.req.valid('json');
    if (input.language === undefined) throw mismatchedField('language', 'required');
    const texts = await create(org, app, input.language, input);
    return c.json(texts, 201, { Location: location(app, texts) });
  });

  api.openapi(createByPath, async (c) => {
    const { org, app, language } = c.req.valid('param');
    const texts = await create(org, app, language, c.req.valid('json'));
    return c.json(texts, 201, { Location: location(app, texts) });
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
    checkIdentity(org, app, language, input);
    const updated = await db.transaction(async (tx) => {
      const repository = storageRepository(tx);
      if (!(await repository.holdApplication(org, app))) throw applicationNotFound(org, app);
      const existing = await repository.findTexts(org, app, language);
      if (!existing) throw textsNotFound(org, app, language);
      const texts: TextResource = {
        ...existing,
        resources: input.resources,
        lastChanged: now().toISOString(),
        lastChangedBy: null,
      };
      await repository.updateTexts(app, texts);
      return texts;
    });
    return c.json(updated, 200);
  });
}
