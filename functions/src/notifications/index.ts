import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import type { TokenVerifier } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { orderCreator } from './access.js';
import { addOrderRoutes } from './orders.js';

/** Public path prefix of Notifications, as Altinn's (app-lib's `PlatformSettings.ApiNotificationEndpoint`). */
export const NOTIFICATIONS_PREFIX = '/notifications/api/v1';

/** Largest order body read (1000 recipients with an HTML email body fit). */
export const MAX_ORDER_BODY_BYTES = 512 * 1024;

/** What the Notifications API needs. */
export interface NotificationsApiOptions {
  db: Database;
  logger: Logger;
  /** Verifies apps' PlatformAccessTokens and callers' platform tokens. */
  verifier: TokenVerifier;
  /** The clock orders are stamped with. */
  now?: () => Date;
}

/**
 * Notifications, compatible with the parts of Altinn Notifications v1 that app-lib calls: email, SMS and
 * `future` orders, their status and cancelling. Orders are recorded; nothing is sent.
 */
export function createNotificationsApi(options: NotificationsApiOptions): PlatformApp {
  const api = createApi({
    prefix: NOTIFICATIONS_PREFIX,
    title: 'Notifications (Altinn Notifications v1 compatible)',
    version: '1.0.0',
    description:
      'Email and SMS orders as Altinn Notifications takes them, by an app (PlatformAccessToken) or an org token with ' +
      '`altinn:serviceowner/notifications.create`. This platform records orders and their notifications with status ' +
      '"New" and sends no email or SMS.',
    logger: options.logger,
    json: { maxBytes: MAX_ORDER_BODY_BYTES },
  });
  api.use('*', orderCreator({ verifier: options.verifier, openPaths: [`${NOTIFICATIONS_PREFIX}/openapi.json`] }));
  addOrderRoutes(api, { db: options.db, now: options.now ?? (() => new Date()) });
  return api;
}
