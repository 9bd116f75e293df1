import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { authenticate, type TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { addAppEventRoutes } from './app-events.js';
import { addSubscriptionRoutes } from './subscriptions.js';

/** Public path prefix of Events, as Altinn's (app-lib's `PlatformSettings.ApiEventsEndpoint`). */
export const EVENTS_PREFIX = '/events/api/v1';

/** Largest request body Events reads (an event with its data, a subscription). */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;

/** What the Events API needs. */
export interface EventsApiOptions {
  db: Database;
  logger: Logger;
  /** Verifies callers' platform tokens and apps' PlatformAccessTokens. */
  verifier: TokenVerifier;
  /** The clock events and subscriptions are stamped with. */
  now?: () => Date;
}

/**
 * Events, compatible with the parts of Altinn Events v1 that app-lib calls: apps publish cloud events, orgs read
 * their apps' events, and event subscriptions are recorded. Events are stored, never pushed to subscribers.
 */
export function createEventsApi(options: EventsApiOptions): PlatformApp {
  const api = createApi({
    prefix: EVENTS_PREFIX,
    title: 'Events (Altinn Events v1 compatible)',
    version: '1.0.0',
    description:
      'Apps publish cloud events (`POST app`), orgs read them (`GET app/{org}/{app}`), subscriptions are recorded. ' +
      'This platform records events and subscriptions but delivers nothing to subscription endpoints.',
    logger: options.logger,
    json: { maxBytes: MAX_EVENT_BODY_BYTES },
  });
  api.use('*', authenticate({ verifier: options.verifier, openPaths: [`${EVENTS_PREFIX}/openapi.json`] }));
  const now = options.now ?? (() => new Date());
  addAppEventRoutes(api, { db: options.db, now });
  addSubscriptionRoutes(api, { db: options.db, now });
  return api;
}
