import { beforeAll, describe, expect, it } from 'vitest';
import { NOTIFICATIONS_CREATE_SCOPE } from '../../functions/src/notifications/access.js';
import { ORG_SCOPES, TTD, USERS, useReplayHost } from '../altinn/harness.js';
import { API_PREFIXES } from './apis.js';

/**
 * Cross-org and cross-user access on every API, table-driven over the routes each API's OpenAPI document lists:
 * an anonymous caller gets 401, a token of another org (skd, with every scope), another user (Ola, about Sophie's
 * party) or another org's app (its PlatformAccessToken) gets 403 or 404, always problem+json, never the data. A
 * route missing from ROUTES (a new one) fails the inventory test: give it a case, or list it in OPEN with the reason
 * it answers such callers (reviewed).
 */

const OPERATOR_TOKEN = 'operator-token-for-cross-access-tests-0123456789';
const h = useReplayHost({ PROVISIONER_ADMIN_TOKEN: OPERATOR_TOKEN });

const APP = 'crossapp';
const SECRET = 'victim-secret-payload-7f3a';
/** What must never appear in an answer to an attacker. */
const VICTIM_MARKERS = [USERS.sophie.ssn, 'Salt', SECRET, 'victim-order-ref', 'victim-subscription'];

type Attacker = 'anonymous' | 'otherUser' | 'otherOrg' | 'otherApp';
const EVERYONE: Attacker[] = ['anonymous', 'otherUser', 'otherOrg'];
const NOT_ORGS: Attacker[] = ['anonymous', 'otherUser'];

/** The victim's resources, created by their owners before the attacks. */
interface Victim {
  instance: string;
  dataGuid: string;
  eventGuid: string;
  orderId: string;
  subscriptionId: number;
  delegationId: string;
}

interface Attack {
  /** The path with the victim's ids filled in (query included). */
  path: (v: Victim) => string;
  body?: unknown;
  attackers?: Attacker[];
  /** A list answered about the caller only: 200 is right, as long as nothing of the victim is in it. */
  filters?: boolean;
}

/** A delegation on Sophie's instance of ttd's app, as app-lib's SigningDelegationService sends it. */
const DELEGATION = {
  from: { type: 'urn:altinn:party:uuid', value: '00000000-0000-4000-a000-000000510001' },
  to: { type: 'urn:altinn:party:uuid', value: '00000000-0000-4000-a000-000000510002' },
  rights: [
    {
      resource: [
        { type: 'urn:altinn:app', value: APP },
        { type: 'urn:altinn:org', value: 'ttd' },
        { type: 'urn:altinn:task', value: 'Task_1' },
      ],
      action: { type: 'urn:oasis:names:tc:xacml:1.0:action:action-id', value: 'read' },
    },
  ],
};

const inst = (v: Victim) => `/storage/api/v1/instances/${v.instance}`;
const data = (v: Victim) => `${inst(v)}/data/${v.dataGuid}`;
const state = { state: { started: '2026-01-01T00:00:00Z', currentTask: { elementId: 'Task_1', flow: 2 } }, events: [] };

/** Every route that takes an org, party, user or instance, with the attack on it. */
const ROUTES: Record<string, Attack> = {
  // Storage: applications (writes) and the victim's instance.
  'POST /storage/api/v1/applications': { path: () => '/storage/api/v1/applications?appId=ttd/crossapp2', body: {} },
  'POST /storage/api/v1/applications/{org}/{app}': { path: () => `/storage/api/v1/applications/ttd/${APP}2`, body: {} },
  'PUT /storage/api/v1/applications/{org}/{app}': {
    path: () => `/storage/api/v1/applications/ttd/${APP}`,
    body: { id: `ttd/${APP}`, org: 'ttd', title: { nb: 'x' } },
  },
  'DELETE /storage/api/v1/applications/{org}/{app}': { path: () => `/storage/api/v1/applications/ttd/${APP}` },
  'POST /storage/api/v1/applications/{org}/{app}/texts': {
    path: () => `/storage/api/v1/applications/ttd/${APP}/texts`,
    body: { language: 'en', resources: [{ id: 'a', value: 'b' }] },
  },
  'POST /storage/api/v1/applications/{org}/{app}/texts/{language}': {
    path: () => `/storage/api/v1/applications/ttd/${APP}/texts/nn`,
    body: { language: 'nn', resources: [{ id: 'a', value: 'b' }] },
  },
  'PUT /storage/api/v1/applications/{org}/{app}/texts/{language}': {
    path: () => `/storage/api/v1/applications/ttd/${APP}/texts/nb`,
    body: { language: 'nb', resources: [{ id: 'a', value: 'b' }] },
  },
  'DELETE /storage/api/v1/applications/{org}/{app}/texts/{language}': {
    path: () => `/storage/api/v1/applications/ttd/${APP}/texts/nb`,
  },
  'GET /storage/api/v1/instances': {
    path: () => `/storage/api/v1/instances?appId=ttd/${APP}&instanceOwner.partyId=510001`,
    filters: true,
  },
  'POST /storage/api/v1/instances': {
    path: () => `/storage/api/v1/instances?appId=ttd/${APP}`,
    body: { instanceOwner: { partyId: '510001' } },
  },
  'GET /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}': { path: inst },
  'DELETE /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}': { path: (v) => `${inst(v)}?hard=true` },
  'POST /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/complete': {
    path: (v) => `${inst(v)}/complete`,
  },
  'POST /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data': {
    path: (v) => `${inst(v)}/data?dataType=model`,
    body: '<x/>',
  },
  'GET /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}': { path: data },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}': { path: data, body: '<y/>' },
  'DELETE /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}': { path: data },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}/lock': {
    path: (v) => `${data(v)}/lock`,
  },
  'DELETE /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}/lock': {
    path: (v) => `${data(v)}/lock`,
  },
  'GET /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/dataelements': {
    path: (v) => `${inst(v)}/dataelements`,
  },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/dataelements/{dataGuid}': {
    path: (v) => `${inst(v)}/dataelements/${v.dataGuid}`,
    body: { id: 'x', dataType: 'model' },
  },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/datavalues': {
    path: (v) => `${inst(v)}/datavalues`,
    body: { values: { a: 'b' } },
  },
  'GET /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/events': { path: (v) => `${inst(v)}/events` },
  'POST /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/events': {
    path: (v) => `${inst(v)}/events`,
    body: { eventType: 'Saved', instanceId: '510001/00000000-0000-4000-8000-000000000000' },
  },
  'GET /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/events/{eventGuid}': {
    path: (v) => `${inst(v)}/events/${v.eventGuid}`,
  },
  'POST /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/lock': { path: (v) => `${inst(v)}/lock` },
  'PATCH /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/lock': { path: (v) => `${inst(v)}/lock` },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/presentationtexts': {
    path: (v) => `${inst(v)}/presentationtexts`,
    body: { texts: { a: 'b' } },
  },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/process': {
    path: (v) => `${inst(v)}/process`,
    body: state.state,
  },
  'GET /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/process/history': {
    path: (v) => `${inst(v)}/process/history`,
  },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/process/instanceandevents': {
    path: (v) => `${inst(v)}/process/instanceandevents`,
    body: state,
  },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/readstatus': {
    path: (v) => `${inst(v)}/readstatus?status=Read`,
  },
  'POST /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/sign': {
    path: (v) => `${inst(v)}/sign`,
    body: { dataElementSignatures: [{ dataElementId: 'x', signed: true }], signee: { userId: '1002' } },
  },
  'PUT /storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/substatus': {
    path: (v) => `${inst(v)}/substatus`,
    body: { label: 'x' },
  },
  // Authentication: ttd's app token keys and the app token of ttd's app.
  'GET /authentication/api/v1/accesstoken/{org}/{app}': { path: () => `/authentication/api/v1/accesstoken/ttd/${APP}` },
  'GET /authentication/api/v1/apptokenkeys/{org}': { path: () => '/authentication/api/v1/apptokenkeys/ttd' },
  'POST /authentication/api/v1/apptokenkeys/{org}': {
    path: () => '/authentication/api/v1/apptokenkeys/ttd',
    body: { certificate: 'x' },
  },
  'DELETE /authentication/api/v1/apptokenkeys/{org}/{keyId}': {
    path: () => '/authentication/api/v1/apptokenkeys/ttd/somekey',
  },
  'POST /authentication/api/v1/openid/keys/rotate': { path: () => '/authentication/api/v1/openid/keys/rotate' },
  // Register and Profile: an org (a service owner) reads any party or user, as Altinn's; a user only their own.
  'POST /register/api/v1/parties/lookup': {
    path: () => '/register/api/v1/parties/lookup',
    body: { ssn: USERS.sophie.ssn, orgNo: null },
    attackers: NOT_ORGS,
  },
  'POST /register/api/v1/parties/partylist': {
    path: () => '/register/api/v1/parties/partylist',
    body: [USERS.sophie.partyId],
    attackers: NOT_ORGS,
  },
  'GET /register/api/v1/parties/{partyId}': {
    path: () => `/register/api/v1/parties/${USERS.sophie.partyId}`,
    attackers: NOT_ORGS,
  },
  'POST /profile/api/v1/users': { path: () => '/profile/api/v1/users', body: USERS.sophie.ssn, attackers: NOT_ORGS },
  'GET /profile/api/v1/users/{userId}': {
    path: () => `/profile/api/v1/users/${USERS.sophie.userId}`,
    attackers: NOT_ORGS,
  },
  'GET /profile/api/v1/users/byuuid/{userUuid}': {
    path: () => '/profile/api/v1/users/byuuid/00000000-0000-4000-b000-000000001001',
    attackers: NOT_ORGS,
  },
  // Authorization: questions about another user, ttd's policy, and the operator's role and key admin.
  'GET /authorization/api/v1/parties': {
    path: () => `/authorization/api/v1/parties?userId=${USERS.sophie.userId}`,
    attackers: NOT_ORGS,
  },
  'GET /authorization/api/v1/parties/{partyId}/validate': {
    path: () => `/authorization/api/v1/parties/500000/validate?userId=${USERS.sophie.userId}`,
    attackers: NOT_ORGS,
  },
  'GET /authorization/api/v1/roles': {
    path: () => `/authorization/api/v1/roles?coveredByUserId=${USERS.sophie.userId}&offeredByPartyId=500000`,
    attackers: NOT_ORGS,
  },
  'GET /authorization/api/v1/policies/{org}/{app}': { path: () => `/authorization/api/v1/policies/ttd/${APP}` },
  'PUT /authorization/api/v1/policies/{org}/{app}': {
    path: () => `/authorization/api/v1/policies/ttd/${APP}`,
    body: {
      rules: [{ id: 'r', subjects: ['urn:altinn:org'], actions: ['read'], resources: [{ org: 'ttd', app: APP }] }],
    },
  },
  'GET /authorization/api/v1/roleassignments': { path: () => '/authorization/api/v1/roleassignments' },
  'POST /authorization/api/v1/roleassignments': {
    path: () => '/authorization/api/v1/roleassignments',
    body: { userId: 1002, partyId: 500000, roleCode: 'DAGL' },
  },
  'DELETE /authorization/api/v1/roleassignments/{id}': { path: () => '/authorization/api/v1/roleassignments/1' },
  'GET /authorization/api/v1/subscriptionkeys/{org}': { path: () => '/authorization/api/v1/subscriptionkeys/ttd' },
  'POST /authorization/api/v1/subscriptionkeys/{org}': {
    path: () => '/authorization/api/v1/subscriptionkeys/ttd',
    body: {},
  },
  'DELETE /authorization/api/v1/subscriptionkeys/{org}/{id}': {
    path: () => '/authorization/api/v1/subscriptionkeys/ttd/00000000-0000-4000-8000-000000000001',
  },
  // Intermediary: Sophie's delegation for DDG Fitness.
  'POST /intermediary/api/v1/delegations': {
    path: () => '/intermediary/api/v1/delegations',
    body: { offeredByPartyId: 500000, coveredByUserId: 1002, roleCode: 'DAGL' },
  },
  'GET /intermediary/api/v1/delegations/{delegationId}': {
    path: (v) => `/intermediary/api/v1/delegations/${v.delegationId}`,
  },
  'DELETE /intermediary/api/v1/delegations/{delegationId}': {
    path: (v) => `/intermediary/api/v1/delegations/${v.delegationId}`,
  },
  'GET /intermediary/api/v1/delegations/{delegationId}/audit': {
    path: (v) => `/intermediary/api/v1/delegations/${v.delegationId}/audit`,
  },
  // Access management: delegations by ttd's app on Sophie's instance; another org's app is refused.
  'POST /accessmanagement/api/v1/app/delegations/resource/{resourceId}/instance/{instanceId}': {
    path: (v) =>
      `/accessmanagement/api/v1/app/delegations/resource/app_ttd_${APP}/instance/${v.instance.split('/')[1]}`,
    body: DELEGATION,
    attackers: ['anonymous', 'otherUser', 'otherOrg', 'otherApp'],
  },
  'POST /accessmanagement/api/v1/app/delegationrevoke/resource/{resourceId}/instance/{instanceId}': {
    path: (v) =>
      `/accessmanagement/api/v1/app/delegationrevoke/resource/app_ttd_${APP}/instance/${v.instance.split('/')[1]}`,
    body: DELEGATION,
    attackers: ['anonymous', 'otherUser', 'otherOrg', 'otherApp'],
  },
  // Events: ttd's app events and subscriptions.
  'POST /events/api/v1/app': {
    path: () => '/events/api/v1/app',
    body: {
      source: `https://ttd.apps.altinn.no/ttd/${APP}/instances/510001/00000000-0000-4000-8000-000000000000`,
      specversion: '1.0',
      type: 'app.instance.created',
      subject: '/party/510001',
      time: '2026-01-01T10:00:00Z',
    },
    attackers: ['anonymous', 'otherUser', 'otherOrg', 'otherApp'],
  },
  'GET /events/api/v1/app/{org}/{app}': { path: () => `/events/api/v1/app/ttd/${APP}` },
  'GET /events/api/v1/subscriptions/{id}': { path: (v) => `/events/api/v1/subscriptions/${v.subscriptionId}` },
  'DELETE /events/api/v1/subscriptions/{id}': { path: (v) => `/events/api/v1/subscriptions/${v.subscriptionId}` },
  // Notifications: ttd's order.
  'GET /notifications/api/v1/orders/{id}': { path: (v) => `/notifications/api/v1/orders/${v.orderId}` },
  'PUT /notifications/api/v1/orders/{id}/cancel': { path: (v) => `/notifications/api/v1/orders/${v.orderId}/cancel` },
  'GET /notifications/api/v1/orders/{id}/notifications/email': {
    path: (v) => `/notifications/api/v1/orders/${v.orderId}/notifications/email`,
  },
  'GET /notifications/api/v1/orders/{id}/notifications/sms': {
    path: (v) => `/notifications/api/v1/orders/${v.orderId}/notifications/sms`,
  },
  'GET /notifications/api/v1/orders/{id}/status': { path: (v) => `/notifications/api/v1/orders/${v.orderId}/status` },
  // Provisioner: the operator's admin API (ttd's cluster).
  'GET /provisioner/api/v1/clusters': { path: () => '/provisioner/api/v1/clusters', filters: true },
  'GET /provisioner/api/v1/clusters/{org}': { path: () => '/provisioner/api/v1/clusters/ttd' },
  'PUT /provisioner/api/v1/clusters/{org}': { path: () => '/provisioner/api/v1/clusters/ttd', body: {} },
  'DELETE /provisioner/api/v1/clusters/{org}': { path: () => '/provisioner/api/v1/clusters/ttd' },
  'GET /provisioner/api/v1/clusters/{org}/apps': { path: () => '/provisioner/api/v1/clusters/ttd/apps' },
  'GET /provisioner/api/v1/clusters/{org}/apps/{app}': { path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}` },
  'PUT /provisioner/api/v1/clusters/{org}/apps/{app}': {
    path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}`,
    body: { image: 'registry.example/ttd/crossapp:1' },
  },
  'DELETE /provisioner/api/v1/clusters/{org}/apps/{app}': {
    path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}`,
  },
  'GET /provisioner/api/v1/clusters/{org}/apps/{app}/events': {
    path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}/events`,
  },
  'GET /provisioner/api/v1/clusters/{org}/apps/{app}/operations': {
    path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}/operations`,
  },
  'GET /provisioner/api/v1/clusters/{org}/apps/{app}/releases': {
    path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}/releases`,
  },
  'POST /provisioner/api/v1/clusters/{org}/apps/{app}/rollback': {
    path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}/rollback`,
    body: {},
  },
  'POST /provisioner/api/v1/clusters/{org}/apps/{app}/scale': {
    path: () => `/provisioner/api/v1/clusters/ttd/apps/${APP}/scale`,
    body: { replicas: 1 },
  },
  'GET /provisioner/api/v1/operations/{id}': {
    path: () => '/provisioner/api/v1/operations/00000000-0000-4000-8000-000000000001',
  },
  'GET /provisioner/api/v1/overview': { path: () => '/provisioner/api/v1/overview', filters: true },
};

/** Routes deliberately answered to such callers, each with the reason (reviewed). */
const OPEN: Record<string, string> = {
  'GET /storage/api/v1/applications': 'application metadata is public, as Altinn Storage serves it',
  'GET /storage/api/v1/applications/{org}': 'application metadata is public, as Altinn Storage serves it',
  'GET /storage/api/v1/applications/{org}/{app}': 'application metadata is public, as Altinn Storage serves it',
  'GET /storage/api/v1/applications/{org}/{app}/texts/{language}':
    'app texts are public, as Altinn Storage serves them',
  'GET /authentication/api/v1/authentication': 'the login redirect: about the browser that calls it',
  'GET /authentication/api/v1/exchange/{provider}': "exchanges the caller's own external token",
  'GET /authentication/api/v1/refresh': "refreshes the caller's own token",
  'GET /authentication/api/v1/openid/.well-known/openid-configuration': 'public OpenID metadata',
  'GET /authentication/api/v1/openid/.well-known/openid-configuration/jwks': 'public signing keys',
  'GET /authentication/api/v1/testidp/jwks': 'local mode only (production-mode.test.ts)',
  'GET /authentication/api/v1/testidp/login': 'local mode only (production-mode.test.ts)',
  'POST /authentication/api/v1/testidp/login': 'local mode only (production-mode.test.ts)',
  'GET /authentication/api/v1/testidp/token': 'local mode only (production-mode.test.ts)',
  'POST /register/api/v1/apps/parties/query': 'a user gets only parties they represent; orgs: identity-lookups.test.ts',
  'POST /register/api/v1/access-management/parties/query': 'as apps/parties/query (identity-lookups.test.ts)',
  'GET /register/api/v1/organizations/{orgNr}': 'public register data, any authenticated caller',
  'GET /register/api/v1/persons':
    'any authenticated caller with ssn and last name; budgets in identity-lookups.test.ts',
  'GET /register/api/v1/testdata': 'local mode only (production-mode.test.ts)',
  'GET /profile/api/v1/users/current': "the caller's own profile",
  'PUT /profile/api/v1/users/current/profilesettingpreference': "the caller's own settings",
  'POST /authorization/api/v1/decision':
    'about the subject in the request: the guard on other users is in functions/src/authorization (finding 2)',
  'GET /intermediary/api/v1/delegations/offered': "the caller's own parties' delegations",
  'GET /intermediary/api/v1/delegations/received': "the caller's own delegations",
  'GET /events/api/v1/subscriptions': "the caller's own subscriptions",
  'POST /events/api/v1/subscriptions': "creates the caller's own subscription (source checked in functions/src/events)",
  'POST /notifications/api/v1/orders/email': "creates the caller's own order (functions/src/notifications)",
  'POST /notifications/api/v1/orders/sms': "creates the caller's own order (functions/src/notifications)",
  'POST /notifications/api/v1/future/orders': "creates the caller's own order (functions/src/notifications)",
  'POST /pdf': 'renders pages of allowed app hosts only (functions/src/pdf target tests)',
};

let victim: Victim;
const tokens: Record<Attacker, Record<string, string>> = {
  anonymous: {},
  otherUser: {},
  otherOrg: {},
  otherApp: {},
};

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const isText = typeof body === 'string' && body.startsWith('<');
  return h.send(method, path, {
    headers: {
      ...headers,
      ...(body === undefined ? {} : { 'Content-Type': isText ? 'application/xml' : 'application/json' }),
    },
    ...(body === undefined ? {} : { body: isText ? (body as string) : JSON.stringify(body) }),
  });
}

async function ok(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  expect(response.status, `${what}: ${text}`).toBeLessThan(300);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

beforeAll(async () => {
  const issuer = h.host.platform.auth.issuer;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const ttd = bearer(await issuer.orgToken({ org: TTD.org, scopes: [...ORG_SCOPES, NOTIFICATIONS_CREATE_SCOPE] }));
  const sophie = bearer(await issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 2 }));
  tokens.otherUser = bearer(await issuer.userToken({ userId: 1002, partyId: 510002, authLevel: 2 }));
  tokens.otherOrg = bearer(
    await issuer.orgToken({ org: 'skd', scopes: [...ORG_SCOPES, NOTIFICATIONS_CREATE_SCOPE, 'altinn:events.publish'] }),
  );
  tokens.otherApp = {
    ...tokens.otherOrg,
    PlatformAccessToken: await issuer.accessToken({ org: 'skd', app: 'skjema' }),
  };

  await ok(
    await call('POST', `/storage/api/v1/applications/ttd/${APP}`, ttd, {
      dataTypes: [{ id: 'model', allowedContentTypes: ['application/xml'] }],
    }),
    'app',
  );
  await ok(
    await call('POST', `/storage/api/v1/applications/ttd/${APP}/texts`, ttd, {
      language: 'nb',
      resources: [{ id: 'a', value: 'b' }],
    }),
    'texts',
  );
  const instance = await ok(
    await call('POST', `/storage/api/v1/instances?appId=ttd/${APP}`, ttd, {
      instanceOwner: { partyId: String(USERS.sophie.partyId) },
    }),
    'instance',
  );
  const id = instance.id as string;
  const element = await ok(
    await call('POST', `/storage/api/v1/instances/${id}/data?dataType=model`, ttd, `<x>${SECRET}</x>`),
    'data',
  );
  const event = await ok(
    await call('POST', `/storage/api/v1/instances/${id}/events`, ttd, { eventType: 'Created', instanceId: id }),
    'event',
  );
  const order = await ok(
    await call('POST', '/notifications/api/v1/orders/email', ttd, {
      subject: 'Hei',
      body: 'x',
      sendersReference: 'victim-order-ref',
      recipients: [{ nationalIdentityNumber: USERS.sophie.ssn }],
      contentType: 'Plain',
    }),
    'order',
  );
  const subscription = await ok(
    await call('POST', '/events/api/v1/subscriptions', ttd, {
      EndPoint: 'https://ttd.apps.altinn.no/ttd/crossapp/victim-subscription',
      SourceFilter: `https://ttd.apps.altinn.no/ttd/${APP}`,
    }),
    'subscription',
  );
  const delegation = await ok(
    await call('POST', '/intermediary/api/v1/delegations', sophie, {
      offeredByPartyId: 500000,
      coveredByUserId: 1003,
      roleCode: 'DAGL',
    }),
    'delegation',
  );
  victim = {
    instance: id,
    dataGuid: element.id as string,
    eventGuid: event.id as string,
    orderId: order.orderId as string,
    subscriptionId: subscription.id as number,
    delegationId: String(delegation.id ?? delegation.delegationId),
  };
  for (const [name, value] of Object.entries(victim)) expect(String(value), name).toMatch(/^[0-9a-f-/]+$/);
}, 60_000);

describe('the route inventory', () => {
  it('gives every route of every API an attack or a reviewed reason to be open', async () => {
    const listed: string[] = [];
    for (const prefix of API_PREFIXES) {
      const response = await h.send('GET', `${prefix}/openapi.json`);
      expect(response.status, prefix).toBe(200);
      const doc = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
      for (const [path, operations] of Object.entries(doc.paths)) {
        for (const method of Object.keys(operations)) listed.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(listed.filter((route) => !(route in ROUTES) && !(route in OPEN))).toEqual([]);
    expect(Object.keys(ROUTES).filter((route) => !listed.includes(route))).toEqual([]);
    expect(Object.keys(OPEN).filter((route) => !listed.includes(route))).toEqual([]);
  });
});

describe('cross-org and cross-user access', () => {
  const cases = Object.entries(ROUTES).flatMap(([route, attack]) =>
    (attack.attackers ?? EVERYONE).map((attacker) => [route, attacker, attack] as const),
  );
  it.each(cases)('%s as %s: refused, problem+json, nothing of the victim', async (route, attacker, attack) => {
    const method = route.split(' ')[0] as string;
    const response = await call(method, attack.path(victim), tokens[attacker], attack.body);
    const text = await response.text();
    const allowed = attacker === 'anonymous' ? [401] : attack.filters ? [200, 401, 403, 404] : [401, 403, 404];
    expect(allowed, `${response.status} ${text}`).toContain(response.status);
    if (response.status !== 200) {
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    for (const marker of VICTIM_MARKERS) expect(text).not.toContain(marker);
  });

  it('left the victim’s instance and data as they were', async () => {
    const ttd = {
      Authorization: `Bearer ${await h.host.platform.auth.issuer.orgToken({ org: 'ttd', scopes: [...ORG_SCOPES] })}`,
    };
    const read = await call('GET', `/storage/api/v1/instances/${victim.instance}`, ttd);
    expect(read.status).toBe(200);
    const blob = await call('GET', `/storage/api/v1/instances/${victim.instance}/data/${victim.dataGuid}`, ttd);
    expect(await blob.text()).toBe(`<x>${SECRET}</x>`);
  });
});
