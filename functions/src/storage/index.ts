import type { Context } from 'hono';
import { except } from 'hono/combine';
import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { authenticate, type TokenVerifier } from '../../../platform/src/auth/index.js';
import type { BlobStore } from '../../../platform/src/blob/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { addApplicationRoutes } from './applications/applications.js';
import { addDataElementRoutes } from './data-elements/data-elements.js';
import { addSignRoutes } from './data-elements/sign.js';
import { addInstanceEventRoutes } from './events/instance-events.js';
import { DEFAULT_PUBLIC_URLS, instanceLinks, type PublicUrls } from './instances/instance-links.js';
import { addInstanceLockRoutes } from './instances/instance-lock.js';
import { addInstanceQueryRoutes } from './instances/instance-query.js';
import { addInstanceValueRoutes } from './instances/instance-values.js';
import { addInstanceRoutes } from './instances/instances.js';
import { addProcessRoutes } from './instances/process.js';
import { createStorageAccess, type PartyAccess } from './shared/access.js';
import { addTextRoutes } from './texts/texts.js';

/** The default container of data element content. */
export const DATA_CONTAINER = 'storage-data';

/** Paths whose body is a data element's content: `.../instances/{p}/{g}/data` and `.../data/{dataGuid}`. */
const DATA_UPLOAD_PATH = /\/instances\/[^/]+\/[^/]+\/data(?:\/[^/]+)?\/?$/;

/** Public path prefix of DataServices, as Altinn Storage's. */
export const STORAGE_PREFIX = '/storage/api/v1';

/** What the Storage API needs. */
export interface StorageApiOptions {
  db: Database;
  logger: Logger;
  /** Where data element content is kept. */
  blob: BlobStore;
  /** The container holding every data element, at `{org}/{app}/{instanceGuid}/data/{dataGuid}`; `DATA_CONTAINER` by default. */
  blobContainer?: string;
  /** The clock stamping `created` and `lastChanged`; the system clock by default. */
  now?: () => Date;
  /** Verifies callers' platform tokens and apps' PlatformAccessTokens: every call but the OpenAPI description needs one. */
  verifier: TokenVerifier;
  /** Whom an end user may act for; their own party only by default. */
  partyAccess?: PartyAccess;
  /** Public base URLs of the platform and the apps for `selfLinks` and `Location`; DEFAULT_PUBLIC_URLS unless given. */
  publicUrls?: PublicUrls;
  /** Refuse end users' instance writes without the app's PlatformAccessToken (STORAGE_REQUIRE_APP_TOKEN); off by default, as Altinn. */
  requireAppToken?: boolean;
  /**
   * Enforce a data type's allowedContentTypes, maxSize and maxCount on uploads (STORAGE_ENFORCE_DATA_TYPE_LIMITS);
   * off by default, as Altinn Storage leaves them to the app. For the data element routes.
   */
  enforceDataTypeLimits?: boolean;
}

/** Altinn's anonymous reads ([AllowAnonymous]): the application list, an org's applications and one app's metadata. */
const ANONYMOUS_READ = new RegExp(`^${STORAGE_PREFIX}/applications(?:/[^/]+(?:/[^/]+)?)?/?$`);

/**
 * DataServices, compatible with Altinn Storage v1: application metadata, texts, instances, instance events,
 * process history and data elements. Every call carries a platform token; see access.ts for who may do what.
 */
export function createStorageApi(options: StorageApiOptions): PlatformApp {
  const api = createApi({
    prefix: STORAGE_PREFIX,
    title: 'DataServices (Altinn Storage v1 compatible)',
    version: '1.0.0',
    logger: options.logger,
    // Data element bodies go to the blob store as they arrive, whatever their content type.
    json: {
      maxBytes: 4 * 1024 * 1024,
      streamsBody: (method, path) => DATA_UPLOAD_PATH.test(path) && method !== 'DELETE',
    },
  });
  const access = createStorageAccess(options.db, options.partyAccess, { requireAppToken: options.requireAppToken });
  const anonymousRead = (c: Context) =>
    (c.req.method === 'GET' || c.req.method === 'HEAD') && ANONYMOUS_READ.test(c.req.path);
  api.use(
    '*',
    except(anonymousRead, authenticate({ verifier: options.verifier, openPaths: [`${STORAGE_PREFIX}/openapi.json`] })),
  );
  api.use('/applications/*', access.applications());
  api.use('/instances/:instanceOwnerPartyId/:instanceGuid', access.instances());
  api.use('/instances/:instanceOwnerPartyId/:instanceGuid/*', access.instances());
  const links = instanceLinks(options.publicUrls ?? DEFAULT_PUBLIC_URLS, STORAGE_PREFIX);
  const routes = { db: options.db, prefix: STORAGE_PREFIX, now: options.now ?? (() => new Date()), access, links };
  const container = options.blobContainer ?? DATA_CONTAINER;
  addApplicationRoutes(api, routes);
  addTextRoutes(api, routes);
  addInstanceQueryRoutes(api, routes);
  addInstanceRoutes(api, routes);
  addInstanceEventRoutes(api, routes);
  addProcessRoutes(api, routes);
  addInstanceValueRoutes(api, routes);
  addInstanceLockRoutes(api, routes);
  addSignRoutes(api, { ...routes, blob: options.blob, container });
  addDataElementRoutes(api, {
    ...routes,
    logger: options.logger,
    blob: options.blob,
    container,
  });
  return api;
}
