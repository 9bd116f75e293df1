import type { Queryable } from '../../../../platform/src/db/index.js';
import type { Application, TextResource } from '../shared/schemas.js';

/** Reads and writes of Storage's application metadata and texts; every statement is parameterised. */
export interface StorageRepository {
  /** The app's metadata, or undefined when there is none. */
  findApplication(org: string, app: string): Promise<Application | undefined>;
  /** Every app of `org`, ordered by id; every app of every org, ordered by org and app, without `org`. */
  listApplications(org?: string): Promise<Application[]>;
  /** Stores a new app; false (and nothing written) when `org/app` already exists. */
  insertApplication(application: Application): Promise<boolean>;
  /**
   * Stores the app, replacing the metadata of an existing one but keeping its `created` and `createdBy` (Altinn's
   * upsert); answers the application as stored.
   */
  upsertApplication(application: Application): Promise<Application>;
  /** Replaces an existing app's metadata; false when it does not exist. */
  updateApplication(application: Application): Promise<boolean>;
  /** Removes an app and its texts; false when it did not exist. */
  deleteApplication(org: string, app: string): Promise<boolean>;
  /** True when the app exists; on a transaction it also keeps the app from being deleted until commit. */
  holdApplication(org: string, app: string): Promise<boolean>;
  /** The app's texts in `language`, or undefined. */
  findTexts(org: string, app: string, language: string): Promise<TextResource | undefined>;
  /** Stores new texts; false (and nothing written) when the language already has texts. */
  insertTexts(app: string, texts: TextResource): Promise<boolean>;
  /** Replaces existing texts; false when there are none. */
  updateTexts(app: string, texts: TextResource): Promise<boolean>;
  /** Stores the texts, replacing existing ones but keeping their `created` and `createdBy`; answers them as stored. */
  upsertTexts(app: string, texts: TextResource): Promise<TextResource>;
  /** Removes the app's texts in `language`; false when there were none. */
  deleteTexts(org: string, app: string, language: string): Promise<boolean>;
}

type ApplicationRow = { application: Application };
type TextsRow = { text_resource: TextResource };

/** The SQL of application metadata. */
function applicationQueries(
  db: Queryable,
): Pick<
  StorageRepository,
  | 'findApplication'
  | 'listApplications'
  | 'upsertApplication'
  | 'insertApplication'
  | 'updateApplication'
  | 'deleteApplication'
  | 'holdApplication'
> {
  return {
    async findApplication(org, app) {
      const [row] = await db.query<ApplicationRow>('SELECT application FROM applications WHERE org = $1 AND app = $2', [
        org,
        app,
      ]);
      return row?.application;
    },

    async listApplications(org) {
      const rows =
        org === undefined
          ? await db.query<ApplicationRow>('SELECT application FROM applications ORDER BY org, app')
          : await db.query<ApplicationRow>('SELECT application FROM applications WHERE org = $1 ORDER BY app', [org]);
      return rows.map((row) => row.application);
    },

    async upsertApplication(application) {
      // The existing row keeps who created it and when; everything else is the caller's.
      const [row] = await db.query<ApplicationRow>(
        `INSERT INTO applications AS a (org, app, application, created, last_changed)
         VALUES ($1, $2, $3::jsonb, $4, $5)
         ON CONFLICT (org, app) DO UPDATE SET
           application = EXCLUDED.application
             || jsonb_build_object('created', a.application->'created', 'createdBy', a.application->'createdBy'),
           last_changed = EXCLUDED.last_changed
         RETURNING application`,
        [
          application.org,
          appOf(application),
          JSON.stringify(application),
          application.created,
          application.lastChanged,
        ],
      );
      if (!row) throw new Error(`upsert of application ${application.id} returned no row`);
      return row.application;
    },

    async insertApplication(application) {
      const rows = await db.query(
        `INSERT INTO applications (org, app, application, created, last_changed)
         VALUES ($1, $2, $3::jsonb, $4, $5)
         ON CONFLICT (org, app) DO NOTHING
         RETURNING app`,
        [
          application.org,
          appOf(application),
          JSON.stringify(application),
          application.created,
          application.lastChanged,
        ],
      );
      return rows.length === 1;
    },

    async updateApplication(application) {
      const rows = await db.query(
        `UPDATE applications SET application = $3::jsonb, last_changed = $4
         WHERE org = $1 AND app = $2
         RETURNING app`,
        [application.org, appOf(application), JSON.stringify(application), application.lastChanged],
      );
      return rows.length === 1;
    },

    async deleteApplication(org, app) {
      const rows = await db.query('DELETE FROM applications WHERE org = $1 AND app = $2 RETURNING app', [org, app]);
      return rows.length === 1;
    },

    async holdApplication(org, app) {
      const rows = await db.query('SELECT 1 FROM applications WHERE org = $1 AND app = $2 FOR KEY SHARE', [org, app]);
      return rows.length === 1;
    },
  };
}

/** The SQL of application texts. */
function textQueries(
  db: Queryable,
): Pick<StorageRepository, 'findTexts' | 'insertTexts' | 'upsertTexts' | 'deleteTexts' | 'updateTexts'> {
  return {
    async findTexts(org, app, language) {
      const [row] = await db.query<TextsRow>(
        'SELECT text_resource FROM texts WHERE org = $1 AND app = $2 AND language = $3',
        [org, app, language],
      );
      return row?.text_resource;
    },

    async insertTexts(app, texts) {
      const rows = await db.query(
        `INSERT INTO texts (org, app, language, text_resource, created, last_changed)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6)
         ON CONFLICT (org, app, language) DO NOTHING
         RETURNING language`,
        [texts.org, app, texts.language, JSON.stringify(texts), texts.created, texts.lastChanged],
      );
      return rows.length === 1;
    },

    async upsertTexts(app, texts) {
      const [row] = await db.query<TextsRow>(
        `INSERT INTO texts AS t (org, app, language, text_resource, created, last_changed)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6)
         ON CONFLICT (org, app, language) DO UPDATE SET
           text_resource = EXCLUDED.text_resource
             || jsonb_build_object('created', t.text_resource->'created', 'createdBy', t.text_resource->'createdBy'),
           last_changed = EXCLUDED.last_changed
         RETURNING text_resource`,
        [texts.org, app, texts.language, JSON.stringify(texts), texts.created, texts.lastChanged],
      );
      if (!row) throw new Error(`upsert of texts ${texts.id} returned no row`);
      return row.text_resource;
    },

    async deleteTexts(org, app, language) {
      const rows = await db.query(
        'DELETE FROM texts WHERE org = $1 AND app = $2 AND language = $3 RETURNING language',
        [org, app, language],
      );
      return rows.length === 1;
    },

    async updateTexts(app, texts) {
      const rows = await db.query(
        `UPDATE texts SET text_resource = $4::jsonb, last_changed = $5
         WHERE org = $1 AND app = $2 AND language = $3
         RETURNING language`,
        [texts.org, app, texts.language, JSON.stringify(texts), texts.lastChanged],
      );
      return rows.length === 1;
    },
  };
}

/** Builds the repository on a database or an open transaction. */
export function storageRepository(db: Queryable): StorageRepository {
  return {
    ...applicationQueries(db),
    ...textQueries(db),
  };
}

/** The app part of an Application's `org/app` id. */
function appOf(application: Application): string {
  return application.id.slice(application.org.length + 1);
}
