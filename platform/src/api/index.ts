import { OpenAPIHono } from '@hono/zod-openapi';
import { handleError, handleNotFound, validationHook } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import { type PlatformEnv, requestContext } from '../request-context/index.js';
import { type JsonLimits, jsonLimits } from './json-limits.js';

/** What createApi needs to know about an API. */
export interface ApiOptions {
  /** Public path prefix, e.g. `/storage/api/v1`; `''` for the platform's root paths. */
  prefix: string;
  /** OpenAPI `info.title`. */
  title: string;
  /** OpenAPI `info.version`. */
  version: string;
  /** OpenAPI `info.description`. */
  description?: string;
  /** Logger for request lines and unexpected errors. */
  logger: Logger;
  /** Limits of JSON request bodies (size, depth; NUL and unpaired surrogates are always refused). */
  json?: JsonLimits;
}

/** The Hono app type every platform API is. */
export type PlatformApp = OpenAPIHono<PlatformEnv>;

/**
 * Creates an API's OpenAPIHono app under `prefix` with request ids, request logging, JSON body limits (413 past
 * the size, 400 past the depth or for unstorable text), problem+json errors
 * (including 400 for schema violations and 404 for unknown paths) and its description at `{prefix}/openapi.json`.
 */
export function createApi(options: ApiOptions): PlatformApp {
  if (options.prefix !== '' && !/^(\/[a-z0-9._-]+)+$/.test(options.prefix)) {
    throw new Error(`API prefix must be '' or like '/name/api/v1', got '${options.prefix}'`);
  }
  const root = new OpenAPIHono<PlatformEnv>({ defaultHook: validationHook });
  const app = options.prefix ? root.basePath(options.prefix) : root;
  app.use('*', requestContext(options.logger));
  app.use('*', jsonLimits(options.json));
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version,
      ...(options.description ? { description: options.description } : {}),
    },
  });
  return app as PlatformApp;
}
