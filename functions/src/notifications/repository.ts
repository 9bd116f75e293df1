import type { Queryable } from '../../../platform/src/db/index.js';

/** The channels a notification goes by. */
export type Channel = 'email' | 'sms';

/** One notification an order would send: a channel and whom to, by address or by identity. */
export interface NewMessage {
  id: string;
  channel: Channel;
  emailAddress?: string | null | undefined;
  mobileNumber?: string | null | undefined;
  organizationNumber?: string | null | undefined;
  nationalIdentityNumber?: string | null | undefined;
}

/** An order to record with its notifications and the answer given, so a repeated request gets the same one. */
export interface NewOrder {
  id: string;
  creator: string;
  kind: 'email' | 'sms' | 'future';
  sendersReference: string | null;
  idempotencyId: string | null;
  requestedSendTime: Date;
  created: Date;
  request: unknown;
  response: unknown;
  messages: readonly NewMessage[];
}

/** A recorded order. */
export interface StoredOrder {
  id: string;
  creator: string;
  kind: 'email' | 'sms' | 'future';
  sendersReference: string | null;
  requestedSendTime: Date;
  created: Date;
  cancelled: boolean;
  response: unknown;
}

/** A recorded notification of an order. */
export interface StoredMessage {
  id: string;
  channel: Channel;
  emailAddress: string | null;
  mobileNumber: string | null;
  organizationNumber: string | null;
  nationalIdentityNumber: string | null;
  status: string;
  lastUpdate: Date;
}

type OrderRow = {
  id: string;
  creator: string;
  kind: StoredOrder['kind'];
  senders_reference: string | null;
  requested_send_time: Date | string;
  created: Date | string;
  cancelled: boolean;
  response: unknown;
};

type MessageRow = {
  id: string;
  channel: Channel;
  email_address: string | null;
  mobile_number: string | null;
  organization_number: string | null;
  national_identity_number: string | null;
  status: string;
  last_update: Date | string;
};

/** Status every recorded notification has: this platform never sends, so none advances. */
export const NEW_STATUS = 'New';

const ORDER_COLUMNS =
  'id::text AS id, creator, kind, senders_reference, requested_send_time, created, cancelled, response';

const toOrder = (row: OrderRow): StoredOrder => ({
  id: row.id,
  creator: row.creator,
  kind: row.kind,
  sendersReference: row.senders_reference,
  requestedSendTime: new Date(row.requested_send_time),
  created: new Date(row.created),
  cancelled: row.cancelled,
  response: typeof row.response === 'string' ? JSON.parse(row.response) : row.response,
});

/** Notification orders and their notifications, in `notification_orders` and `notification_messages`. */
export function notificationsRepository(db: Queryable) {
  return {
    /**
     * Records an order and its notifications in one transaction. With an idempotency id already used by the
     * creator, records nothing and answers the earlier order instead (`created: false`).
     */
    async insertOrder(order: NewOrder): Promise<{ created: boolean; order: StoredOrder }> {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<OrderRow>(
          `INSERT INTO notification_orders (id, creator, kind, senders_reference, idempotency_id, requested_send_time,
             created, request, response)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
           ON CONFLICT (creator, idempotency_id) WHERE idempotency_id IS NOT NULL DO NOTHING
           RETURNING ${ORDER_COLUMNS}`,
          [
            order.id,
            order.creator,
            order.kind,
            order.sendersReference,
            order.idempotencyId,
            order.requestedSendTime,
            order.created,
            JSON.stringify(order.request),
            JSON.stringify(order.response),
          ],
        );
        if (!row) {
          const [earlier] = await tx.query<OrderRow>(
            `SELECT ${ORDER_COLUMNS} FROM notification_orders WHERE creator = $1 AND idempotency_id = $2`,
            [order.creator, order.idempotencyId],
          );
          if (!earlier) throw new Error('idempotent notification order vanished');
          return { created: false, order: toOrder(earlier) };
        }
        for (const [position, message] of order.messages.entries()) {
          await tx.query(
            `INSERT INTO notification_messages (id, order_id, position, channel, email_address, mobile_number, organization_number,
               national_identity_number, status, last_update)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [
              message.id,
              order.id,
              position,
              message.channel,
              message.emailAddress ?? null,
              message.mobileNumber ?? null,
              message.organizationNumber ?? null,
              message.nationalIdentityNumber ?? null,
              NEW_STATUS,
              order.created,
            ],
          );
        }
        return { created: true, order: toOrder(row) };
      });
    },

    /** The creator's order with this id; undefined when there is none or another creator made it. */
    async order(creator: string, id: string): Promise<StoredOrder | undefined> {
      const [row] = await db.query<OrderRow>(
        `SELECT ${ORDER_COLUMNS} FROM notification_orders WHERE id = $1 AND creator = $2`,
        [id, creator],
      );
      return row ? toOrder(row) : undefined;
    },

    /** An order's notifications on `channel` (all when not given), in the order they were recorded. */
    async messages(orderId: string, channel?: Channel): Promise<StoredMessage[]> {
      const rows = await db.query<MessageRow>(
        `SELECT id::text AS id, channel, email_address, mobile_number, organization_number, national_identity_number,
           status, last_update
         FROM notification_messages WHERE order_id = $1 AND ($2::text IS NULL OR channel = $2::text) ORDER BY position`,
        [orderId, channel ?? null],
      );
      return rows.map((row) => ({
        id: row.id,
        channel: row.channel,
        emailAddress: row.email_address,
        mobileNumber: row.mobile_number,
        organizationNumber: row.organization_number,
        nationalIdentityNumber: row.national_identity_number,
        status: row.status,
        lastUpdate: new Date(row.last_update),
      }));
    },

    /** Marks an order cancelled; false when there is no such order of the creator. */
    async cancel(creator: string, id: string): Promise<boolean> {
      const rows = await db.query(
        'UPDATE notification_orders SET cancelled = true WHERE id = $1 AND creator = $2 RETURNING id',
        [id, creator],
      );
      return rows.length > 0;
    },
  };
}

/** The notifications repository's operations. */
export type NotificationsRepository = ReturnType<typeof notificationsRepository>;
