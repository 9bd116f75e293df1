import { beforeAll, describe, expect, it } from 'vitest';
import { NOTIFICATIONS_CREATE_SCOPE } from '../../functions/src/notifications/access.js';
import { pdfGeneratorRequest } from '../support/pdf-request.js';
import { bearer, jsonBody, ORG_SCOPES, TTD, USERS, useReplayHost } from './harness.js';

/**
 * Replays of the Events, Notifications and PDF generator calls Altinn's app library (v8.12.7) makes, byte for byte
 * as it builds them, against a running functions host. Chromium is not launched here (CHROMIUM_PATH points
 * nowhere): the full PDF render is replayed in external.browser.test.ts.
 */

const MISSING_CHROMIUM = '/nonexistent/chromium-for-replay';
const host = useReplayHost({ CHROMIUM_PATH: MISSING_CHROMIUM });

const APP = 'frontend-test';
const INSTANCE = `${USERS.sophie.partyId}/0fc98a23-fe31-4ef5-8fb9-dd3f479354ef`;
/** `GeneralSettings.FormattedExternalAppBaseUrl` with app-lib's local default host. */
const APP_BASE = `http://${TTD.org}.apps.local.altinn.cloud/${TTD.org}/${APP}/`;
/** `PlatformSettings.SubscriptionKey`, added to every Events request by the client's constructor. */
const SUBSCRIPTION_KEY = { 'Ocp-Apim-Subscription-Key': 'replay-subscription-key' };
/** `Accept: application/json`, added by each client. */
const ACCEPT_JSON = { Accept: 'application/json' };

let userToken: string;
let orgToken: string;
let accessToken: string;

beforeAll(async () => {
  userToken = await host.userToken(USERS.sophie.ssn);
  orgToken = await host.orgToken([...ORG_SCOPES]);
  // The app's PlatformAccessToken (app-lib's AccessTokenGenerator), here as the platform issues it for ttd's apps.
  const response = await host.send('GET', `/authentication/api/v1/accesstoken/${TTD.org}/${APP}`, {
    headers: bearer(orgToken),
  });
  expect(response.status).toBe(200);
  accessToken = await response.text();
});

const countRows = async (table: 'app_events' | 'event_subscriptions' | 'notification_orders') =>
  Number((await host.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))[0]?.n);

/** The CloudEvent `EventsClient.AddEvent` serializes (System.Text.Json defaults: declared order, nulls written). */
const cloudEvent = (type: string, source = `${APP_BASE}instances/${INSTANCE}`) =>
  JSON.stringify({
    id: null,
    source,
    specversion: '1.0',
    type,
    subject: `/party/${USERS.sophie.partyId}`,
    time: '2026-12-07T10:15:30.1234567Z',
    alternativesubject: `/person/${USERS.sophie.ssn}`,
    data: null,
    dataschema: null,
    contenttype: null,
  });

/** `HttpClientExtension.PostAsync(token, "app", StringContent(json, UTF8, "application/json"), accessToken)`. */
const addEventHeaders = (withAccessToken = true): Record<string, string> => ({
  ...SUBSCRIPTION_KEY,
  ...ACCEPT_JSON,
  ...bearer(userToken),
  ...(withAccessToken ? { PlatformAccessToken: accessToken } : {}),
  'Content-Type': 'application/json; charset=utf-8',
});

describe('Events', () => {
  // src/Altinn.App.Core/Infrastructure/Clients/Events/EventsClient.cs AddEvent
  it('POST events/api/v1/app records the event and answers 201 with its id', async () => {
    const response = await host.send('POST', '/events/api/v1/app', {
      headers: addEventHeaders(),
      body: cloudEvent('app.instance.process.completed'),
    });
    expect(response.status).toBe(201);
    // app-lib returns the body as text: the id Altinn Events assigned (a JSON string).
    const id = JSON.parse(await response.text()) as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [row] = await host.db.query<{ org: string; app: string; type: string }>(
      'SELECT org, app, type FROM app_events WHERE id = $1',
      [id],
    );
    expect(row).toEqual({ org: TTD.org, app: APP, type: 'app.instance.process.completed' });
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Events/EventsClient.cs AddEvent (bad paths)
  it('refuses without the PlatformAccessToken (403), for another app (401) or without a token (401), writing nothing', async () => {
    const before = await countRows('app_events');
    const noAccessToken = await host.send('POST', '/events/api/v1/app', {
      headers: addEventHeaders(false),
      body: cloudEvent('app.instance.created'),
    });
    expect(noAccessToken.status).toBe(403);
    expect(noAccessToken.headers.get('content-type')).toBe('application/problem+json');
    const otherApp = await host.send('POST', '/events/api/v1/app', {
      headers: addEventHeaders(),
      body: cloudEvent(
        'app.instance.created',
        `http://ttd.apps.local.altinn.cloud/ttd/other-app/instances/${INSTANCE}`,
      ),
    });
    expect(otherApp.status).toBe(401);
    const { Authorization: _, ...anonymous } = addEventHeaders();
    expect((await host.send('POST', '/events/api/v1/app', { headers: anonymous, body: cloudEvent('x') })).status).toBe(
      401,
    );
    expect(await countRows('app_events')).toBe(before);
  });

  // Altinn Events' consumer API (AppController.GetForOrg), read by the app's org after EventsClient.AddEvent
  it('GET events/api/v1/app/{org}/{app} lists the recorded events to the app’s org', async () => {
    const response = await host.send(
      'GET',
      `/events/api/v1/app/${TTD.org}/${APP}?from=2000-01-01T00:00:00Z&party=${USERS.sophie.partyId}`,
      { headers: { ...ACCEPT_JSON, ...bearer(orgToken) } },
    );
    expect(response.status).toBe(200);
    const events = (await response.json()) as { type: string; source: string; specversion: string }[];
    expect(events.map((e) => e.type)).toContain('app.instance.process.completed');
    expect(events[0]).toMatchObject({ specversion: '1.0', source: `${APP_BASE}instances/${INSTANCE}` });
    expect(response.headers.get('next')).toContain('after=');
  });

  /** `SubscriptionRequest` as `EventsSubscriptionClient.AddSubscription` serializes it: STJ defaults, PascalCase. */
  const subscriptionRequest = jsonBody({
    EndPoint: `${APP_BASE}api/v1/eventsreceiver?code=secret-code`,
    SourceFilter: APP_BASE.replace(/\/$/, ''),
    TypeFilter: 'app.eformidling.reminder.checkinstancestatus',
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Events/EventsSubscriptionClient.cs AddSubscription
  it('POST events/api/v1/subscriptions with the org’s Maskinporten token answers 201 with the Subscription', async () => {
    const response = await host.send('POST', '/events/api/v1/subscriptions', {
      headers: { ...SUBSCRIPTION_KEY, ...ACCEPT_JSON, ...bearer(orgToken), ...subscriptionRequest.headers },
      body: subscriptionRequest.body,
    });
    expect(response.status).toBe(201);
    const subscription = (await response.json()) as Record<string, unknown>;
    // app-lib reads Subscription case-insensitively: Id must be an int, Created a date.
    expect(Number.isInteger(subscription.id)).toBe(true);
    expect(Number.isNaN(Date.parse(String(subscription.created)))).toBe(false);
    expect(subscription).toMatchObject({
      sourceFilter: APP_BASE.replace(/\/$/, ''),
      typeFilter: 'app.eformidling.reminder.checkinstancestatus',
      consumer: `/org/${TTD.org}`,
    });
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Events/EventsSubscriptionClient.cs AddSubscription (no Maskinporten handler)
  it('POST events/api/v1/subscriptions without a token answers 401, as Altinn does for app-lib’s bare client', async () => {
    const before = await countRows('event_subscriptions');
    const response = await host.send('POST', '/events/api/v1/subscriptions', {
      headers: { ...SUBSCRIPTION_KEY, ...ACCEPT_JSON, ...subscriptionRequest.headers },
      body: subscriptionRequest.body,
    });
    expect(response.status).toBe(401);
    expect(await countRows('event_subscriptions')).toBe(before);
  });
});

/** `new StringContent(body, new MediaTypeHeaderValue("application/json"))` with Accept and the PlatformAccessToken. */
const notificationHeaders = (): Record<string, string> => ({
  ...ACCEPT_JSON,
  PlatformAccessToken: accessToken,
  'Content-Type': 'application/json',
});

describe('Notifications', () => {
  let emailOrderId = '';

  // src/Altinn.App.Core/Features/Notifications/Email/EmailNotificationClient.cs Order
  it('POST notifications/api/v1/orders/email answers 202 { orderId } and the order is readable', async () => {
    const response = await host.send('POST', '/notifications/api/v1/orders/email', {
      headers: notificationHeaders(),
      body: JSON.stringify({
        subject: 'Kvittering',
        body: 'Skjemaet er sendt inn.',
        sendersReference: `app-${INSTANCE}`,
        recipients: [{ emailAddress: 'sophie.salt@test.local' }],
        contentType: 'Plain',
        requestedSendTime: new Date().toISOString().replace('Z', '0000Z'),
      }),
    });
    expect(response.status).toBe(202);
    emailOrderId = ((await response.json()) as { orderId: string }).orderId;
    expect(emailOrderId).toMatch(/^[0-9a-f-]{36}$/);
    const summary = await host.send('GET', `/notifications/api/v1/orders/${emailOrderId}/notifications/email`, {
      headers: { ...ACCEPT_JSON, PlatformAccessToken: accessToken },
    });
    expect(summary.status).toBe(200);
    expect(await summary.json()).toMatchObject({
      orderId: emailOrderId,
      generated: 1,
      notifications: [{ recipient: { emailAddress: 'sophie.salt@test.local' }, sendStatus: { status: 'New' } }],
    });
  });

  // src/Altinn.App.Core/Features/Notifications/Sms/SmsNotificationClient.cs Order
  it('POST notifications/api/v1/orders/sms answers 202 { orderId }', async () => {
    const response = await host.send('POST', '/notifications/api/v1/orders/sms', {
      headers: notificationHeaders(),
      body: JSON.stringify({
        senderNumber: 'Altinn',
        body: 'Skjemaet er sendt inn.',
        requestedSendTime: new Date().toISOString(),
        sendersReference: `app-${INSTANCE}`,
        recipients: [{ mobileNumber: '+4799000001', organisationNumber: null, nationalIdentityNumber: null }],
      }),
    });
    expect(response.status).toBe(202);
    expect((await response.json()) as { orderId: string }).toHaveProperty('orderId');
  });

  /** `NotificationService.CreateNotificationOrderRequest` for a person, serialized with STJ defaults (enums as numbers). */
  const futureOrder = () =>
    JSON.stringify({
      idempotencyId: `${INSTANCE}-init`,
      sendersReference: `app-${INSTANCE}`,
      requestedSendTime: new Date(Date.now() + 5 * 60_000).toISOString().replace('Z', '+00:00'),
      conditionEndpoint: `${APP_BASE}api/v1/notifications/condition?code=abc`,
      recipient: {
        recipientPerson: {
          nationalIdentityNumber: USERS.sophie.ssn,
          resourceId: `urn:altinn:resource:app_${TTD.org}_${APP}`,
          channelSchema: 2,
          ignoreReservation: false,
          emailSettings: { subject: 'Du har et skjema', body: 'Fyll ut skjemaet', contentType: 0 },
          smsSettings: { sender: 'Altinn', body: 'Fyll ut skjemaet', sendingTimePolicy: 1 },
        },
      },
      reminders: null,
    });

  let chainId = '';

  // src/Altinn.App.Core/Features/Notifications/Future/NotificationOrderClient.cs Order
  it('POST notifications/api/v1/future/orders answers 201, then 200 with the same ids for the same idempotencyId', async () => {
    const first = await host.send('POST', '/notifications/api/v1/future/orders', {
      headers: notificationHeaders(),
      body: futureOrder(),
    });
    expect(first.status).toBe(201);
    const body = (await first.json()) as { notificationOrderId: string; notification: { shipmentId: string } };
    expect(body.notification.shipmentId).toMatch(/^[0-9a-f-]{36}$/);
    chainId = body.notificationOrderId;
    const again = await host.send('POST', '/notifications/api/v1/future/orders', {
      headers: notificationHeaders(),
      body: futureOrder(),
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(body);
  });

  // src/Altinn.App.Core/Features/Notifications/Order/NotificationCancelClient.cs Cancel
  it('PUT notifications/api/v1/orders/{id}/cancel cancels the order (200)', async () => {
    const response = await host.send('PUT', `/notifications/api/v1/orders/${chainId}/cancel`, {
      headers: { ...ACCEPT_JSON, PlatformAccessToken: accessToken },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: chainId, processingStatus: { status: 'Cancelled' } });
  });

  // src/Altinn.App.Core/Features/Notifications/Email/EmailNotificationClient.cs Order (bad paths)
  it('refuses an order without a PlatformAccessToken (401), from a user alone (403) or invalid (400), storing nothing', async () => {
    const before = await countRows('notification_orders');
    const order = JSON.stringify({ subject: 's', body: 'b', sendersReference: 'r', recipients: [] });
    const { PlatformAccessToken: _, ...bare } = notificationHeaders();
    expect((await host.send('POST', '/notifications/api/v1/orders/email', { headers: bare, body: order })).status).toBe(
      401,
    );
    const asUser = await host.send('POST', '/notifications/api/v1/orders/email', {
      headers: { ...bare, ...bearer(userToken) },
      body: order,
    });
    expect(asUser.status).toBe(403);
    const invalid = await host.send('POST', '/notifications/api/v1/orders/email', {
      headers: notificationHeaders(),
      body: order,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toBe('application/problem+json');
    expect(await countRows('notification_orders')).toBe(before);
  });

  // Altinn Notifications' own callers: an org token with the notifications scope instead of a PlatformAccessToken
  it('takes an org token with altinn:serviceowner/notifications.create too', async () => {
    const scoped = await host.orgToken([NOTIFICATIONS_CREATE_SCOPE]);
    const response = await host.send('GET', `/notifications/api/v1/orders/${emailOrderId}`, {
      headers: { ...ACCEPT_JSON, ...bearer(scoped) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: emailOrderId, creator: TTD.org });
  });
});

/** `PdfGeneratorRequest` as `PdfGeneratorClient.GeneratePdf` serializes it (STJ, camelCase, declared order). */
const pdfRequest = (url: string, token: string) => JSON.stringify(pdfGeneratorRequest(url, token));

/** `_httpClient.PostAsync(ApiPdf2Endpoint, new StringContent(json, Encoding.UTF8, "application/json"))`: no auth. */
const PDF_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

describe('PDF generator', () => {
  const page = `http://127.0.0.1:5005/${TTD.org}/${APP}/#/instance/${INSTANCE}?pdf=1`;

  // src/Altinn.App.Core/Infrastructure/Clients/Pdf/PdfGeneratorClient.cs GeneratePdf (no Chromium on the host)
  it('POST /pdf answers 503 naming the missing Chromium binary', async () => {
    const response = await host.send('POST', '/pdf', { headers: PDF_HEADERS, body: pdfRequest(page, userToken) });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(((await response.json()) as { detail: string }).detail).toContain(MISSING_CHROMIUM);
  });

  // src/Altinn.App.Core/Infrastructure/Clients/Pdf/PdfGeneratorClient.cs GeneratePdf (bad paths)
  it('refuses pages outside the app hosts (403), a missing or invalid user token (401) and bad options (400)', async () => {
    const metadata = await host.send('POST', '/pdf', {
      headers: PDF_HEADERS,
      body: pdfRequest('http://169.254.169.254/latest/meta-data/', userToken),
    });
    expect(metadata.status).toBe(403);
    const foreign = await host.send('POST', '/pdf', {
      headers: PDF_HEADERS,
      body: pdfRequest('https://example.com/', userToken),
    });
    expect(foreign.status).toBe(403);
    const forged = await host.send('POST', '/pdf', { headers: PDF_HEADERS, body: pdfRequest(page, 'not.a.token') });
    expect(forged.status).toBe(401);
    const noCookie = JSON.parse(pdfRequest(page, userToken)) as { cookies: unknown[] };
    noCookie.cookies = [];
    expect((await host.send('POST', '/pdf', { headers: PDF_HEADERS, body: JSON.stringify(noCookie) })).status).toBe(
      401,
    );
    const badFormat = JSON.parse(pdfRequest(page, userToken)) as { options: { format: string } };
    badFormat.options.format = 'Q9';
    expect((await host.send('POST', '/pdf', { headers: PDF_HEADERS, body: JSON.stringify(badFormat) })).status).toBe(
      400,
    );
  });
});
