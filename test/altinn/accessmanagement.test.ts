import { beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, signAppToken } from '../support/certificates.js';
import { bearer, jsonBody, TTD, USERS, useReplayHost } from './harness.js';

/**
 * Replays of the Access management calls app-lib v8.12.7 makes when it delegates a signing task to signees
 * (src/Altinn.App.Core/Features/Signing/Services/SigningDelegationService.cs through
 * src/Altinn.App.Core/Infrastructure/Clients/AccessManagement/AccessManagementClient.cs), as raw HTTP against a
 * running host, and what the delegated rights then reach: Storage (DataServices) and the PEP's POST decision.
 */

// The operator's token issues the subscription key the PEP decides with (read by the host from the environment).
const OPERATOR_TOKEN = 'operator-token-for-accessmanagement-replay-0123456789';

const host = useReplayHost({ PROVISIONER_ADMIN_TOKEN: OPERATOR_TOKEN });
const AM = '/accessmanagement/api/v1';
const S = '/storage/api/v1';
const APP = 'signapp';
const RESOURCE_ID = `app_${TTD.org}_${APP}`; // AppResourceId.FromAppIdentifier(...).Value
const TASK = 'Task_2';
const ACTION_ID = 'urn:oasis:names:tc:xacml:1.0:action:action-id';
const PARTY_UUID = 'urn:altinn:party:uuid';

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as app-lib deserializes them
type Json = Record<string, any>;

/** Register's seeded party UUIDs (functions/src/register/SEED.md). */
const partyUuid = (partyId: number) => `00000000-0000-4000-a000-${String(partyId).padStart(12, '0')}`;

/**
 * `JsonSerializer.Serialize(DelegationRequest.ConvertToDto(delegation))` of SigningDelegationService.CreateRights:
 * System.Text.Json defaults (names from [JsonPropertyName], declaration order), rights read and sign on the app, org
 * and task, plus the signee's additional actions.
 */
function delegationBody(from: number, to: number, actions = ['read', 'sign'], task = TASK) {
  const resource = [
    { type: 'urn:altinn:app', value: APP },
    { type: 'urn:altinn:org', value: TTD.org },
    { type: 'urn:altinn:task', value: task },
  ];
  return {
    from: { type: PARTY_UUID, value: partyUuid(from) },
    to: { type: PARTY_UUID, value: partyUuid(to) },
    rights: actions.map((value) => ({ resource, action: { type: ACTION_ID, value } })),
  };
}

let org: string;
let pat: string;
let ola: string;
let pepKey: string;
let instance: Json;
let other: Json;

/**
 * AccessManagementClient.CreateRequestMessage: POST, Accept application/json, the app's PlatformAccessToken (no
 * bearer, no subscription key), a StringContent of the serialized DTO with MediaTypeHeaderValue("application/json"),
 * which sends `application/json` without a charset.
 */
function am(
  kind: 'delegations' | 'delegationrevoke',
  instanceGuid: string,
  body: unknown,
  options: { resourceId?: string; headers?: Record<string, string> } = {},
) {
  return host.send('POST', `${AM}/app/${kind}/resource/${options.resourceId ?? RESOURCE_ID}/instance/${instanceGuid}`, {
    headers: options.headers ?? {
      Accept: 'application/json',
      PlatformAccessToken: pat,
      'Content-Type': 'application/json',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const guidOf = (value: Json) => String(value.id).split('/')[1] as string;

/** Storage as app-lib calls it for its user: the user's bearer, the app's PlatformAccessToken on writes. */
const storage = (
  method: string,
  path: string,
  token: string,
  body?: { headers: Record<string, string>; body: string },
) =>
  host.send(method, `${S}/${path}`, {
    headers: { Accept: 'application/json', ...bearer(token), ...(body?.headers ?? {}) },
    ...(body ? { body: body.body } : {}),
  });

/** The process state app-lib writes (PUT .../process/instanceandevents) when a task starts. */
async function moveTo(target: Json, task: string) {
  const started = '2026-03-01T10:00:00Z';
  const state = {
    started,
    startEvent: 'StartEvent_1',
    currentTask: { flow: 2, started, elementId: task, name: 'Signering', altinnTaskType: 'signing', ended: null },
    ended: null,
    endEvent: null,
  };
  const response = await storage(
    'PUT',
    `instances/${target.id}/process/instanceandevents`,
    org,
    jsonBody({ state, events: [] }),
  );
  expect(response.status).toBe(200);
}

/**
 * Altinn.Common.PEP's MultiDecisionHelper request for an instance (as app-lib's ProcessController and
 * UserActionController ask it, subscription key, no token): the task, the instance id, the party, org and app.
 */
async function decide(userId: number, target: Json, actions: string[]): Promise<string[]> {
  const attribute = (attributeId: string, value: string, includeInResult = false) => ({
    attributeId,
    value,
    issuer: 'Altinn',
    dataType: 'string',
    includeInResult,
  });
  const category = (id: string, attributes: ReturnType<typeof attribute>[]) => ({
    categoryId: null,
    id,
    content: null,
    attribute: attributes,
  });
  const partyId = String(target.instanceOwner.partyId);
  const body = {
    request: {
      returnPolicyIdList: false,
      combinedDecision: false,
      xPathVersion: null,
      category: null,
      resource: [
        category('r1', [
          attribute('urn:altinn:task', target.process.currentTask.elementId),
          attribute('urn:altinn:instance-id', `${partyId}/${guidOf(target)}`, true),
          attribute('urn:altinn:partyid', partyId),
          attribute('urn:altinn:org', TTD.org),
          attribute('urn:altinn:app', APP),
        ]),
      ],
      action: actions.map((action, index) => category(`a${index + 1}`, [attribute(ACTION_ID, action, true)])),
      accessSubject: [
        category('s1', [attribute('urn:altinn:authlevel', '2'), attribute('urn:altinn:userid', String(userId))]),
      ],
      recipientSubject: null,
      intermediarySubject: null,
      requestingMachine: null,
      multiRequests: { requestReference: actions.map((_, index) => ({ referenceId: ['s1', `a${index + 1}`, 'r1'] })) },
    },
  };
  const response = await host.send('POST', '/authorization/api/v1/decision', {
    headers: { 'Ocp-Apim-Subscription-Key': pepKey, Accept: 'application/json', ...jsonBody(body).headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { response: { decision: string }[] }).response.map((r) => r.decision);
}

async function expectProblem(response: Response, status: number, field?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as { status: number; errors?: { field: string }[] };
  expect(problem.status).toBe(status);
  if (field) expect(problem.errors?.map((error) => error.field)).toContain(field);
}

const delegationCount = async () =>
  Number((await host.db.query<{ n: string }>('SELECT count(*)::text AS n FROM delegations'))[0]?.n);

async function newInstance(): Promise<Json> {
  const response = await storage(
    'POST',
    `instances?appId=${TTD.org}/${APP}`,
    org,
    jsonBody({ instanceOwner: { partyId: String(USERS.sophie.partyId) } }),
  );
  expect(response.status).toBe(201);
  const created = (await response.json()) as Json;
  await moveTo(created, TASK);
  return { ...created, process: { currentTask: { elementId: TASK } } };
}

beforeAll(async () => {
  org = await host.orgToken();
  ola = await host.userToken(USERS.ola.ssn);
  const metadata = {
    id: `${TTD.org}/${APP}`,
    org: TTD.org,
    title: { nb: 'Signering' },
    dataTypes: [
      { id: 'model', allowedContentTypes: ['application/xml'], maxCount: 1, minCount: 0 },
      { id: 'signature', allowedContentTypes: ['application/json'], maxCount: 0, minCount: 0 },
    ],
    partyTypesAllowed: { person: true, organisation: true, subUnit: false, bankruptcyEstate: false },
  };
  expect((await storage('POST', `applications?appId=${TTD.org}/${APP}`, org, jsonBody(metadata))).status).toBe(201);
  // The app's policy: the owner fills in and signs; the app's owner reads and writes.
  const resources = [{ org: TTD.org, app: APP }];
  const policy = {
    rules: [
      { id: 'owner', subjects: ['PRIV', 'DAGL'], actions: ['instantiate', 'read', 'write'], resources },
      {
        id: 'signing',
        subjects: ['PRIV', 'DAGL'],
        actions: ['read', 'sign'],
        resources: [{ ...resources[0], task: TASK }],
      },
      { id: 'app-owner', subjects: ['urn:altinn:org'], actions: ['read', 'write'], resources },
    ],
  };
  const stored = await host.send('PUT', `/authorization/api/v1/policies/${TTD.org}/${APP}`, {
    headers: { ...bearer(org), ...jsonBody(policy).headers },
    body: JSON.stringify(policy),
  });
  expect(stored.status).toBe(200);
  const issued = await host.send('POST', `/authorization/api/v1/subscriptionkeys/${TTD.org}`, {
    headers: bearer(OPERATOR_TOKEN),
  });
  expect(issued.status).toBe(201);
  pepKey = ((await issued.json()) as { key: string }).key;
  const token = await host.send('GET', `/authentication/api/v1/accesstoken/${TTD.org}/${APP}`, {
    headers: bearer(org),
  });
  expect(token.status).toBe(200);
  pat = await token.text();
  instance = await newInstance();
  other = await newInstance();
}, 120_000);

describe('a signee delegated read and sign on one instance', () => {
  // app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/AccessManagement/AccessManagementClient.cs DelegateRights
  // (from SigningDelegationService.DelegateSigneeRights): any 2xx is success and the body deserializes as
  // DelegationResponse { from, to, resourceId, instanceId, rights [{ status }] }.
  it('reads that instance and gets Permit for sign on it, and nothing on another instance of the app', async () => {
    expect((await storage('GET', `instances/${instance.id}`, ola)).status).toBe(403);
    expect(await decide(USERS.ola.userId, instance, ['read', 'sign'])).toEqual(['Deny', 'Deny']);

    const response = await am('delegations', guidOf(instance), delegationBody(USERS.sophie.partyId, USERS.ola.partyId));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const answer = (await response.json()) as Json;
    expect(answer.from).toEqual({ type: PARTY_UUID, value: partyUuid(USERS.sophie.partyId) });
    expect(answer.to).toEqual({ type: PARTY_UUID, value: partyUuid(USERS.ola.partyId) });
    expect(answer.resourceId).toBe(RESOURCE_ID);
    expect(answer.instanceId).toBe(guidOf(instance));
    expect(answer.rights.map((right: Json) => [right.action.value, right.status])).toEqual([
      ['read', 'Delegated'],
      ['sign', 'Delegated'],
    ]);

    const read = await storage('GET', `instances/${instance.id}`, ola);
    expect(read.status).toBe(200);
    expect(((await read.json()) as Json).id).toBe(instance.id);
    expect(await decide(USERS.ola.userId, instance, ['read', 'sign', 'write'])).toEqual(['Permit', 'Permit', 'Deny']);

    // Another instance of the same app and owner: nothing.
    expect((await storage('GET', `instances/${other.id}`, ola)).status).toBe(403);
    expect(await decide(USERS.ola.userId, other, ['read', 'sign'])).toEqual(['Deny', 'Deny']);
    // Rights on one instance do not make Sophie a party Ola represents.
    const parties = await host.send('GET', `/authorization/api/v1/parties?userId=${USERS.ola.userId}`, {
      headers: bearer(ola),
    });
    expect(parties.status).toBe(200);
    const partyIds = ((await parties.json()) as Json[]).map((party) => party.partyId);
    expect(partyIds).not.toContain(USERS.sophie.partyId);
  });

  // SignClient.SignDataElements as the signee's app calls it (the user's token and the app's PlatformAccessToken):
  // Storage's sign needs the sign action, which the signee now holds on this instance; a write he does not hold.
  it('lets the signee sign through the app, but not write the instance', async () => {
    const request = {
      signatureDocumentDataType: 'signature',
      generatedFromTask: TASK,
      dataElementSignatures: [],
      signee: {
        userId: String(USERS.ola.userId),
        systemUserId: null,
        personNumber: USERS.ola.ssn,
        organisationNumber: null,
      },
    };
    const signed = await host.send('POST', `${S}/instances/${instance.id}/sign`, {
      headers: { ...bearer(ola), PlatformAccessToken: pat, ...jsonBody(request).headers },
      body: JSON.stringify(request),
    });
    expect(signed.status).toBe(201);
    // DataClient-style write of the instance (InstanceClient.UpdateDataValues): write is not delegated.
    const values = { values: { signed: 'yes' } };
    const write = await host.send('PUT', `${S}/instances/${instance.id}/datavalues`, {
      headers: { ...bearer(ola), PlatformAccessToken: pat, ...jsonBody(values).headers },
      body: JSON.stringify(values),
    });
    expect(write.status).toBe(403);
    const signOther = await host.send('POST', `${S}/instances/${other.id}/sign`, {
      headers: { ...bearer(ola), PlatformAccessToken: pat, ...jsonBody(request).headers },
      body: JSON.stringify(request),
    });
    expect(signOther.status).toBe(403);
  });

  it('holds in its task only: once the process leaves the signing task the signee is refused', async () => {
    const moving = await newInstance();
    expect(
      (await am('delegations', guidOf(moving), delegationBody(USERS.sophie.partyId, USERS.ola.partyId))).status,
    ).toBe(200);
    expect((await storage('GET', `instances/${moving.id}`, ola)).status).toBe(200);
    await moveTo(moving, 'Task_3');
    expect((await storage('GET', `instances/${moving.id}`, ola)).status).toBe(403);
    expect(
      await decide(USERS.ola.userId, { ...moving, process: { currentTask: { elementId: 'Task_3' } } }, ['read']),
    ).toEqual(['Deny']);
  });

  // A signee that is an organisation (SigneeContext with an organisation party): its key-role holders get the rights.
  it('reaches the key-role holders of an organisation signee, on that instance only', async () => {
    const nordlys = 500100; // Nordlys Regnskap AS, Ola is its DAGL (register/SEED.md)
    const target = await newInstance();
    expect((await storage('GET', `instances/${target.id}`, ola)).status).toBe(403);
    const delegated = await am('delegations', guidOf(target), delegationBody(USERS.sophie.partyId, nordlys));
    expect(delegated.status).toBe(200);
    expect((await storage('GET', `instances/${target.id}`, ola)).status).toBe(200);
    expect(await decide(USERS.ola.userId, target, ['sign'])).toEqual(['Permit']);
    expect(await decide(USERS.ola.userId, other, ['sign'])).toEqual(['Deny']);
    const revoked = await am('delegationrevoke', guidOf(target), delegationBody(USERS.sophie.partyId, nordlys));
    expect(revoked.status).toBe(200);
    expect((await storage('GET', `instances/${target.id}`, ola)).status).toBe(403);
  });

  it("answers 206 with NotDelegated for an action the app's policy does not grant in the task, delegating the rest", async () => {
    const target = await newInstance();
    const response = await am(
      'delegations',
      guidOf(target),
      delegationBody(USERS.sophie.partyId, USERS.ola.partyId, ['read', 'sign', 'delete', 'pay-invoice']),
    );
    expect(response.status).toBe(206);
    const answer = (await response.json()) as Json;
    expect(answer.rights.map((right: Json) => right.status)).toEqual([
      'Delegated',
      'Delegated',
      'NotDelegated',
      'NotDelegated',
    ]);
    expect(await decide(USERS.ola.userId, target, ['read', 'sign'])).toEqual(['Permit', 'Permit']);
    // The policy grants nobody delete: not delegated, so the signee may not delete the instance.
    expect((await storage('DELETE', `instances/${target.id}`, ola)).status).toBe(403);
    expect(
      (await am('delegationrevoke', guidOf(target), delegationBody(USERS.sophie.partyId, USERS.ola.partyId))).status,
    ).toBe(200);
  });

  // The PlatformAccessToken as app-lib really sends it: signed by the app itself with its org's certificate
  // (Altinn.Common.AccessTokenClient AccessTokenGenerator), the certificate registered for ttd beforehand.
  it("takes the app's own PlatformAccessToken, signed with its org's registered certificate", async () => {
    const now = Date.now();
    const certificate = makeCertificate(TTD.org, new Date(now - 3_600_000), new Date(now + 86_400_000));
    const registered = await host.send('POST', `/authentication/api/v1/apptokenkeys/${TTD.org}`, {
      headers: { ...bearer(org), ...jsonBody({}).headers },
      body: JSON.stringify({ certificate: certificate.pem }),
    });
    expect(registered.status).toBe(201);
    const own = await signAppToken(certificate.privateKeyPem, {
      issuer: TTD.org,
      app: APP,
      kid: certificate.thumbprint,
      x5t: certificate.x5t,
    });
    const headers = { Accept: 'application/json', PlatformAccessToken: own, 'Content-Type': 'application/json' };
    const target = await newInstance();
    const body = delegationBody(USERS.sophie.partyId, USERS.ola.partyId);
    expect((await am('delegations', guidOf(target), body, { headers })).status).toBe(200);
    expect((await storage('GET', `instances/${target.id}`, ola)).status).toBe(200);
    expect((await am('delegationrevoke', guidOf(target), body, { headers })).status).toBe(200);
    expect((await storage('GET', `instances/${target.id}`, ola)).status).toBe(403);
  });

  it('delegating the same rights again changes nothing', async () => {
    const before = await delegationCount();
    const again = await am('delegations', guidOf(instance), delegationBody(USERS.sophie.partyId, USERS.ola.partyId));
    expect(again.status).toBe(200);
    expect(await delegationCount()).toBe(before);
  });

  // app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/AccessManagement/AccessManagementClient.cs RevokeRights
  // (from SigningDelegationService.RevokeSigneeRights): the same body, any 2xx.
  it('revokes: the signee is refused again, and both changes are audited as the app', async () => {
    const response = await am(
      'delegationrevoke',
      guidOf(instance),
      delegationBody(USERS.sophie.partyId, USERS.ola.partyId),
    );
    expect(response.status).toBe(200);
    const answer = (await response.json()) as Json;
    expect(answer.rights.map((right: Json) => right.status)).toEqual(['Revoked', 'Revoked']);
    expect(answer.instanceId).toBe(guidOf(instance));

    expect((await storage('GET', `instances/${instance.id}`, ola)).status).toBe(403);
    expect(await decide(USERS.ola.userId, instance, ['read', 'sign'])).toEqual(['Deny', 'Deny']);

    // Intermediary shows the delegation Ola received, scoped to the instance and task, and its audit trail.
    const received = await host.send(
      'GET',
      `/intermediary/api/v1/delegations/received?userId=${USERS.ola.userId}&includeRevoked=true`,
      { headers: bearer(ola) },
    );
    expect(received.status).toBe(200);
    const onInstance = ((await received.json()) as Json[]).filter(
      (delegation) => delegation.instanceId === `${USERS.sophie.partyId}/${guidOf(instance)}`,
    );
    expect(onInstance).toHaveLength(1);
    expect(onInstance[0]).toMatchObject({
      offeredByPartyId: USERS.sophie.partyId,
      coveredByUserId: USERS.ola.userId,
      rights: { org: TTD.org, app: APP, actions: ['read', 'sign'] },
      taskId: TASK,
      createdBy: `app:${TTD.org}/${APP}`,
      revokedBy: `app:${TTD.org}/${APP}`,
    });
    const audit = await host.send('GET', `/intermediary/api/v1/delegations/${onInstance[0]?.delegationId}/audit`, {
      headers: bearer(ola),
    });
    expect(((await audit.json()) as Json[]).map((entry) => [entry.change, entry.actor])).toEqual([
      ['created', `app:${TTD.org}/${APP}`],
      ['revoked', `app:${TTD.org}/${APP}`],
    ]);

    // Revoking what is no longer held is done, not an error (app-lib would otherwise keep the signee "delegated").
    const again = await am(
      'delegationrevoke',
      guidOf(instance),
      delegationBody(USERS.sophie.partyId, USERS.ola.partyId),
    );
    expect(again.status).toBe(200);
  });
});

describe('refused calls write nothing', () => {
  const body = () => delegationBody(USERS.sophie.partyId, USERS.ola.partyId);

  it('401 without the PlatformAccessToken, also with a user bearer token', async () => {
    const before = await delegationCount();
    await expectProblem(
      await am('delegations', guidOf(other), body(), { headers: { 'Content-Type': 'application/json' } }),
      401,
    );
    await expectProblem(
      await am('delegations', guidOf(other), body(), {
        headers: { ...bearer(ola), 'Content-Type': 'application/json' },
      }),
      401,
    );
    await expectProblem(
      await am('delegations', guidOf(other), body(), {
        headers: { PlatformAccessToken: 'not-a-token', 'Content-Type': 'application/json' },
      }),
      401,
    );
    expect(await delegationCount()).toBe(before);
  });

  it("403 for another app's resource, of the same org or another", async () => {
    const before = await delegationCount();
    const token = await host.send('GET', `/authentication/api/v1/accesstoken/${TTD.org}/otherapp`, {
      headers: bearer(org),
    });
    const otherPat = await token.text();
    await expectProblem(
      await am('delegations', guidOf(other), body(), {
        headers: { PlatformAccessToken: otherPat, 'Content-Type': 'application/json' },
      }),
      403,
    );
    await expectProblem(await am('delegations', guidOf(other), body(), { resourceId: 'app_digdir_signapp' }), 403);
    await expectProblem(await am('delegationrevoke', guidOf(other), body(), { resourceId: 'app_digdir_signapp' }), 403);
    expect(await delegationCount()).toBe(before);
    expect((await storage('GET', `instances/${other.id}`, ola)).status).toBe(403);
  });

  it('400 naming the field for an unknown party UUID, a from that is not the owner, or a malformed body', async () => {
    const before = await delegationCount();
    const unknownTo = { ...body(), to: { type: PARTY_UUID, value: '00000000-0000-4000-a000-000000999999' } };
    await expectProblem(await am('delegations', guidOf(other), unknownTo), 400, 'to.value');
    const notOwner = delegationBody(USERS.ola.partyId, USERS.sophie.partyId);
    await expectProblem(await am('delegations', guidOf(other), notOwner), 400, 'from.value');
    const wrongType = { ...body(), to: { type: 'urn:altinn:person:identifier-no', value: USERS.ola.ssn } };
    await expectProblem(await am('delegations', guidOf(other), wrongType), 400, 'to.type');
    const wrongApp = delegationBody(USERS.sophie.partyId, USERS.ola.partyId);
    wrongApp.rights[0]?.resource.splice(0, 1, { type: 'urn:altinn:app', value: 'otherapp' });
    await expectProblem(await am('delegations', guidOf(other), wrongApp), 400, 'rights[0].resource');
    await expectProblem(await am('delegations', guidOf(other), '{"from":'), 400);
    await expectProblem(await am('delegations', guidOf(other), { ...body(), rights: [] }), 400);
    await expectProblem(await am('delegations', 'not-a-guid', body()), 400, 'instanceId');
    await expectProblem(await am('delegations', guidOf(other), body(), { resourceId: 'signapp' }), 400, 'resourceId');
    expect(await delegationCount()).toBe(before);
    expect((await storage('GET', `instances/${other.id}`, ola)).status).toBe(403);
  });

  it('404 for an instance that is not one of the app', async () => {
    const before = await delegationCount();
    await expectProblem(await am('delegations', '3f0e1c9a-6c1b-4c39-9d3e-0b1b3e4f5a6b', body()), 404);
    expect(await delegationCount()).toBe(before);
  });
});
