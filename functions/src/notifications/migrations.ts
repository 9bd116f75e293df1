import type { Migration } from '../../../platform/src/db/migrate.js';

/**
 * Notifications' tables: orders and their messages (23). Oldest first; the host that composes the services merges
 * every list by version (composeMigrations). Never edit, renumber or rename an entry once it has been applied
 * anywhere: the runner refuses changed checksums.
 */
export const notificationsMigrations: readonly Migration[] = [
  {
    version: 23,
    name: 'notifications',
    sql: `
-- Notification orders (notifications/api/v1/orders/email|sms, future/orders), recorded, never sent.
CREATE TABLE notification_orders (
  id uuid PRIMARY KEY,
  creator text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('email', 'sms', 'future')),
  senders_reference text,
  idempotency_id text,
  requested_send_time timestamptz NOT NULL,
  created timestamptz NOT NULL,
  cancelled boolean NOT NULL DEFAULT false,
  request jsonb NOT NULL,
  response jsonb NOT NULL
);
CREATE UNIQUE INDEX notification_orders_idempotency ON notification_orders (creator, idempotency_id)
  WHERE idempotency_id IS NOT NULL;
CREATE INDEX notification_orders_reference ON notification_orders (creator, senders_reference);
-- One row per recipient and channel of an order: what Altinn would send, with its (never advancing) status.
CREATE TABLE notification_messages (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES notification_orders (id) ON DELETE CASCADE,
  position integer NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  email_address text,
  mobile_number text,
  organization_number text,
  national_identity_number text,
  status text NOT NULL,
  last_update timestamptz NOT NULL
);
CREATE INDEX notification_messages_order ON notification_messages (order_id, position);
`,
  },
];
