import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../platform/src/db/index.js';
import { createPlatformAuth } from '../../../platform/src/index.js';
import { silentLogger } from '../../../platform/src/logging/index.js';
import { openTestDatabase } from '../../../test/support/database.js';
import { problemOf, TEST_ISSUER } from '../../../test/support/storage.js';
import { NOTIFICATIONS_CREATE_SCOPE } from './access.js';
import { createNotificationsApi, NOTIFICATIONS_PREFIX } from './index.js';

let db: Database;
let api: ReturnType<typeof createNotificationsApi>;
let app: Record<string, string>;
let otherApp: Record<string, string>;
let ttdWithScope: Record<string, string>;
let ttdWithoutScope: Record<string, string>;
let user: Record<string, string>;
let clock = new Date('2026-03-01T12:00:00Z');

beforeAll(async () => {
  db = await openTestDatabase();
  const auth = createPlatformAuth(db, TEST_ISSUER);
  api = createNotificationsApi({ db, logger: silentLogger, verifier: auth.verifier, now: () => clock });
  app = { PlatformAccessToken: await auth.issuer.accessToken({ org: 'ttd', app: 'frontend-test' }) };
  otherApp = { PlatformAccessToken: await auth.issuer.accessToken({ org: 'skd', app: 'skjema' }) };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  ttdWithScope = bearer(await auth.issuer.orgToken({ org: 'ttd', scopes: [NOTIFICATIONS_CREATE_SCOPE] }));
  ttdWithoutScope = bearer(await auth.issuer.orgToken({ org: 'ttd', scopes: [] }));
  user = bearer(await auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 }));
});
afterAll(() => db.close());

const send = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  api.request(`${NOTIFICATIONS_PREFIX}/${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const emailOrder = {
  subject: 'Hei',
  body: 'Skjemaet er mottatt',
  sendersReference: 'ref-1',
  recipients: [{ emailAddress: 'sophie@example.no' }, { nationalIdentityNumber: '01817550181' }],
  contentType: 'Plain',
  requestedSendTime: '2026-03-01T12:00:00.0000000Z',
};

describe('orders', () => {
  it('records an email order from an app, answers 202 with the id, and reports its notifications as New', async () => {
    const response = await send('POST', 'orders/email', app, emailOrder);
    expect(response.status).toBe(202);
    const { orderId } = (await response.json()) as { orderId: string };
    expect(response.headers.get('location')).toMatch(new RegExp(`/notifications/api/v1/orders/${orderId}$`));
    const summary = await send('GET', `orders/${orderId}/notifications/email`, app);
    expect(summary.status).toBe(200);
    expect(await summary.json()).toMatchObject({
      orderId,
      sendersReference: 'ref-1',
      generated: 2,
      succeeded: 0,
      notifications: [
        { succeeded: false, recipient: { emailAddress: 'sophie@example.no' }, sendStatus: { status: 'New' } },
        { recipient: { nationalIdentityNumber: '01817550181' }, sendStatus: { status: 'New' } },
      ],
    });
    const order = (await (await send('GET', `orders/${orderId}`, ttdWithScope)).json()) as Record<string, unknown>;
    expect(order).toMatchObject({ id: orderId, creator: 'ttd', notificationChannel: 'Email' });
  });

  it('records an SMS order as app-lib sends it (organisationNumber is not a field Altinn reads)', async () => {
    const response = await send('POST', 'orders/sms', app, {
      senderNumber: 'Altinn',
      body: 'Hei',
      requestedSendTime: '2026-03-01T12:00:00Z',
      sendersReference: 'sms-1',
      recipients: [{ mobileNumber: '+4799000001', organisationNumber: null, nationalIdentityNumber: null }],
    });
    expect(response.status).toBe(202);
    const { orderId } = (await response.json()) as { orderId: string };
    const summary = (await (await send('GET', `orders/${orderId}/notifications/sms`, app)).json()) as {
      notifications: { recipient: { mobileNumber: string } }[];
    };
    expect(summary.notifications.map((n) => n.recipient.mobileNumber)).toEqual(['+4799000001']);
  });

  it('refuses without a token (401), a user or an org token without the scope (403), recording nothing', async () => {
    const before = (await db.query('SELECT 1 FROM notification_orders')).length;
    expect((await send('POST', 'orders/email', {}, emailOrder)).status).toBe(401);
    expect((await send('POST', 'orders/email', user, emailOrder)).status).toBe(403);
    expect((await send('POST', 'orders/email', ttdWithoutScope, emailOrder)).status).toBe(403);
    expect((await send('POST', 'orders/email', { PlatformAccessToken: 'nope' }, emailOrder)).status).toBe(401);
    expect((await send('POST', 'orders/email', ttdWithScope, emailOrder)).status).toBe(202);
    expect((await db.query('SELECT 1 FROM notification_orders')).length).toBe(before + 1);
  });

  it('answers 400 for no recipients, a bad address, an old send time or combined identities', async () => {
    for (const body of [
      { ...emailOrder, recipients: [] },
      { ...emailOrder, recipients: [{ emailAddress: 'not-an-address' }] },
      { ...emailOrder, requestedSendTime: '2026-03-01T11:00:00Z' },
      { ...emailOrder, requestedSendTime: '2026-03-01T12:00:00' },
      { ...emailOrder, recipients: [{ emailAddress: 'a@b.no', nationalIdentityNumber: '01817550181' }] },
      { ...emailOrder, subject: '' },
    ]) {
      const response = await send('POST', 'orders/email', app, body);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it("hides another org's order (404)", async () => {
    const { orderId } = (await (await send('POST', 'orders/email', app, emailOrder)).json()) as { orderId: string };
    expect((await send('GET', `orders/${orderId}`, otherApp)).status).toBe(404);
    expect((await send('GET', `orders/${orderId}/notifications/email`, otherApp)).status).toBe(404);
    expect((await send('PUT', `orders/${orderId}/cancel`, otherApp)).status).toBe(404);
  });
});

describe('future orders and cancelling', () => {
  const futureOrder = (idempotencyId: string) => ({
    idempotencyId,
    sendersReference: 'inst-1',
    requestedSendTime: '2026-03-08T12:00:00Z',
    recipient: {
      recipientPerson: {
        nationalIdentityNumber: '01817550181',
        channelSchema: 'EmailAndSms',
        ignoreReservation: false,
        emailSettings: { subject: 'Påminnelse', body: 'Husk skjemaet', contentType: 'Plain' },
        smsSettings: { body: 'Husk skjemaet', sendingTimePolicy: 'Daytime' },
      },
    },
    reminders: [
      {
        delayDays: 7,
        recipient: {
          recipientEmail: {
            emailAddress: 'sophie@example.no',
            emailSettings: { subject: 'Igjen', body: 'Husk', contentType: 'Html' },
          },
        },
      },
    ],
  });

  it('answers 201 the first time and 200 with the same answer for the same idempotencyId', async () => {
    const first = await send('POST', 'future/orders', app, futureOrder('idem-1'));
    expect(first.status).toBe(201);
    const body = (await first.json()) as { notificationOrderId: string; notification: { reminders: unknown[] } };
    expect(body.notification.reminders).toHaveLength(1);
    const again = await send('POST', 'future/orders', app, futureOrder('idem-1'));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(body);
    const order = (await (await send('GET', `orders/${body.notificationOrderId}`, app)).json()) as {
      notificationChannel: string;
      notificationsStatusSummary: { email: { generated: number }; sms: { generated: number } };
    };
    expect(order.notificationChannel).toBe('EmailAndSms');
    expect(order.notificationsStatusSummary.email.generated).toBe(2);
    expect(order.notificationsStatusSummary.sms.generated).toBe(1);
  });

  it('cancels an order before its send time (200) and refuses after it (409)', async () => {
    const { notificationOrderId } = (await (
      await send('POST', 'future/orders', app, futureOrder('idem-2'))
    ).json()) as {
      notificationOrderId: string;
    };
    const cancelled = await send('PUT', `orders/${notificationOrderId}/cancel`, app);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ processingStatus: { status: 'Cancelled' } });
    const { orderId } = (await (await send('POST', 'orders/email', app, emailOrder)).json()) as { orderId: string };
    clock = new Date('2026-03-01T12:01:00Z');
    const late = await send('PUT', `orders/${orderId}/cancel`, app);
    expect(late.status).toBe(409);
    expect((await problemOf(late)).detail).toMatch(/send time has passed/);
  });

  it('answers 400 for a recipient with two kinds or none', async () => {
    const order = futureOrder('idem-3');
    const both = {
      ...order,
      recipient: { ...order.recipient, recipientSms: { phoneNumber: '+4799000001', smsSettings: { body: 'x' } } },
    };
    expect((await send('POST', 'future/orders', app, both)).status).toBe(400);
    expect((await send('POST', 'future/orders', app, { ...order, recipient: {} })).status).toBe(400);
  });
});
