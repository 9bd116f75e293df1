import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import type { PlatformEnv } from '../../../platform/src/request-context/index.js';
import { creatorOf } from './access.js';
import { type Channel, type NewMessage, notificationsRepository, type StoredOrder } from './repository.js';
import {
  EmailOrderRequest,
  type FutureOrderRequest,
  FutureOrderRequest as FutureOrderRequestSchema,
  FutureOrderResponse,
  type FutureRecipient,
  NotificationSummary,
  type OrderRecipient,
  OrderResponse,
  OrderWithStatus,
  SmsOrderRequest,
} from './schemas.js';

/** How far in the past a requested send time may be, as Altinn Notifications' validator allows. */
export const SEND_TIME_SLACK_MS = 5 * 60_000;

const NOT_SENT = 'Recorded by this platform, which does not send notifications.';

const problem = (description: string) => ({ description, content: problemContent });
const refusals = {
  400: problem('Invalid order; `errors` names each field'),
  401: problem('No valid PlatformAccessToken or token'),
  403: problem('Neither an app nor an org token with altinn:serviceowner/notifications.create'),
};

const orderRoute = (path: '/orders/email' | '/orders/sms', schema: typeof EmailOrderRequest | typeof SmsOrderRequest) =>
  createRoute({
    method: 'post',
    path,
    summary: `Order ${path.endsWith('email') ? 'an email' : 'an SMS'} notification (recorded, not sent)`,
    request: { body: { required: true, content: jsonContent(schema) } },
    responses: {
      202: { description: 'The order is recorded; Location links it', content: jsonContent(OrderResponse) },
      ...refusals,
      413: problem('Body too large'),
    },
  });

const future = createRoute({
  method: 'post',
  path: '/future/orders',
  summary: 'Order a notification with reminders (recorded, not sent); idempotent per idempotencyId',
  request: { body: { required: true, content: jsonContent(FutureOrderRequestSchema) } },
  responses: {
    200: {
      description: 'An order with this idempotencyId existed: its answer',
      content: jsonContent(FutureOrderResponse),
    },
    201: { description: 'The order is recorded', content: jsonContent(FutureOrderResponse) },
    ...refusals,
    413: problem('Body too large'),
  },
});

const IdParams = z.object({ id: z.uuid({ error: 'must be an order id (a GUID)' }) });
const notFoundOrForbidden = { 404: problem('No order with this id made by the caller'), ...refusals };

const orderById = (path: '/orders/{id}' | '/orders/{id}/status') =>
  createRoute({
    method: 'get',
    path,
    summary: 'A notification order of the caller with its processing status',
    request: { params: IdParams },
    responses: { 200: { description: 'The order', content: jsonContent(OrderWithStatus) }, ...notFoundOrForbidden },
  });

const summary = (channel: Channel) =>
  createRoute({
    method: 'get',
    path: `/orders/{id}/notifications/${channel}`,
    summary: `The ${channel} notifications of an order with their send status (always "New": nothing is sent)`,
    request: { params: IdParams },
    responses: {
      200: { description: 'The notifications', content: jsonContent(NotificationSummary) },
      ...notFoundOrForbidden,
    },
  });

const cancel = createRoute({
  method: 'put',
  path: '/orders/{id}/cancel',
  summary: 'Cancel an order whose send time has not come',
  request: { params: IdParams },
  responses: {
    200: { description: 'The cancelled order', content: jsonContent(OrderWithStatus) },
    409: problem('The send time has passed: the order can no longer be cancelled'),
    ...notFoundOrForbidden,
  },
});

/** The send time asked for, or now; 400 when it lies more than the slack in the past. */
function sendTimeOf(requested: string | null | undefined, now: Date): Date {
  if (!requested) return now;
  const time = new Date(requested);
  if (time.getTime() < now.getTime() - SEND_TIME_SLACK_MS) {
    throw new Problem(400, {
      kind: 'validation',
      title: 'Invalid request',
      detail: 'Send time must be in the future. Leave blank to send immediately.',
      errors: [
        { field: 'requestedSendTime', detail: 'Send time must be in the future. Leave blank to send immediately.' },
      ],
    });
  }
  return time;
}

const legacyMessage = (channel: Channel, recipient: OrderRecipient): NewMessage => ({
  id: randomUUID(),
  channel,
  emailAddress: channel === 'email' ? recipient.emailAddress : null,
  mobileNumber: channel === 'sms' ? recipient.mobileNumber : null,
  organizationNumber: recipient.organizationNumber,
  nationalIdentityNumber: recipient.nationalIdentityNumber,
});

const CHANNELS_OF: Record<string, Channel[]> = {
  Email: ['email'],
  EmailPreferred: ['email'],
  Sms: ['sms'],
  SmsPreferred: ['sms'],
  EmailAndSms: ['email', 'sms'],
};

/** The notifications one recipient of a `future/orders` request gets. */
function futureMessages(recipient: FutureRecipient): NewMessage[] {
  const one = (channel: Channel, fields: Partial<NewMessage>): NewMessage => ({ id: randomUUID(), channel, ...fields });
  if (recipient.recipientEmail) return [one('email', { emailAddress: recipient.recipientEmail.emailAddress })];
  if (recipient.recipientSms) return [one('sms', { mobileNumber: recipient.recipientSms.phoneNumber })];
  if (recipient.recipientPerson) {
    const { nationalIdentityNumber, channelSchema } = recipient.recipientPerson;
    return (CHANNELS_OF[channelSchema ?? 'EmailPreferred'] ?? []).map((c) => one(c, { nationalIdentityNumber }));
  }
  if (recipient.recipientOrganization) {
    const { orgNumber, channelSchema } = recipient.recipientOrganization;
    return (CHANNELS_OF[channelSchema] ?? []).map((c) => one(c, { organizationNumber: orgNumber }));
  }
  return (CHANNELS_OF[recipient.recipientExternalIdentity?.channelSchema ?? 'Email'] ?? []).map((c) => one(c, {}));
}

/** Adds the order routes (legacy email and SMS orders, future orders, status and cancel) to Notifications. */
export function addOrderRoutes(api: PlatformApp, options: OrderRoutesOptions): void {
  addOrderCreationRoutes(api, options);
  addOrderReadingRoutes(api, options);
}

/** What the order routes need. */
interface OrderRoutesOptions {
  db: Database;
  now: () => Date;
}

/** The absolute URL of `path` under the Notifications API, on the host the request came to. */
const selfLink = (c: Context<PlatformEnv>, path: string) => `${new URL(c.req.url).origin}/notifications/api/v1/${path}`;

/** Legacy email and SMS orders, and future orders (idempotent by `idempotencyId`). */
function addOrderCreationRoutes(api: PlatformApp, options: OrderRoutesOptions): void {
  const orders = notificationsRepository(options.db);
  for (const [channel, route] of [
    ['email', orderRoute('/orders/email', EmailOrderRequest)],
    ['sms', orderRoute('/orders/sms', SmsOrderRequest)],
  ] as const) {
    api.openapi(route, async (c) => {
      const creator = creatorOf(c);
      const request = c.req.valid('json') as EmailOrderRequest | SmsOrderRequest;
      const now = options.now();
      const id = randomUUID();
      const response = { orderId: id };
      await orders.insertOrder({
        id,
        creator,
        kind: channel,
        sendersReference: request.sendersReference ?? null,
        idempotencyId: null,
        requestedSendTime: sendTimeOf(request.requestedSendTime, now),
        created: now,
        request,
        response,
        messages: request.recipients.map((recipient) => legacyMessage(channel, recipient)),
      });
      c.get('logger')?.info('notification order recorded (not sent)', { creator, channel, orderId: id });
      return c.json(response, 202, { Location: selfLink(c, `orders/${id}`) });
    });
  }

  api.openapi(future, async (c) => {
    const creator = creatorOf(c);
    const request: FutureOrderRequest = c.req.valid('json');
    const now = options.now();
    const id = randomUUID();
    const response = {
      notificationOrderId: id,
      notification: {
        shipmentId: randomUUID(),
        sendersReference: request.sendersReference ?? null,
        reminders: (request.reminders ?? []).map((reminder) => ({
          shipmentId: randomUUID(),
          sendersReference: reminder.sendersReference ?? null,
        })),
      },
    };
    const result = await orders.insertOrder({
      id,
      creator,
      kind: 'future',
      sendersReference: request.sendersReference ?? null,
      idempotencyId: request.idempotencyId,
      requestedSendTime: sendTimeOf(request.requestedSendTime, now),
      created: now,
      request,
      response,
      messages: [
        ...futureMessages(request.recipient),
        ...(request.reminders ?? []).flatMap((reminder) => futureMessages(reminder.recipient)),
      ],
    });
    const answer = result.order.response as typeof response;
    if (!result.created) return c.json(answer, 200);
    return c.json(answer, 201, { Location: selfLink(c, `future/orders/${id}`) });
  });
}

/** An order's status and per-channel summaries, and cancelling it. */
function addOrderReadingRoutes(api: PlatformApp, options: OrderRoutesOptions): void {
  const orders = notificationsRepository(options.db);
  async function owned(c: Context<PlatformEnv>, id: string): Promise<StoredOrder> {
    const order = await orders.order(creatorOf(c), id);
    if (!order) throw new Problem(404, { kind: 'not-found', detail: `No notification order ${id} of this creator.` });
    return order;
  }

  async function withStatus(c: Context<PlatformEnv>, order: StoredOrder) {
    const messages = await orders.messages(order.id);
    const channels = [...new Set(messages.map((m) => m.channel))];
    const status = order.cancelled ? 'Cancelled' : order.requestedSendTime > options.now() ? 'Registered' : 'Completed';
    const count = (channel: Channel) => ({
      links: { self: selfLink(c, `orders/${order.id}/notifications/${channel}`) },
      generated: messages.filter((m) => m.channel === channel).length,
      succeeded: 0,
    });
    return {
      id: order.id,
      creator: order.creator,
      sendersReference: order.sendersReference,
      requestedSendTime: order.requestedSendTime.toISOString(),
      created: order.created.toISOString(),
      notificationChannel: channels.length > 1 ? 'EmailAndSms' : channels[0] === 'sms' ? 'Sms' : 'Email',
      processingStatus: {
        status,
        description: order.cancelled ? 'The order has been cancelled.' : NOT_SENT,
        lastUpdate: order.created.toISOString(),
      },
      notificationsStatusSummary: {
        ...(channels.includes('email') ? { email: count('email') } : {}),
        ...(channels.includes('sms') ? { sms: count('sms') } : {}),
      },
    };
  }

  for (const route of [orderById('/orders/{id}'), orderById('/orders/{id}/status')]) {
    api.openapi(route, async (c) => c.json(await withStatus(c, await owned(c, c.req.valid('param').id)), 200));
  }

  for (const channel of ['email', 'sms'] as const) {
    api.openapi(summary(channel), async (c) => {
      const order = await owned(c, c.req.valid('param').id);
      const messages = await orders.messages(order.id, channel);
      return c.json(
        {
          orderId: order.id,
          sendersReference: order.sendersReference,
          generated: messages.length,
          succeeded: 0,
          notifications: messages.map((m) => ({
            id: m.id,
            succeeded: false,
            recipient: {
              ...(channel === 'email' ? { emailAddress: m.emailAddress } : { mobileNumber: m.mobileNumber }),
              organizationNumber: m.organizationNumber,
              nationalIdentityNumber: m.nationalIdentityNumber,
            },
            sendStatus: { status: m.status, description: NOT_SENT, lastUpdate: m.lastUpdate.toISOString() },
          })),
        },
        200,
      );
    });
  }

  api.openapi(cancel, async (c) => {
    const order = await owned(c, c.req.valid('param').id);
    if (!order.cancelled && order.requestedSendTime <= options.now()) {
      throw new Problem(409, {
        kind: 'conflict',
        detail: 'The order cannot be cancelled: its send time has passed.',
      });
    }
    await orders.cancel(order.creator, order.id);
    return c.json(await withStatus(c, { ...order, cancelled: true }), 200);
  });
}
