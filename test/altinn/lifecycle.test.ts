import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, TTD, USERS, useReplayHost } from './harness.js';

/**
 * One whole Altinn app lifecycle against a running functions host, every platform call sent as Altinn's app library
 * (app-lib-dotnet v8.12.7) sends it and in the order it sends them: sign-in and party selection, instantiation with
 * the PEP's decision, the first data element and the process start, saving data and an attachment, process next to a
 * signing task and to the end (instance lock, sign, Storage's events), then the org lists, downloads and confirms.
 *
 * The steps share state and run in order; a step whose call is not served fails (it is never skipped), and the steps
 * after it fail for want of what it should have made. The order is listed in docs/altinn-compatibility.md
 * ("The lifecycle in app-lib's order").
 */

const host = useReplayHost();

// The app as its org deploys it (not app-lib: the deploy pipeline stores the metadata and the policy).
const APP = 'lifecycle';
const APP_ID = `${TTD.org}/${APP}`;
/** DDG Fitness AS, where Sophie is DAGL (functions/src/register/SEED.md): she instantiates on its behalf. */
const DDG = { partyId: 500000, orgNumber: '310000000' } as const;
const SOPHIE = USERS.sophie;
/** Kari Nordmann (user 1003): no role for DDG Fitness. */
const KARI_SSN = '15859030014';
/** `AppSettings` / `GeneralSettings` of a deployed app: its own base URL, as EventsClient builds sources from it. */
const APP_BASE = `https://${TTD.org}.apps.altinn.no/${APP_ID}/`;

const ACTION_ID = 'urn:oasis:names:tc:xacml:1.0:action:action-id';

/** applicationmetadata.json: the form (auto-created at Task_1), attachments at Task_1 and the signature at Task_2. */
const METADATA = {
  title: { nb: 'Livsløp', en: 'Lifecycle' },
  partyTypesAllowed: { bankruptcyEstate: false, organisation: true, person: true, subUnit: false },
  dataTypes: [
    {
      id: 'model',
      allowedContentTypes: ['application/xml'],
      appLogic: { autoCreate: true, classRef: 'Altinn.App.Models.Skjema' },
      taskId: 'Task_1',
      maxCount: 1,
      minCount: 1,
    },
    { id: 'attachment', allowedContentTypes: ['application/pdf'], taskId: 'Task_1', maxCount: 5, minCount: 0 },
    { id: 'signature', allowedContentTypes: ['application/json'], taskId: 'Task_2', maxCount: 1, minCount: 0 },
  ],
};

/** policy.xml in our JSON form: DAGL and PRIV fill in and sign; the owner reads, writes and confirms. */
const POLICY = {
  rules: [
    {
      id: 'end-users',
      subjects: ['DAGL', 'PRIV'],
      actions: ['instantiate', 'read', 'write'],
      resources: [{ org: TTD.org, app: APP }],
    },
    {
      id: 'signers',
      subjects: ['DAGL', 'PRIV'],
      actions: ['read', 'sign'],
      resources: [{ org: TTD.org, app: APP, task: 'Task_2' }],
    },
    {
      id: 'app-owner',
      subjects: ['urn:altinn:org'],
      actions: ['read', 'write', 'confirm'],
      resources: [{ org: TTD.org, app: APP }],
    },
  ],
};

/** What the steps make and later steps use. */
interface Lifecycle {
  /** `PlatformSettings.SubscriptionKey`: every platform client sends it as `Ocp-Apim-Subscription-Key`. */
  subscriptionKey: string;
  /** Signs the `PlatformAccessToken` as `AccessTokenGenerator.GenerateAccessToken(org, app)` does, with ttd's key. */
  accessToken: () => Promise<string>;
  orgToken: string;
  userToken: string;
  instanceId: string;
  instanceGuid: string;
  modelId: string;
  modelXml: string;
  attachmentId: string;
  attachmentBytes: Uint8Array;
  signatureId: string;
  processStarted: string;
}

const state: Partial<Lifecycle> = {};

/** A value an earlier step should have made; a clear failure when it did not. */
function made<K extends keyof Lifecycle>(key: K): Lifecycle[K] {
  const value = state[key];
  if (value === undefined) throw new Error(`an earlier step did not make ${key}: see its failure above`);
  return value as Lifecycle[K];
}

/** Fails naming the call and what the platform answered. */
async function expectStatus(response: Response, status: number | number[], call: string): Promise<void> {
  const wanted = Array.isArray(status) ? status : [status];
  if (!wanted.includes(response.status)) {
    const body = await response.clone().text();
    expect.fail(`${call}: expected ${wanted.join(' or ')}, got ${response.status} ${body.slice(0, 600)}`);
  }
}

/** A 4xx problem+json, as every refusal of the platform is answered. */
async function expectProblem(response: Response, status: number, call: string): Promise<void> {
  await expectStatus(response, status, call);
  expect(response.headers.get('content-type'), call).toContain('application/problem+json');
  expect(((await response.json()) as { status: number }).status, call).toBe(status);
}

/** Reads a member the way System.Text.Json's web defaults and Newtonsoft do: case-insensitively. */
function member(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const key = Object.keys(value).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (value as Record<string, unknown>)[key];
}

// --- The headers each of app-lib's clients sends -------------------------------------------------------------------

const sub = () => ({ 'Ocp-Apim-Subscription-Key': state.subscriptionKey ?? '' });
/** InstanceClient, DataClient, InstanceEventClient, ProcessClient, SignClient: `Accept: application/json, application/xml`. */
const storageHeaders = (token: string) => ({
  ...sub(),
  Accept: 'application/json, application/xml',
  ...bearer(token),
});
/** InstanceLockClient: `Accept: application/json` only. */
const lockHeaders = (token: string) => ({ ...sub(), Accept: 'application/json', ...bearer(token) });
/** ProfileClient, AltinnPartyClient, RegisterClient: the user's token and the app's own PlatformAccessToken. */
async function appHeaders(token: string): Promise<Record<string, string>> {
  const pat = state.accessToken ? await state.accessToken() : undefined;
  return {
    ...sub(),
    Accept: 'application/json',
    ...bearer(token),
    ...(pat === undefined ? {} : { PlatformAccessToken: pat }),
  };
}
/** AuthorizationClient: forwarded-for copied from the app's request (empty here), the key, the user's token. */
const authorizationHeaders = (token: string) => ({
  'x-forwarded-for': '',
  ...sub(),
  Accept: 'application/json',
  ...bearer(token),
});
const JSON_UTF8 = 'application/json; charset=utf-8';

// --- Altinn.Common.PEP's decision request (AuthorizationApiClient, JsonSerializerDefaults.Web) ----------------------

const PEP_ISSUER = 'https://platform.altinn.no/authentication/api/v1/openid/';
const attribute = (attributeId: string, value: string, issuer: string, includeInResult = false) => ({
  attributeId,
  value,
  issuer,
  dataType: 'string',
  includeInResult,
});
type Attribute = ReturnType<typeof attribute>;
const category = (id: string | null, attributes: Attribute[]) => ({
  categoryId: null,
  id,
  content: null,
  attribute: attributes,
});
type Category = ReturnType<typeof category>;

/** `DecisionHelper.CreateSubjectCategory`: the user's `urn:` claims (level and user id) from the token. */
function subject(userToken: string, id: string | null = null): Category {
  const claims = decodeJwt(userToken);
  return category(id, [
    attribute('urn:altinn:authlevel', String(claims['urn:altinn:authlevel']), PEP_ISSUER),
    attribute('urn:altinn:userid', String(claims['urn:altinn:userid']), PEP_ISSUER),
  ]);
}

const decisionRoot = (resource: Category[], action: Category[], accessSubject: Category[], multi: unknown = null) => ({
  request: {
    returnPolicyIdList: false,
    combinedDecision: false,
    xPathVersion: null,
    category: null,
    resource,
    action,
    accessSubject,
    recipientSubject: null,
    intermediarySubject: null,
    requestingMachine: null,
    multiRequests: multi,
  },
});

/**
 * `DecisionHelper.CreateDecisionRequest(org, app, user, action, partyId, instanceGuid, taskId)`: the resource names
 * the task (when given), the instance (when there is one), the party, org and app.
 */
function singleDecision(userToken: string, action: string, partyId: number, guid?: string, task?: string) {
  return decisionRoot(
    [
      category(null, [
        ...(task ? [attribute('urn:altinn:task', task, 'Altinn')] : []),
        ...(guid ? [attribute('urn:altinn:instance-id', `${partyId}/${guid}`, 'Altinn')] : []),
        attribute('urn:altinn:partyid', String(partyId), 'Altinn'),
        attribute('urn:altinn:org', TTD.org, 'Altinn'),
        attribute('urn:altinn:app', APP, 'Altinn'),
      ]),
    ],
    [category(null, [attribute(ACTION_ID, action, 'Altinn')])],
    [subject(userToken)],
  );
}

/**
 * POSTs a decision as the PEP does (Altinn.Common.PEP AuthorizationApiClient.cs AuthorizeRequest, for app-lib
 * AuthorizationClient.cs AuthorizeAction and AuthorizeActions): the subscription key, no token; answers the results.
 */
async function decide(body: unknown, call: string): Promise<{ decision: string; category?: unknown }[]> {
  const response = await host.send('POST', '/authorization/api/v1/decision', {
    headers: { 'x-forwarded-for': '', ...sub(), Accept: 'application/json', 'Content-Type': JSON_UTF8 },
    body: JSON.stringify(body),
  });
  await expectStatus(response, 200, call);
  const results = member(await response.json(), 'response') as unknown[];
  expect(Array.isArray(results), `${call}: response[]`).toBe(true);
  return results.map((result) => ({
    decision: String(member(result, 'decision')),
    category: member(result, 'category'),
  }));
}

/** `DecisionHelper.ValidatePdpDecision`: one result, Permit (obligations at or below the user's level). */
async function expectPermit(body: unknown, call: string): Promise<void> {
  const [result, ...rest] = await decide(body, call);
  expect(rest, call).toEqual([]);
  expect(result?.decision, call).toBe('Permit');
}

// --- Storage's process state and events, as Newtonsoft writes ProcessStateUpdate -----------------------------------

/** DateTime.UtcNow as Newtonsoft writes it (seven fractional digits, `Z`). */
const dotnetNow = () => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

interface TaskInfo {
  flow: number;
  started: string;
  elementId: string;
  name: string;
  altinnTaskType: string;
}

/** `ProcessState` (no null handling attribute: nulls are written). */
function processState(started: string, currentTask: TaskInfo | null, ended: string | null = null) {
  return {
    started,
    startEvent: 'StartEvent_1',
    currentTask:
      currentTask === null
        ? null
        : { ...currentTask, ended: null, validated: null, flowType: 'CompleteCurrentMoveToNext' },
    ended,
    endEvent: ended === null ? null : 'EndEvent_1',
  };
}

/** `ProcessEngine.GenerateProcessChangeEvent`: an `InstanceEvent` (nulls left out) with the user and the new state. */
function instanceEvent(eventType: string, userToken: string, ssn: string, processInfo: unknown) {
  const claims = decodeJwt(userToken);
  return {
    instanceId: made('instanceId'),
    created: dotnetNow(),
    eventType,
    instanceOwnerPartyId: String(DDG.partyId),
    user: {
      userId: Number(claims['urn:altinn:userid']),
      authenticationLevel: Number(claims['urn:altinn:authlevel']),
      nationalIdentityNumber: ssn,
    },
    processInfo,
  };
}

/** app-lib InstanceClient.cs UpdateProcessAndEvents: `PUT instances/{instance.Id}/process/instanceandevents`. */
async function updateProcessAndEvents(
  processUpdate: unknown,
  events: unknown[],
  call: string,
): Promise<Record<string, unknown>> {
  const response = await host.send('PUT', `/storage/api/v1/instances/${made('instanceId')}/process/instanceandevents`, {
    headers: { ...storageHeaders(made('userToken')), 'Content-Type': JSON_UTF8 },
    body: JSON.stringify({ state: processUpdate, events }),
  });
  await expectStatus(response, 200, call);
  return (await response.json()) as Record<string, unknown>;
}

/** app-lib InstanceLockClient.cs AcquireInstanceLock (`ProcessEngine.Next`, `instanceLock.Lock()`): `{"ttlSeconds":300}`. */
async function acquireLock(call: string): Promise<string> {
  const response = await host.send('POST', `/storage/api/v1/instances/${made('instanceId')}/lock`, {
    headers: { ...lockHeaders(made('userToken')), 'Content-Type': JSON_UTF8 },
    body: JSON.stringify({ ttlSeconds: 300 }),
  });
  await expectStatus(response, [200, 201], call);
  const lockToken = member(await response.json(), 'lockToken');
  expect(typeof lockToken === 'string' && lockToken.length > 0, `${call}: lockToken`).toBe(true);
  return lockToken as string;
}

/** app-lib InstanceLockClient.cs UpdateInstanceLock with `TimeSpan.Zero`: the release when `Next` disposes its lock. */
async function releaseLock(lockToken: string): Promise<Response> {
  return host.send('PATCH', `/storage/api/v1/instances/${made('instanceId')}/lock`, {
    headers: { ...lockHeaders(made('userToken')), 'Content-Type': JSON_UTF8, 'Altinn-Storage-Lock-Token': lockToken },
    body: JSON.stringify({ ttlSeconds: 0 }),
  });
}

/** app-lib InstanceClient.cs GetInstance: `GET instances/{p}/{g}`, deserialized with web defaults. */
async function getInstance(token: string, call: string): Promise<Record<string, unknown>> {
  const response = await host.send('GET', `/storage/api/v1/instances/${made('instanceId')}`, {
    headers: storageHeaders(token),
  });
  await expectStatus(response, 200, call);
  return (await response.json()) as Record<string, unknown>;
}

/** app-lib EventsClient.cs AddEvent(eventType, instance): the app's CloudEvent (STJ defaults, nulls written). */
async function addEvent(eventType: string, call: string): Promise<void> {
  const body = {
    id: null,
    source: `${APP_BASE}instances/${made('instanceId')}`,
    specversion: '1.0',
    type: eventType,
    subject: `/party/${DDG.partyId}`,
    time: dotnetNow(),
    alternativesubject: `/org/${DDG.orgNumber}`,
    data: null,
    dataschema: null,
    contenttype: null,
  };
  const response = await host.send('POST', '/events/api/v1/app', {
    headers: { ...(await appHeaders(made('userToken'))), 'Content-Type': JSON_UTF8 },
    body: JSON.stringify(body),
  });
  // EventsClient reads any 2xx and takes the body as the event id.
  await expectStatus(response, [200, 201], call);
  expect((await response.text()).length, `${call}: the event id`).toBeGreaterThan(0);
}

/** app-lib DataClient.cs LockDataElement (`ProcessTaskDataLocker.Lock` at a task's end): PUT with no content. */
async function lockDataElement(dataGuid: string, call: string): Promise<void> {
  const response = await host.send('PUT', `/storage/api/v1/instances/${made('instanceId')}/data/${dataGuid}/lock`, {
    headers: storageHeaders(made('userToken')),
  });
  await expectStatus(response, [200, 201], call);
  expect(member(await response.json(), 'locked'), call).toBe(true);
}

describe('an Altinn app lifecycle, replayed in app-lib v8.12.7 order', () => {
  beforeAll(async () => {
    state.orgToken = await host.orgToken();
  });

  // Not app-lib: what Altinn Studio's deploy does before an app runs. The org stores the app's metadata
  // (ApplicationsController) and policy, the app's PlatformAccessToken key and the platform subscription key.
  it('0a. the org deploys: application metadata and policy', async () => {
    const org = bearer(made('orgToken'));
    const metadata = await host.send('POST', `/storage/api/v1/applications/${APP_ID}`, {
      headers: { ...org, 'Content-Type': JSON_UTF8 },
      body: JSON.stringify(METADATA),
    });
    await expectStatus(metadata, [200, 201], 'POST applications/ttd/lifecycle');
    const policy = await host.send('PUT', `/authorization/api/v1/policies/${APP_ID}`, {
      headers: { ...org, 'Content-Type': JSON_UTF8 },
      body: JSON.stringify(POLICY),
    });
    await expectStatus(policy, 200, 'PUT policies/ttd/lifecycle');
  });

  it('0b. the org registers its app-token key (the app signs its own PlatformAccessToken)', async () => {
    const org = bearer(made('orgToken'));

    // The app signs its PlatformAccessToken itself (Altinn.Common.AccessTokenClient AccessTokenGenerator): issuer
    // the org, `urn:altinn:app` the app, RS256 with the org's certificate; the platform holds the public half.
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = createHash('sha1').update(JSON.stringify(jwk)).digest('hex').toUpperCase();
    const key = await host.send('POST', `/authentication/api/v1/apptokenkeys/${TTD.org}`, {
      headers: { ...org, 'Content-Type': JSON_UTF8 },
      body: JSON.stringify({ jwk: { ...jwk, kid } }),
    });
    state.accessToken = () =>
      new SignJWT({ 'urn:altinn:app': APP })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(TTD.org)
        .setNotBefore('0s')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    // Set before the check: app-lib sends its token whether or not the platform knows the key.
    await expectStatus(key, [200, 201], 'POST authentication apptokenkeys/ttd (register the app-token key)');
  });

  it('0c. the org is issued the platform subscription key its apps send (Ocp-Apim-Subscription-Key)', async () => {
    const org = bearer(made('orgToken'));
    const issued = await host.send('POST', `/authorization/api/v1/subscriptionkeys/${TTD.org}`, { headers: org });
    await expectStatus(issued, 201, 'POST authorization subscriptionkeys/ttd (the app platform subscription key)');
    state.subscriptionKey = String(member(await issued.json(), 'key'));
  });

  // 1. Sign-in. ID-porten's token exchanged at Authentication (`exchange/id-porten`; the test IdP here, level 2), set
  // as the AltinnStudioRuntime cookie; the app validates it with the keys of AppSettings.OpenIdWellKnownEndpoint
  // (src/Altinn.App.Api/Extensions/ServiceCollectionExtensions.cs AddAuthenticationScheme, JwtCookie handler).
  it('1a. sign in: the exchanged token verifies with the platform keys the app reads from openid-configuration', async () => {
    state.userToken = await host.userToken(SOPHIE.ssn);
    const configuration = await host.send('GET', '/authentication/api/v1/openid/.well-known/openid-configuration');
    await expectStatus(configuration, 200, 'GET openid/.well-known/openid-configuration');
    const jwksUri = String(member(await configuration.json(), 'jwks_uri'));
    // The app reaches the platform at the host's URL; jwks_uri names the same path there.
    const jwks = createRemoteJWKSet(new URL(new URL(jwksUri).pathname, host.url));
    const { payload } = await jwtVerify(made('userToken'), jwks);
    expect(payload['urn:altinn:userid']).toBe(String(SOPHIE.userId));
    expect(Number(payload['urn:altinn:authlevel'])).toBeGreaterThanOrEqual(2);
  });

  // 1b. Party selection: Authenticated.User.LoadDetails (src/Altinn.App.Core/Features/Auth/Authenticated.cs), behind
  // the app's api/v1/profile/user, api/authorization/parties/current and api/v1/parties: ProfileClient.GetUserProfile,
  // AuthorizationClient.GetPartyList, then for the selected party AltinnPartyClient.GetParty and
  // AuthorizationClient.ValidateSelectedParty.
  it('1b. party selection: profile, reportees, the chosen party and its validation', async () => {
    const token = made('userToken');
    // src/Altinn.App.Core/Infrastructure/Clients/Profile/ProfileClient.cs GetUserProfile(int userId)
    const profile = await host.send('GET', `/profile/api/v1/users/${SOPHIE.userId}`, {
      headers: await appHeaders(token),
    });
    await expectStatus(profile, 200, 'GET profile users/{userId}');
    const userProfile = (await profile.json()) as Record<string, unknown>;
    expect(userProfile.userId).toBe(SOPHIE.userId);
    expect(userProfile.partyId).toBe(SOPHIE.partyId);
    expect(member(member(userProfile, 'party'), 'partyId')).toBe(SOPHIE.partyId);
    expect(member(member(userProfile, 'party'), 'ssn')).toBe(SOPHIE.ssn);
    // STJ cannot read null into the int preSelectedPartyId.
    expect(typeof member(member(userProfile, 'profileSettingPreference'), 'preSelectedPartyId')).toBe('number');

    // src/Altinn.App.Core/Infrastructure/Clients/Authorization/AuthorizationClient.cs GetPartyList
    const parties = await host.send('GET', `/authorization/api/v1/parties?userid=${SOPHIE.userId}`, {
      headers: authorizationHeaders(token),
    });
    await expectStatus(parties, 200, 'GET authorization parties?userid=');
    const reportees = (await parties.json()) as Record<string, unknown>[];
    expect(reportees.map((party) => member(party, 'partyId'))).toEqual(
      expect.arrayContaining([SOPHIE.partyId, DDG.partyId]),
    );

    // src/Altinn.App.Core/Infrastructure/Clients/Register/AltinnPartyClient.cs GetParty (the selected party)
    const party = await host.send('GET', `/register/api/v1/parties/${DDG.partyId}`, {
      headers: await appHeaders(token),
    });
    await expectStatus(party, 200, 'GET register parties/{partyId} (a party the user represents)');
    const ddg = (await party.json()) as Record<string, unknown>;
    expect(ddg.partyId).toBe(DDG.partyId);
    expect(ddg.orgNumber).toBe(DDG.orgNumber);

    // AuthorizationClient.cs ValidateSelectedParty: a JSON bool
    const valid = await host.send(
      'GET',
      `/authorization/api/v1/parties/${DDG.partyId}/validate?userid=${SOPHIE.userId}`,
      {
        headers: authorizationHeaders(token),
      },
    );
    await expectStatus(valid, 200, 'GET authorization parties/{partyId}/validate?userid=');
    expect(await valid.json()).toBe(true);
  });

  // 2. Instantiation: src/Altinn.App.Api/Controllers/InstancesController.cs Post (instanceOwnerPartyId=500000, no
  // body parts): LookupParty, AuthorizeAction("instantiate"), CreateInstance, GetInstance, then
  // ProcessEngine.HandleEventsAndUpdateStorage (StartTaskEventHandler: ProcessTaskInitializer auto-creates the form,
  // then ProcessEventDispatcher.DispatchToStorage), then RegisterEvent("app.instance.created"). v8.12.7 takes no
  // instance lock while instantiating: the lock is ProcessEngine.Next's.
  it('2. instantiate: party lookup, the PEP permit, the instance, the form and the process start', async () => {
    const token = made('userToken');

    // src/Altinn.App.Core/Internal/Registers/RegisterClient.cs GetPartyUnchecked -> GetPartyListUnchecked
    const lookup = await host.send('POST', '/register/api/v1/parties/partylist?fetchSubUnits=true', {
      headers: { ...(await appHeaders(token)), 'Content-Type': JSON_UTF8 },
      body: JSON.stringify([DDG.partyId]),
    });
    await expectStatus(lookup, 200, 'POST register parties/partylist?fetchSubUnits=true');
    const [party] = (await lookup.json()) as Record<string, unknown>[];
    expect(party?.partyId).toBe(DDG.partyId);
    expect(party?.orgNumber).toBe(DDG.orgNumber);
    expect(party?.partyTypeName).toBe(2);

    // InstancesController.AuthorizeAction -> app-lib AuthorizationClient.cs AuthorizeAction -> the PEP's
    // AuthorizationApiClient.cs AuthorizeRequest: subscription key, no token
    await expectPermit(singleDecision(token, 'instantiate', DDG.partyId), 'POST decision (instantiate)');

    // src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceClient.cs CreateInstance: the template as
    // Newtonsoft writes it (nulls left out); InstantiationHelper.PartyToInstanceOwner, ConditionallySetReadStatus.
    const template = {
      instanceOwner: { partyId: String(DDG.partyId), organisationNumber: DDG.orgNumber },
      org: TTD.org,
      status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Read' },
    };
    const created = await host.send('POST', `/storage/api/v1/instances?appId=${APP_ID}`, {
      headers: { ...storageHeaders(token), 'Content-Type': JSON_UTF8 },
      body: JSON.stringify(template),
    });
    await expectStatus(created, 201, 'POST storage instances?appId=');
    const instance = (await created.json()) as Record<string, unknown>;
    const id = String(instance.id);
    expect(id).toMatch(new RegExp(`^${DDG.partyId}/[0-9a-f-]{36}$`));
    expect(instance.appId).toBe(APP_ID);
    expect(instance.org).toBe(TTD.org);
    expect(member(instance.instanceOwner, 'partyId')).toBe(String(DDG.partyId));
    expect(instance.data).toEqual([]);
    state.instanceId = id;
    state.instanceGuid = id.split('/')[1];

    // app-lib InstanceClient.cs GetInstance (InstancesController.Post reads the instance back)
    const read = await getInstance(token, 'GET storage instances/{p}/{g}');
    expect(read.id).toBe(id);

    // src/Altinn.App.Core/Internal/Process/ProcessTasks/Common/ProcessTaskInitializer.cs Initialize ->
    // app-lib DataClient.cs InsertFormData -> InsertBinaryData: the form as XML, no filename.
    const xml =
      '<?xml version="1.0" encoding="utf-8"?><Skjema xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      'xmlns:xsd="http://www.w3.org/2001/XMLSchema" />';
    const form = await host.send('POST', `/storage/api/v1/instances/${id}/data?dataType=model`, {
      headers: { ...storageHeaders(token), 'Content-Type': 'application/xml' },
      body: xml,
    });
    await expectStatus(form, 201, 'POST storage instances/{p}/{g}/data?dataType=model');
    const model = (await form.json()) as Record<string, unknown>;
    expect(model.dataType).toBe('model');
    expect(model.contentType).toBe('application/xml');
    expect(model.size).toBe(Buffer.byteLength(xml));
    expect(model.locked).toBe(false);
    state.modelId = String(model.id);

    // ProcessEngine.GenerateProcessStartEvents then ProcessEventDispatcher.DispatchToStorage ->
    // InstanceClient.UpdateProcessAndEvents: the start event and the first task's start, in one call.
    const started = dotnetNow();
    state.processStarted = started;
    const task1: TaskInfo = { flow: 2, started, elementId: 'Task_1', name: 'Utfylling', altinnTaskType: 'data' };
    const atTask1 = processState(started, task1);
    const updated = await updateProcessAndEvents(
      atTask1,
      [
        instanceEvent('process_StartEvent', token, SOPHIE.ssn, processState(started, null)),
        instanceEvent('process_StartTask', token, SOPHIE.ssn, atTask1),
      ],
      'PUT storage instances/{p}/{g}/process/instanceandevents (process start)',
    );
    const process = updated.process as Record<string, unknown>;
    expect(member(process.currentTask, 'elementId')).toBe('Task_1');
    expect(member(process.currentTask, 'altinnTaskType')).toBe('data');
    expect(member(process.currentTask, 'flow')).toBe(2);
    expect((updated.data as unknown[]).length).toBe(1);

    // InstancesController.RegisterEvent -> src/Altinn.App.Core/Infrastructure/Clients/Events/EventsClient.cs AddEvent
    // (AppSettings.RegisterEventsWithEventsComponent)
    await addEvent('app.instance.created', 'POST events/api/v1/app (app.instance.created)');
  });

  // 3. Filling in: the app's PATCH data and POST data endpoints (src/Altinn.App.Api/Controllers/DataController.cs).
  it('3. save the form (PUT data) and upload an attachment (POST data with Content-Disposition)', async () => {
    const token = made('userToken');
    const id = made('instanceId');

    // InstanceDataUnitOfWork.SaveChanges -> app-lib DataClient.cs UpdateBinaryData: the form's new XML.
    const xml =
      '<?xml version="1.0" encoding="utf-8"?><Skjema xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><navn>Sophie Salt</navn><epost>sophie@ddg.example</epost></Skjema>';
    const saved = await host.send('PUT', `/storage/api/v1/instances/${id}/data/${made('modelId')}`, {
      headers: { ...storageHeaders(token), 'Content-Type': 'application/xml' },
      body: xml,
    });
    await expectStatus(saved, [200, 201], 'PUT storage instances/{p}/{g}/data/{dataGuid}');
    const model = (await saved.json()) as Record<string, unknown>;
    expect(model.id).toBe(made('modelId'));
    expect(model.size).toBe(Buffer.byteLength(xml));
    state.modelXml = xml;

    // DataController.Create -> app-lib DataClient.cs InsertBinaryData(instanceId, dataType, contentType, filename, stream):
    // ContentDispositionHeaderValue with FileName and FileNameStar.
    const bytes = new Uint8Array(4096).map((_, index) => (index * 31 + 7) % 256);
    const upload = await host.send('POST', `/storage/api/v1/instances/${id}/data?dataType=attachment`, {
      headers: {
        ...storageHeaders(token),
        'Content-Type': 'application/pdf',
        'Content-Disposition': "attachment; filename=kvittering.pdf; filename*=utf-8''kvittering.pdf",
      },
      body: bytes,
    });
    await expectStatus(upload, 201, 'POST storage instances/{p}/{g}/data?dataType=attachment');
    const attachment = (await upload.json()) as Record<string, unknown>;
    expect(attachment.dataType).toBe('attachment');
    expect(attachment.filename).toBe('kvittering.pdf');
    expect(attachment.contentType).toBe('application/pdf');
    expect(attachment.size).toBe(bytes.length);
    state.attachmentId = String(attachment.id);
    state.attachmentBytes = bytes;

    // Nothing half-written: an empty upload is refused and leaves the instance's data as it was.
    const empty = await host.send('POST', `/storage/api/v1/instances/${id}/data?dataType=attachment`, {
      headers: { ...storageHeaders(token), 'Content-Type': 'application/pdf' },
      body: new Uint8Array(0),
    });
    await expectProblem(empty, 400, 'POST data with an empty body');
    expect(((await getInstance(token, 'GET instance')).data as unknown[]).length).toBe(2);
  });

  // 4a. Process next from the data task: src/Altinn.App.Api/Controllers/ProcessController.cs NextElement ->
  // ProcessEngine.Next: GetInstance, ProcessEngineAuthorizer.AuthorizeProcessNext ("write" for a data task),
  // instanceLock.Lock(), validation (reads the form), HandleMoveToNext (EndTaskEventHandler: ProcessTaskDataLocker.Lock
  // of Task_1's data; StartTaskEventHandler for Task_2; DispatchToStorage), RegisterEventWithEventsComponent, then the
  // lock's release; ConvertAndAuthorizeActions asks the new task's actions in one multi-decision.
  it('4a. process next to the signing task: write permit, instance lock, data locked, state and events stored', async () => {
    const token = made('userToken');
    const guid = made('instanceGuid');
    await getInstance(token, 'GET storage instances/{p}/{g} (NextElement)');
    await expectPermit(singleDecision(token, 'write', DDG.partyId, guid, 'Task_1'), 'POST decision (write at Task_1)');

    const lockToken = await acquireLock('POST storage instances/{p}/{g}/lock');
    // While Sophie's request holds it, another process next is refused (Storage answers 409).
    const second = await host.send('POST', `/storage/api/v1/instances/${made('instanceId')}/lock`, {
      headers: { ...lockHeaders(token), 'Content-Type': JSON_UTF8 },
      body: JSON.stringify({ ttlSeconds: 300 }),
    });
    await expectProblem(second, 409, 'POST lock while it is held');

    // ValidationService reads the form: app-lib DataClient.cs GetBinaryData / GetFormData
    const form = await host.send('GET', `/storage/api/v1/instances/${made('instanceId')}/data/${made('modelId')}`, {
      headers: storageHeaders(token),
    });
    await expectStatus(form, 200, 'GET storage instances/{p}/{g}/data/{dataGuid}');
    expect(await form.text()).toBe(made('modelXml'));

    // ProcessTaskDataLocker.Lock(Task_1): every element of a data type whose taskId is Task_1
    await lockDataElement(made('modelId'), 'PUT data/{model}/lock');
    await lockDataElement(made('attachmentId'), 'PUT data/{attachment}/lock');

    const started = made('processStarted');
    const task1: TaskInfo = { flow: 2, started, elementId: 'Task_1', name: 'Utfylling', altinnTaskType: 'data' };
    const task2: TaskInfo = {
      flow: 3,
      started: dotnetNow(),
      elementId: 'Task_2',
      name: 'Signering',
      altinnTaskType: 'signing',
    };
    const atTask2 = processState(started, task2);
    const updated = await updateProcessAndEvents(
      atTask2,
      [
        instanceEvent('process_EndTask', token, SOPHIE.ssn, processState(started, task1)),
        instanceEvent('process_StartTask', token, SOPHIE.ssn, atTask2),
      ],
      'PUT process/instanceandevents (Task_1 -> Task_2)',
    );
    const process = updated.process as Record<string, unknown>;
    expect(member(process.currentTask, 'elementId')).toBe('Task_2');
    expect(member(process.currentTask, 'altinnTaskType')).toBe('signing');
    const locked = (updated.data as Record<string, unknown>[]).map((element) => element.locked);
    expect(locked).toEqual([true, true]);

    // ProcessEventDispatcher.RegisterEventWithEventsComponent
    await addEvent('app.instance.process.movedTo.Task_2', 'POST events/api/v1/app (movedTo.Task_2)');

    // InstanceLocker's handle disposed: PATCH lock with TimeSpan.Zero and the token; a wrong token is refused.
    const wrong = await releaseLock('not-the-lock-token');
    expect(wrong.status, 'PATCH lock with a wrong token').toBeGreaterThanOrEqual(400);
    expect(wrong.status, 'PATCH lock with a wrong token').toBeLessThan(500);
    await expectStatus(await releaseLock(lockToken), [200, 204], 'PATCH storage instances/{p}/{g}/lock');

    // ProcessController.ConvertAndAuthorizeActions -> AuthorizationClient.AuthorizeActions:
    // MultiDecisionHelper.CreateMultiDecisionRequest, results mapped back to actions by their category.
    const actions = ['sign', 'reject'];
    const results = await decide(
      decisionRoot(
        [
          category('r1', [
            attribute('urn:altinn:task', 'Task_2', 'Altinn'),
            attribute('urn:altinn:instance-id', made('instanceId'), 'Altinn', true),
            attribute('urn:altinn:partyid', String(DDG.partyId), 'Altinn'),
            attribute('urn:altinn:org', TTD.org, 'Altinn'),
            attribute('urn:altinn:app', APP, 'Altinn'),
          ]),
        ],
        actions.map((action, index) => category(`a${index + 1}`, [attribute(ACTION_ID, action, 'Altinn', true)])),
        [subject(token, 's1')],
        { requestReference: actions.map((_, index) => ({ referenceId: ['s1', `a${index + 1}`, 'r1'] })) },
      ),
      'POST decision (multi: the actions of Task_2)',
    );
    const permitted = results
      .filter((result) => result.decision === 'Permit')
      .flatMap((result) => (result.category as unknown[] | undefined) ?? [])
      .flatMap((entry) => (member(entry, 'attribute') as unknown[]) ?? [])
      .filter((entry) => member(entry, 'attributeId') === ACTION_ID)
      .map((entry) => member(entry, 'value'));
    expect(permitted).toEqual(['sign']);
  });

  // 4b. Signing: ProcessController.NextElement with {"action":"sign"} -> ProcessEngine.Next: AuthorizeAction("sign",
  // Task_2), the lock, HandleUserAction -> src/Altinn.App.Core/Features/Action/SigningUserAction.cs (SignClient.
  // SignDataElements, then GetInstance for the signature element), HandleMoveToNext to the end event
  // (ProcessTaskDataLocker.Lock of Task_2's data, DispatchToStorage with EndTask, EndEvent and Submited),
  // RegisterEventWithEventsComponent ("app.instance.process.completed"), the lock's release.
  it('4b. sign and end the process: sign permit, lock, signature element, end state, Storage events', async () => {
    const token = made('userToken');
    const guid = made('instanceGuid');
    await getInstance(token, 'GET storage instances/{p}/{g} (NextElement)');
    await expectPermit(singleDecision(token, 'sign', DDG.partyId, guid, 'Task_2'), 'POST decision (sign at Task_2)');
    const lockToken = await acquireLock('POST storage instances/{p}/{g}/lock (sign)');

    // src/Altinn.App.Core/Infrastructure/Clients/Storage/SignClient.cs SignDataElements: JsonContent.Create(SignRequest)
    // (web defaults; Signee's own JsonPropertyName names); DataElementSignature ids of the data types to sign.
    const signRequest = {
      signatureDocumentDataType: 'signature',
      generatedFromTask: 'Task_2',
      dataElementSignatures: [
        { dataElementId: made('modelId'), signed: true },
        { dataElementId: made('attachmentId'), signed: true },
      ],
      signee: { userId: String(SOPHIE.userId), systemUserId: null, personNumber: SOPHIE.ssn, organisationNumber: null },
    };
    const signed = await host.send('POST', `/storage/api/v1/instances/${made('instanceId')}/sign`, {
      headers: { ...storageHeaders(token), 'Content-Type': JSON_UTF8 },
      body: JSON.stringify(signRequest),
    });
    // SignClient takes any 2xx and reads no body.
    await expectStatus(signed, [200, 201], 'POST storage instances/{p}/{g}/sign');
    const afterSign = await getInstance(token, 'GET instance (SigningUserAction reloads the data)');
    const signature = (afterSign.data as Record<string, unknown>[]).find((element) => element.dataType === 'signature');
    expect(signature, 'the signature data element').toBeDefined();
    expect(signature?.locked).toBe(true);
    state.signatureId = String(signature?.id);

    // ProcessTaskDataLocker.Lock(Task_2): the signature element (already locked by Storage: 200)
    await lockDataElement(made('signatureId'), 'PUT data/{signature}/lock');

    const started = made('processStarted');
    const current = member(afterSign.process, 'currentTask') as Record<string, unknown>;
    const task2: TaskInfo = {
      flow: 3,
      started: String(current.started),
      elementId: 'Task_2',
      name: 'Signering',
      altinnTaskType: 'signing',
    };
    const ended = dotnetNow();
    const atEnd = processState(started, null, ended);
    const updated = await updateProcessAndEvents(
      atEnd,
      [
        instanceEvent('process_EndTask', token, SOPHIE.ssn, processState(started, task2)),
        instanceEvent('process_EndEvent', token, SOPHIE.ssn, atEnd),
        instanceEvent('Submited', token, SOPHIE.ssn, atEnd),
      ],
      'PUT process/instanceandevents (Task_2 -> end)',
    );
    const process = updated.process as Record<string, unknown>;
    expect(process.currentTask ?? null).toBeNull();
    expect(process.endEvent).toBe('EndEvent_1');
    expect(typeof process.ended).toBe('string');

    await addEvent('app.instance.process.completed', 'POST events/api/v1/app (process.completed)');
    await expectStatus(await releaseLock(lockToken), [200, 204], 'PATCH lock (release after sign)');

    // src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceEventClient.cs GetInstanceEvents: what app-lib wrote,
    // and Storage's own Signed event.
    const events = await host.send('GET', `/storage/api/v1/instances/${made('instanceId')}/events`, {
      headers: storageHeaders(token),
    });
    await expectStatus(events, 200, 'GET storage instances/{p}/{g}/events');
    const types = ((member(await events.json(), 'instanceEvents') as Record<string, unknown>[]) ?? []).map(
      (event) => event.eventType,
    );
    expect(types).toEqual(
      expect.arrayContaining([
        'process_StartEvent',
        'process_StartTask',
        'process_EndTask',
        'Signed',
        'process_EndEvent',
        'Submited',
      ]),
    );

    // Nobody else moves the process: Kari, who may not act for DDG Fitness, is refused and nothing changes.
    const kari = await host.userToken(KARI_SSN);
    const foreign = await host.send(
      'PUT',
      `/storage/api/v1/instances/${made('instanceId')}/process/instanceandevents`,
      {
        headers: { ...storageHeaders(kari), 'Content-Type': JSON_UTF8 },
        body: JSON.stringify({ state: processState(started, task2), events: [] }),
      },
    );
    await expectProblem(foreign, 403, 'PUT instanceandevents by a user without rights');
    const unchanged = await getInstance(token, 'GET instance after the refused write');
    expect(member(unchanged.process, 'endEvent')).toBe('EndEvent_1');
  });

  // 5. The service owner: lists its app's completed, unconfirmed instances (InstanceClient.GetInstances with
  // QueryHelpers.AddQueryString: `/` as %2F), downloads each element (DataClient.GetBinaryData) and confirms
  // (InstancesController.AddCompleteConfirmation -> InstanceClient.AddCompleteConfirmation with the org's token).
  it('5. the org lists, downloads (contentHash) and confirms: the instance shows completeConfirmations', async () => {
    const org = made('orgToken');
    made('instanceId'); // the instance of steps 2-4
    // app-lib InstanceClient.cs GetInstances / QueryInstances (QueryHelpers.AddQueryString encodes `/` as %2F)
    const query = '/storage/api/v1/instances?appId=ttd%2Flifecycle&process.isComplete=true&excludeConfirmedBy=ttd';
    const listed = await host.send('GET', query, { headers: storageHeaders(org) });
    await expectStatus(listed, 200, 'GET storage instances?appId=&process.isComplete=&excludeConfirmedBy=');
    const page = (await listed.json()) as Record<string, unknown>;
    expect(page.count).toBe(1);
    const [listedInstance] = page.instances as Record<string, unknown>[];
    expect(listedInstance?.id).toBe(made('instanceId'));

    const data = (listedInstance?.data as Record<string, unknown>[]) ?? [];
    expect(data.map((element) => element.dataType).sort()).toEqual(['attachment', 'model', 'signature']);
    for (const element of data) {
      const download = await host.send('GET', `/storage/api/v1/instances/${made('instanceId')}/data/${element.id}`, {
        headers: storageHeaders(org),
      });
      await expectStatus(download, 200, `GET data/{${element.dataType}} as the org`);
      const bytes = new Uint8Array(await download.arrayBuffer());
      expect(bytes.length, `${element.dataType} size`).toBe(element.size);
      expect(createHash('md5').update(bytes).digest('base64'), `${element.dataType} contentHash`).toBe(
        element.contentHash,
      );
      if (element.id === made('attachmentId')) expect(bytes).toEqual(made('attachmentBytes'));
    }

    // An end user may not confirm for the org (Storage: org only).
    const byUser = await host.send('POST', `/storage/api/v1/instances/${made('instanceId')}/complete`, {
      headers: { ...storageHeaders(made('userToken')), 'Content-Type': 'text/plain; charset=utf-8' },
      body: '',
    });
    await expectProblem(byUser, 403, 'POST complete as an end user');

    // app-lib InstanceClient.cs AddCompleteConfirmation: `new StringContent(string.Empty)`
    const completed = await host.send('POST', `/storage/api/v1/instances/${made('instanceId')}/complete`, {
      headers: { ...storageHeaders(org), 'Content-Type': 'text/plain; charset=utf-8' },
      body: '',
    });
    await expectStatus(completed, 200, 'POST storage instances/{p}/{g}/complete');
    const confirmations = (await completed.json()) as Record<string, unknown>;
    expect(confirmations.completeConfirmations).toEqual([
      expect.objectContaining({ stakeholderId: TTD.org, confirmedOn: expect.any(String) }),
    ]);

    const read = await getInstance(org, 'GET instance as the org');
    expect((read.completeConfirmations as unknown[]).length).toBe(1);
    const again = await host.send('GET', query, { headers: storageHeaders(org) });
    await expectStatus(again, 200, 'GET the same query after confirming');
    expect(((await again.json()) as Record<string, unknown>).count).toBe(0);
  });
});
