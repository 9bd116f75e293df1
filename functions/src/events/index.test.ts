import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../platform/src/db/index.js';
import { createPlatformAuth, type PlatformAuth } from '../../../platform/src/index.js';
import { silentLogger } from '../../../platform/src/logging/index.js';
import { openTestDatabase } from '../../../test/support/database.js';
import { problemOf, TEST_ISSUER } from '../../../test/support/storage.js';
import { createEventsApi, EVENTS_PREFIX } from './index.js';
import type { CloudEvent, Subscription } from './schemas.js';

let db: Database;
let auth: PlatformAuth;
let api: ReturnType<typeof createEventsApi>;
let user: Record<string, string>;
let ttd: Record<string, string>;
let skd: Record<string, string>;
let appToken: string;

const INSTANCE = '510001/5d9e906b-83ed-44df-85a7-2f104c640bff';
const SOURCE = `https://ttd.apps.altinn.no/ttd/frontend-test/instances/${INSTANCE}`;

beforeAll(async () => {
  db = await openTestDatabase();
  auth = createPlatformAuth(db, TEST_ISSUER);
  api = createEventsApi({ db, logger: silentLogger, verifier: auth.verifier });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  user = bearer(await auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 }));
  ttd = bearer(await auth.issuer.orgToken({ org: 'ttd', scopes: [] }));
  skd = bearer(await auth.issuer.orgToken({ org: 'skd', scopes: [] }));
  appToken = await auth.issuer.accessToken({ org: 'ttd', app: 'frontend-test' });
});
afterAll(() => db.close());

const send = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  api.request(`${EVENTS_PREFIX}/${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

const event = (overrides: Record<string, unknown> = {}) => ({
  id: null,
  source: SOURCE,
  specversion: '1.0',
  type: 'app.instance.created',
  subject: '/party/510001',
  time: '2026-01-01T10:00:00.1234567Z',
  alternativesubject: '/person/01817550181',
  data: null,
  dataschema: null,
  contenttype: null,
  ...overrides,
});

const publish = (body: unknown, headers: Record<string, string> = { ...user, PlatformAccessToken: appToken }) =>
  send('POST', 'app', headers, body);

describe('POST app', () => {
  it('records the event with an id and time of its own and answers 201 with the id', async () => {
    const response = await publish(event());
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/party/510001');
    const id = (await response.json()) as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [row] = await db.query<{ type: string; resource_instance: string }>(
      'SELECT type, resource_instance FROM app_events WHERE id = $1',
      [id],
    );
    expect(row).toEqual({ type: 'app.instance.created', resource_instance: INSTANCE });
  });

  it('answers 401 without a token and 403 without the PlatformAccessToken, recording nothing', async () => {
    const before = await db.query('SELECT 1 FROM app_events');
    expect((await publish(event(), {})).status).toBe(401);
    const missing = await publish('', user);
    expect(missing.status).toBe(403);
    expect((await problemOf(missing)).detail).toMatch(/PlatformAccessToken/);
    expect(await db.query('SELECT 1 FROM app_events')).toHaveLength(before.length);
  });

  it('answers 401 when the source is not an instance of the calling app', async () => {
    for (const source of [
      'https://skd.apps.altinn.no/skd/frontend-test/instances/1/2',
      'https://ttd.apps.altinn.no/ttd/frontend-test2/instances/1/2',
    ]) {
      const response = await publish(event({ source }));
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('answers 400 for missing subject, type or source and bad specversion', async () => {
    for (const body of [
      event({ subject: null }),
      event({ type: '' }),
      event({ source: 'not a url' }),
      event({ specversion: '0.3' }),
    ]) {
      const response = await publish(body);
      expect(response.status).toBe(400);
    }
  });

  it('answers 413 for a body past the limit', async () => {
    const response = await publish(event({ data: { big: 'x'.repeat(300 * 1024) } }));
    expect(response.status).toBe(413);
  });
});

describe('GET app/{org}/{app}', () => {
  it('lists the app’s events oldest first, after an id, by type, with a next link', async () => {
    const ids: string[] = [];
    for (const type of ['a.first', 'a.second', 'a.third']) {
      ids.push((await (await publish(event({ type, subject: '/party/510002' }))).json()) as string);
    }
    const all = await send('GET', 'app/ttd/frontend-test?from=2000-01-01T00:00:00Z&party=510002&size=2', ttd);
    expect(all.status).toBe(200);
    const page = (await all.json()) as CloudEvent[];
    expect(page.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(page[0]).toMatchObject({
      specversion: '1.0',
      source: SOURCE,
      subject: '/party/510002',
      resource: 'urn:altinn:resource:app_ttd_frontend-test',
      resourceinstance: INSTANCE,
      alternativesubject: '/person/01817550181',
    });
    const next = all.headers.get('next') ?? '';
    expect(next).toContain(`after=${ids[1]}`);
    const rest = (await (await send('GET', `app/ttd/frontend-test?${next.split('?')[1]}`, ttd)).json()) as CloudEvent[];
    expect(rest.map((e) => e.id)).toEqual([ids[2]]);
    const typed = (await (
      await send('GET', `app/ttd/frontend-test?after=${ids[0]}&type=a.third&type=a.first`, ttd)
    ).json()) as CloudEvent[];
    expect(typed.map((e) => e.id)).toEqual([ids[2]]);
  });

  it('answers 400 without after or from, for a from without time zone and for a bad unit', async () => {
    for (const query of ['', 'from=2024-01-01T00:00:00', 'from=2024-01-01T00:00:00Z&unit=12', 'after=x&size=0']) {
      expect((await send('GET', `app/ttd/frontend-test?${query}`, ttd)).status).toBe(400);
    }
  });

  it('answers 401 to a user and 403 to another org', async () => {
    expect((await send('GET', 'app/ttd/frontend-test?from=2024-01-01T00:00:00Z', user)).status).toBe(401);
    expect((await send('GET', 'app/ttd/frontend-test?from=2024-01-01T00:00:00Z', skd)).status).toBe(403);
  });
});

describe('subscriptions', () => {
  const request = {
    EndPoint: 'https://ttd.apps.altinn.no/ttd/frontend-test/api/v1/eventsreceiver?code=secret',
    SourceFilter: 'https://ttd.apps.altinn.no/ttd/frontend-test',
    TypeFilter: 'app.eformidling.reminder.checkinstancestatus',
  };

  it('records an org’s subscription to its app and lists, reads and deletes it', async () => {
    const created = await send('POST', 'subscriptions', ttd, request);
    expect(created.status).toBe(201);
    const subscription = (await created.json()) as Subscription;
    expect(subscription).toMatchObject({
      endPoint: request.EndPoint,
      sourceFilter: request.SourceFilter,
      typeFilter: request.TypeFilter,
      resourceFilter: 'urn:altinn:resource:app_ttd_frontend-test',
      consumer: '/org/ttd',
      createdBy: '/org/ttd',
    });
    expect(Number.isInteger(subscription.id)).toBe(true);
    expect(created.headers.get('location')).toBe(`/events/api/v1/subscription/${subscription.id}`);
    const list = (await (await send('GET', 'subscriptions', ttd)).json()) as {
      count: number;
      subscriptions: Subscription[];
    };
    expect(list.subscriptions.map((s) => s.id)).toContain(subscription.id);
    expect((await send('GET', `subscriptions/${subscription.id}`, skd)).status).toBe(403);
    expect((await send('DELETE', `subscriptions/${subscription.id}`, skd)).status).toBe(403);
    expect((await send('GET', `subscriptions/${subscription.id}`, ttd)).status).toBe(200);
    expect((await send('DELETE', `subscriptions/${subscription.id}`, ttd)).status).toBe(200);
    expect((await send('GET', `subscriptions/${subscription.id}`, ttd)).status).toBe(404);
  });

  it('refuses another org’s app (403), a bad endpoint or source (400) and no token (401)', async () => {
    expect((await send('POST', 'subscriptions', skd, request)).status).toBe(403);
    expect((await send('POST', 'subscriptions', ttd, { ...request, EndPoint: 'http://evil.example/x' })).status).toBe(
      400,
    );
    expect((await send('POST', 'subscriptions', ttd, { ...request, SourceFilter: 'https://x/ttd' })).status).toBe(400);
    expect((await send('POST', 'subscriptions', {}, request)).status).toBe(401);
  });

  it('lets a user subscribe to their own party only', async () => {
    expect((await send('POST', 'subscriptions', user, request)).status).toBe(400);
    expect((await send('POST', 'subscriptions', user, { ...request, subjectFilter: '/party/510002' })).status).toBe(
      403,
    );
    expect((await send('POST', 'subscriptions', user, { ...request, subjectFilter: '/party/510001' })).status).toBe(
      201,
    );
  });
});
