import { beforeAll, describe, expect, it } from 'vitest';
import { serviceOwnerRepository } from '../../functions/src/register/service-owners.js';
import { appPolicy } from '../../scripts/demo.js';
import { bearer, jsonBody, ORG_SCOPES, TTD, USERS, useReplayHost } from './harness.js';

/**
 * Replays of the Authorization calls Altinn's app library (v8.12.7) and its PEP (Altinn.Common.PEP 4.2.x) make,
 * byte for byte as they build them, against a running functions host.
 */

// The operator's token: it may issue any org's subscription keys (PROVISIONER_ADMIN_TOKEN, read by the host's config).
const OPERATOR_TOKEN = 'operator-token-for-replay-tests-0123456789';

const host = useReplayHost({ PROVISIONER_ADMIN_TOKEN: OPERATOR_TOKEN });

const ACTION_ID = 'urn:oasis:names:tc:xacml:1.0:action:action-id';
const PEP_ISSUER = 'https://platform.altinn.no/authentication/api/v1/openid/';
const INSTANCE_GUID = '6f0e1c9a-6c1b-4c39-9d3e-0b1b3e4f5a6b';
/** A second service owner (Nordlys Regnskap's number) whose key must not reach ttd's apps. */
const BRG = { org: 'brg', orgNumber: '310300004' } as const;

/** `XacmlJsonAttribute` as System.Text.Json's web defaults write it: every member, in declaration order. */
const attribute = (attributeId: string, value: string, issuer: string, includeInResult = false) => ({
  attributeId,
  value,
  issuer,
  dataType: 'string',
  includeInResult,
});

/** `XacmlJsonCategory` as written by the PEP. */
const category = (id: string | null, attributes: ReturnType<typeof attribute>[]) => ({
  categoryId: null,
  id,
  content: null,
  attribute: attributes,
});

/** `DecisionHelper.CreateSubjectCategory` of a platform user token: URN claims, the session id, the user id last. */
const subjectOf = (userId: number, id: string | null = null) =>
  category(id, [
    attribute('urn:altinn:authlevel', '2', PEP_ISSUER),
    attribute('urn:altinn:authenticatemethod', 'NotDefined', PEP_ISSUER),
    attribute('urn:altinn:sessionid', '0b0f7a8e-2f6e-4f55-8d7c-2f4bb3f1b9aa', PEP_ISSUER),
    attribute('urn:altinn:userid', String(userId), PEP_ISSUER),
  ]);

/** `XacmlJsonRequestRoot` as `AuthorizationApiClient` serializes it (`JsonSerializerDefaults.Web`). */
type Category = ReturnType<typeof category>;
const requestRoot = (parts: {
  resource: Category[];
  action: Category[];
  accessSubject: Category[];
  multi?: unknown;
}) => ({
  request: {
    returnPolicyIdList: false,
    combinedDecision: false,
    xPathVersion: null,
    category: null,
    resource: parts.resource,
    action: parts.action,
    accessSubject: parts.accessSubject,
    recipientSubject: null,
    intermediarySubject: null,
    requestingMachine: null,
    multiRequests: parts.multi ?? null,
  },
});

/**
 * `DecisionHelper.CreateDecisionRequest(org, app, user, action, partyId, instanceGuid)`: the resource names the party,
 * the instance when there is one, org and app.
 */
function singleRequest(userId: number, action: string, org: string, app: string, partyId: number, guid?: string) {
  return requestRoot({
    resource: [
      category(null, [
        attribute('urn:altinn:partyid', String(partyId), 'Altinn'),
        ...(guid ? [attribute('urn:altinn:instance-id', `${partyId}/${guid}`, 'Altinn')] : []),
        attribute('urn:altinn:org', org, 'Altinn'),
        attribute('urn:altinn:app', app, 'Altinn'),
      ]),
    ],
    action: [category(null, [attribute(ACTION_ID, action, 'Altinn')])],
    accessSubject: [subjectOf(userId)],
  });
}

/** `MultiDecisionHelper.CreateMultiDecisionRequest(user, instance, actions)`: one resource, one action per id. */
function multiRequest(userId: number, actions: string[], org: string, app: string, partyId: number, task: string) {
  return requestRoot({
    resource: [
      category('r1', [
        attribute('urn:altinn:task', task, 'Altinn'),
        attribute('urn:altinn:instance-id', `${partyId}/${INSTANCE_GUID}`, 'Altinn', true),
        attribute('urn:altinn:partyid', String(partyId), 'Altinn'),
        attribute('urn:altinn:org', org, 'Altinn'),
        attribute('urn:altinn:app', app, 'Altinn'),
      ]),
    ],
    action: actions.map((action, index) => category(`a${index + 1}`, [attribute(ACTION_ID, action, 'Altinn', true)])),
    accessSubject: [subjectOf(userId, 's1')],
    multi: { requestReference: actions.map((_, index) => ({ referenceId: ['s1', `a${index + 1}`, 'r1'] })) },
  });
}

/** The headers `AuthorizationApiClient` sends: forwarded-for, the subscription key, Accept, and the JSON body's type. */
const pepHeaders = (key: string | undefined): Record<string, string> => ({
  'x-forwarded-for': '',
  ...(key === undefined ? {} : { 'Ocp-Apim-Subscription-Key': key }),
  Accept: 'application/json',
  'Content-Type': 'application/json; charset=utf-8',
});

type Result = {
  decision: string;
  status: { statusCode: { value: string } };
  obligations?: { id: string; attributeAssignment: { attributeId: string; value: string; category: string }[] }[];
  category?: { categoryId: string; attribute: { attributeId: string; value: string }[] }[];
};

/** POST decision as the PEP posts it: the serialized body, no token. */
async function pep(key: string | undefined, body: unknown, extra: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return host.send('POST', '/authorization/api/v1/decision', { headers: { ...pepHeaders(key), ...extra }, body: text });
}

async function resultsOf(response: Response): Promise<Result[]> {
  expect(response.status).toBe(200);
  return ((await response.json()) as { response: Result[] }).response;
}

async function expectProblem(response: Response, status: number, detail?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as { status: number; detail: string };
  expect(problem.status).toBe(status);
  if (detail) expect(problem.detail).toContain(detail);
}

/** Issues a key for `org` as `headers` (operator or org token) and answers it. */
async function issueKey(org: string, headers: Record<string, string>, body?: unknown) {
  const json = body === undefined ? { headers: {}, body: undefined } : jsonBody(body);
  const response = await host.send('POST', `/authorization/api/v1/subscriptionkeys/${org}`, {
    headers: { ...headers, ...json.headers },
    ...(json.body === undefined ? {} : { body: json.body }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; key: string; org: string };
}

const operator = bearer(OPERATOR_TOKEN);
let ttdKey: string;

beforeAll(async () => {
  await serviceOwnerRepository(host.db).upsert({ ...BRG, name: 'Nordlys Regnskap AS' });
  const org = await host.orgToken();
  // The demo app's policy as `npm start` stores it, and one with a minimum authentication level.
  for (const [app, policy] of [
    ['demo', appPolicy(TTD.org, 'demo')],
    ['level3', { ...appPolicy(TTD.org, 'level3'), minimumAuthenticationLevel: 3 }],
  ] as const) {
    const stored = await host.send('PUT', `/authorization/api/v1/policies/${TTD.org}/${app}`, {
      ...jsonBody(policy),
      headers: { ...bearer(org), ...jsonBody(policy).headers },
    });
    expect(stored.status).toBe(200);
  }
  ttdKey = (await issueKey(TTD.org, operator)).key;
});

// Altinn.Common.PEP Clients/AuthorizationApiClient.cs AuthorizeRequest, with Helpers/DecisionHelper.cs
// CreateDecisionRequest, as app-lib src/Altinn.App.Api/Controllers/InstancesController.cs (v8.12.7) AuthorizeAction
// asks before it instantiates: a single request, no MultiRequests, no token.
describe('POST decision as the PEP sends it (subscription key, no token)', () => {
  it('permits Sophie to instantiate, read and write for her own party (PRIV from Profile, not from the request)', async () => {
    // Byte for byte: the body the PEP writes for InstancesController.Post.
    const body =
      '{"request":{"returnPolicyIdList":false,"combinedDecision":false,"xPathVersion":null,"category":null,' +
      '"resource":[{"categoryId":null,"id":null,"content":null,"attribute":[' +
      '{"attributeId":"urn:altinn:partyid","value":"510001","issuer":"Altinn","dataType":"string","includeInResult":false},' +
      '{"attributeId":"urn:altinn:org","value":"ttd","issuer":"Altinn","dataType":"string","includeInResult":false},' +
      '{"attributeId":"urn:altinn:app","value":"demo","issuer":"Altinn","dataType":"string","includeInResult":false}]}],' +
      '"action":[{"categoryId":null,"id":null,"content":null,"attribute":[' +
      '{"attributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","value":"instantiate","issuer":"Altinn","dataType":"string","includeInResult":false}]}],' +
      '"accessSubject":[{"categoryId":null,"id":null,"content":null,"attribute":[' +
      `{"attributeId":"urn:altinn:authlevel","value":"2","issuer":"${PEP_ISSUER}","dataType":"string","includeInResult":false},` +
      `{"attributeId":"urn:altinn:userid","value":"1001","issuer":"${PEP_ISSUER}","dataType":"string","includeInResult":false}]}],` +
      '"recipientSubject":null,"intermediarySubject":null,"requestingMachine":null,"multiRequests":null}}';
    expect(body).toBe(
      JSON.stringify(
        requestRoot({
          resource: [
            category(null, [
              attribute('urn:altinn:partyid', '510001', 'Altinn'),
              attribute('urn:altinn:org', 'ttd', 'Altinn'),
              attribute('urn:altinn:app', 'demo', 'Altinn'),
            ]),
          ],
          action: [category(null, [attribute(ACTION_ID, 'instantiate', 'Altinn')])],
          accessSubject: [
            category(null, [
              attribute('urn:altinn:authlevel', '2', PEP_ISSUER),
              attribute('urn:altinn:userid', '1001', PEP_ISSUER),
            ]),
          ],
        }),
      ),
    );
    const [result, ...rest] = await resultsOf(await pep(ttdKey, body));
    expect(rest).toEqual([]);
    expect(result?.decision).toBe('Permit');
    expect(result?.status.statusCode.value).toBe('urn:oasis:names:tc:xacml:1.0:status:ok');
    for (const action of ['read', 'write']) {
      const request = singleRequest(USERS.sophie.userId, action, 'ttd', 'demo', USERS.sophie.partyId, INSTANCE_GUID);
      expect((await resultsOf(await pep(ttdKey, request)))[0]?.decision).toBe('Permit');
    }
  });

  it('permits Sophie as DAGL of DDG Fitness and denies Ola, who holds no role the policy names there', async () => {
    const sophie = singleRequest(USERS.sophie.userId, 'instantiate', 'ttd', 'demo', 500000);
    expect((await resultsOf(await pep(ttdKey, sophie)))[0]?.decision).toBe('Permit');
    const ola = singleRequest(USERS.ola.userId, 'instantiate', 'ttd', 'demo', 510001);
    expect((await resultsOf(await pep(ttdKey, ola)))[0]?.decision).toBe('Deny');
  });

  it('answers the minimum authentication level obligation the PEP checks (category and value)', async () => {
    const request = singleRequest(USERS.sophie.userId, 'read', 'ttd', 'level3', USERS.sophie.partyId, INSTANCE_GUID);
    const [result] = await resultsOf(await pep(ttdKey, request));
    expect(result?.decision).toBe('Permit');
    const assignment = result?.obligations?.[0]?.attributeAssignment[0];
    expect(assignment).toMatchObject({ category: 'urn:altinn:minimum-authenticationlevel', value: '3' });
  });

  // app-lib src/Altinn.App.Core/Infrastructure/Clients/Authorization/AuthorizationClient.cs AuthorizeActions with
  // src/Altinn.App.Core/Helpers/MultiDecisionHelper.cs CreateMultiDecisionRequest / ValidatePdpMultiDecision: results
  // are mapped back to actions through each result's category (the action-id marked includeInResult).
  it('answers a multi-decision in order, each result echoing its action and instance in category', async () => {
    const actions = ['read', 'write', 'sign', 'reject'];
    const body = multiRequest(USERS.sophie.userId, actions, 'ttd', 'demo', USERS.sophie.partyId, 'Task_1');
    const results = await resultsOf(await pep(ttdKey, body));
    expect(results.map((r) => r.decision)).toEqual(['Permit', 'Permit', 'NotApplicable', 'NotApplicable']);
    // What ValidatePdpMultiDecision reads: per Permit, the action-id attribute's value in category.
    const permitted = results
      .filter((r) => r.decision === 'Permit')
      .flatMap((r) => r.category ?? [])
      .flatMap((c) => c.attribute)
      .filter((a) => a.attributeId === ACTION_ID)
      .map((a) => a.value);
    expect(permitted).toEqual(['read', 'write']);
    for (const [index, result] of results.entries()) {
      expect(result.category).toEqual([
        {
          categoryId: 'urn:oasis:names:tc:xacml:3.0:attribute-category:action',
          attribute: [
            { attributeId: ACTION_ID, value: actions[index], dataType: 'http://www.w3.org/2001/XMLSchema#string' },
          ],
        },
        {
          categoryId: 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource',
          attribute: [
            {
              attributeId: 'urn:altinn:instance-id',
              value: `${USERS.sophie.partyId}/${INSTANCE_GUID}`,
              dataType: 'http://www.w3.org/2001/XMLSchema#string',
            },
          ],
        },
      ]);
    }
  });

  it('binds PascalCase member names too (ASP.NET binds ignoring case) and answers in the same spelling', async () => {
    const camel = JSON.stringify(singleRequest(USERS.sophie.userId, 'read', 'ttd', 'demo', USERS.sophie.partyId));
    const pascal = camel.replace(
      /"([a-z])([A-Za-z]*)":/g,
      (_, first: string, rest: string) => `"${first.toUpperCase()}${rest}":`,
    );
    const response = await pep(ttdKey, pascal);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { Response: { Decision: string }[] }).Response[0]?.Decision).toBe('Permit');
  });
});

describe('POST decision refusals', () => {
  it('refuses anonymous callers: no key and no token is a 401, an empty key counts as none', async () => {
    const request = singleRequest(USERS.sophie.userId, 'read', 'ttd', 'demo', USERS.sophie.partyId);
    await expectProblem(await pep(undefined, request), 401);
    await expectProblem(await pep('', request), 401);
    await expectProblem(await pep('psk_not-a-key', request), 401, 'not a valid platform subscription key');
  });

  it("refuses a key of brg asking about ttd's app, and every spelling that would hide the org", async () => {
    const brgKey = (await issueKey(BRG.org, operator)).key;
    const aboutTtd = singleRequest(USERS.sophie.userId, 'read', 'ttd', 'demo', USERS.sophie.partyId);
    await expectProblem(await pep(brgKey, aboutTtd), 403, 'own apps only');
    // Two orgs on one resource, or the org attribute spelled in another case: refused, not evaluated.
    const twoOrgs = structuredClone(aboutTtd);
    twoOrgs.request.resource[0]?.attribute.push(attribute('urn:altinn:org', 'brg', 'Altinn'));
    await expectProblem(await pep(brgKey, twoOrgs), 403);
    await expectProblem(await pep(ttdKey, twoOrgs), 403);
    const upper = JSON.stringify(singleRequest(1001, 'read', 'brg', 'demo', 510001)).replace(
      '"urn:altinn:org","value":"brg"',
      '"URN:ALTINN:ORG","value":"brg"',
    );
    await expectProblem(await pep(brgKey, upper), 403);
    // Its own org's apps are fine (brg has no such policy: NotApplicable).
    const own = singleRequest(USERS.sophie.userId, 'read', 'brg', 'forms', USERS.sophie.partyId);
    expect((await resultsOf(await pep(brgKey, own)))[0]?.decision).toBe('NotApplicable');
  });

  it('lets an end user ask about themself only, whatever the spelling, duplicates or shape of the body', async () => {
    const token = await host.userToken(USERS.ola.ssn);
    const ask = (body: unknown) =>
      host.send('POST', '/authorization/api/v1/decision', {
        headers: { ...bearer(token), 'Content-Type': 'application/json; charset=utf-8' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const own = singleRequest(USERS.ola.userId, 'read', 'ttd', 'demo', USERS.ola.partyId);
    expect((await resultsOf(await ask(own)))[0]?.decision).toBe('Permit');
    const other = JSON.stringify(singleRequest(USERS.sophie.userId, 'read', 'ttd', 'demo', USERS.sophie.partyId));
    await expectProblem(await ask(other), 403, 'about themself only');
    // Casing of the attribute id, of member names, and both at once.
    await expectProblem(await ask(other.replaceAll('urn:altinn:userid', 'URN:ALTINN:USERID')), 403);
    await expectProblem(await ask(other.replaceAll('"attributeId"', '"AttributeID"')), 403);
    // Two members differing in case: ambiguous, refused before anything is evaluated.
    const ownText = JSON.stringify(own);
    const duplicateValue = ownText.replace('"value":"1002"', '"value":"1002","Value":"1001"');
    await expectProblem(await ask(duplicateValue), 400, 'more than once');
    const duplicateRoot = `{"request":${JSON.stringify(own.request)},"Request":${JSON.stringify(JSON.parse(other).request)}}`;
    await expectProblem(await ask(duplicateRoot), 400, 'more than once');
    const sameNameTwice = ownText.replace('"accessSubject":[', '"accessSubject":[],"accessSubject":[');
    await expectProblem(await ask(sameNameTwice), 400, 'more than once');
    // A single object where Altinn's model has a list, for the subject and for an attribute.
    const singleSubject = {
      request: { ...JSON.parse(other).request, accessSubject: JSON.parse(other).request.accessSubject[0] },
    };
    await expectProblem(await ask(singleSubject), 400, 'must be an array');
    const singleAttribute = structuredClone(JSON.parse(other));
    singleAttribute.request.accessSubject[0].attribute = { attributeId: 'urn:altinn:userid', value: '1001' };
    await expectProblem(await ask(singleAttribute), 400, 'must be an array');
    // A subject hidden in another list, or a category claiming another list's category id.
    const inCategory = { request: { ...own.request, category: JSON.parse(other).request.accessSubject } };
    await expectProblem(await ask(inCategory), 400, 'not supported');
    const moved = structuredClone(own) as unknown as { request: { resource: { categoryId: string | null }[] } };
    (moved.request.resource[0] as { categoryId: string | null }).categoryId =
      'urn:oasis:names:tc:xacml:1.0:subject-category:access-subject';
    await expectProblem(await ask(moved), 400, 'CategoryId');
    // A value that is a number (Altinn's model binds strings only), and a subject naming an org instead.
    await expectProblem(await ask(ownText.replace('"value":"1002"', '"value":1002')), 400, 'must be a string');
    const asOrg = structuredClone(own);
    asOrg.request.accessSubject[0]?.attribute.push(attribute('urn:altinn:org', 'ttd', PEP_ISSUER));
    await expectProblem(await ask(asOrg), 403);
  });
});

describe('platform subscription keys', () => {
  it('issues a key once (201, Location, no-store), lists without secrets, for the operator and the org itself', async () => {
    const response = await host.send('POST', '/authorization/api/v1/subscriptionkeys/ttd', {
      headers: { ...bearer(await host.orgToken()), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'ci rollover' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const issued = (await response.json()) as { id: string; key: string; name: string; createdBy: string };
    expect(response.headers.get('location')).toBe(`/authorization/api/v1/subscriptionkeys/ttd/${issued.id}`);
    expect(issued).toMatchObject({ name: 'ci rollover', createdBy: 'org:ttd' });
    expect(issued.key).toMatch(/^psk_[A-Za-z0-9_-]{43}$/);
    const listed = await host.send('GET', '/authorization/api/v1/subscriptionkeys/ttd', { headers: operator });
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(issued.key);
    const keys = JSON.parse(text) as { id: string; key?: string }[];
    expect(keys.map((k) => k.id)).toContain(issued.id);
    expect(keys.every((k) => k.key === undefined)).toBe(true);
  });

  it('rotates: two keys work side by side, the revoked one answers 401 at once, the new one goes on', async () => {
    const first = await issueKey('ttd', operator);
    const second = await issueKey('ttd', operator, { name: 'next', expiresAt: '2099-01-01T00:00:00Z' });
    const request = singleRequest(USERS.sophie.userId, 'read', 'ttd', 'demo', USERS.sophie.partyId);
    expect((await resultsOf(await pep(first.key, request)))[0]?.decision).toBe('Permit');
    expect((await resultsOf(await pep(second.key, request)))[0]?.decision).toBe('Permit');
    const revoked = await host.send('DELETE', `/authorization/api/v1/subscriptionkeys/ttd/${first.id}`, {
      headers: bearer(await host.orgToken()),
    });
    expect(revoked.status).toBe(204);
    await expectProblem(await pep(first.key, request), 401);
    expect((await resultsOf(await pep(second.key, request)))[0]?.decision).toBe('Permit');
    const again = await host.send('DELETE', `/authorization/api/v1/subscriptionkeys/ttd/${first.id}`, {
      headers: operator,
    });
    await expectProblem(again, 404);
  });

  it('refuses an expired key, and an expiry in the past at issue', async () => {
    const key = await issueKey('ttd', operator);
    await host.db.query("UPDATE subscription_keys SET expires_at = now() - interval '1 second' WHERE key_id = $1", [
      key.id,
    ]);
    const request = singleRequest(USERS.sophie.userId, 'read', 'ttd', 'demo', USERS.sophie.partyId);
    await expectProblem(await pep(key.key, request), 401);
    const past = await host.send('POST', '/authorization/api/v1/subscriptionkeys/ttd', {
      headers: { ...operator, 'Content-Type': 'application/json' },
      body: JSON.stringify({ expiresAt: '2001-01-01T00:00:00Z' }),
    });
    await expectProblem(past, 400, 'expiresAt');
  });

  it('refuses other orgs, orgs without altinn:appdeploy, end users and anonymous callers', async () => {
    const path = '/authorization/api/v1/subscriptionkeys/ttd';
    await expectProblem(await host.send('GET', path), 401);
    await expectProblem(await host.send('GET', path, { headers: bearer('not-the-operator-token') }), 401);
    await expectProblem(await host.send('GET', path, { headers: bearer(await host.userToken(USERS.sophie.ssn)) }), 403);
    const brg = await host.orgToken(ORG_SCOPES, BRG.orgNumber);
    await expectProblem(await host.send('POST', path, { headers: bearer(brg) }), 403);
    const noDeploy = await host.orgToken(['altinn:serviceowner/instances.read']);
    await expectProblem(await host.send('GET', path, { headers: bearer(noDeploy) }), 403, 'altinn:appdeploy');
    const before = await host.db.query('SELECT count(*)::int AS n FROM subscription_keys');
    await expectProblem(await host.send('POST', path, { headers: bearer(brg) }), 403);
    expect(await host.db.query('SELECT count(*)::int AS n FROM subscription_keys')).toEqual(before);
    // brg manages its own keys with its own token.
    expect((await issueKey(BRG.org, bearer(brg))).org).toBe('brg');
  });
});

// app-lib src/Altinn.App.Core/Infrastructure/Clients/Authorization/AuthorizationClient.cs (v8.12.7): GetPartyList and
// ValidateSelectedParty send the user's token, the subscription key and Accept: application/json, with `userid` in
// lower case; answers are read with Newtonsoft (List<Party>, bool).
describe('parties as AuthorizationClient asks', () => {
  const headersFor = async () => ({
    ...bearer(await host.userToken(USERS.sophie.ssn)),
    'x-forwarded-for': '',
    'Ocp-Apim-Subscription-Key': ttdKey,
    Accept: 'application/json',
  });

  it('GET parties?userid= lists her own party and DDG Fitness as Register parties', async () => {
    const response = await host.send('GET', `/authorization/api/v1/parties?userid=${USERS.sophie.userId}`, {
      headers: await headersFor(),
    });
    expect(response.status).toBe(200);
    const parties = (await response.json()) as { partyId: number; partyTypeName: number; name: string }[];
    expect(parties.map((p) => p.partyId)).toEqual([500000, USERS.sophie.partyId]);
    expect(parties.every((p) => Number.isInteger(p.partyTypeName) && typeof p.name === 'string')).toBe(true);
  });

  it('GET parties/{partyId}/validate?userid= answers true or false, any casing of userid', async () => {
    const headers = await headersFor();
    for (const [path, expected] of [
      [`parties/${USERS.sophie.partyId}/validate?userid=${USERS.sophie.userId}`, 'true'],
      [`parties/500000/validate?USERID=${USERS.sophie.userId}`, 'true'],
      [`parties/500100/validate?userId=${USERS.sophie.userId}`, 'false'],
    ] as const) {
      const response = await host.send('GET', `/authorization/api/v1/${path}`, { headers });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(expected);
    }
  });

  it('refuses another user, a missing or repeated userid, and a call without a token', async () => {
    const headers = await headersFor();
    await expectProblem(await host.send('GET', '/authorization/api/v1/parties?userid=1002', { headers }), 403);
    await expectProblem(await host.send('GET', '/authorization/api/v1/parties', { headers }), 400, 'query.userId');
    await expectProblem(
      await host.send('GET', '/authorization/api/v1/parties?userid=1001&userId=1001', { headers }),
      400,
      'once',
    );
    const { Authorization: _, ...keyOnly } = headers as Record<string, string>;
    await expectProblem(await host.send('GET', '/authorization/api/v1/parties?userid=1001', { headers: keyOnly }), 401);
  });
});

// app-lib src/Altinn.App.Core/Infrastructure/Clients/Authorization/AuthorizationClient.cs (v8.12.7)
// GetKeyRoleOrganizationParties / CreateXacmlJsonRequest, called by Features/Signing/Services/SigningService.cs to find
// the organisations a signee holds a key role for: one resource per organisation number naming the system resource
// `altinn_keyrole_access`, MultiRequests referencing s1, a1 and r{index}; the PEP posts it with the subscription key.
describe('POST decision: key roles (GetKeyRoleOrganizationParties)', () => {
  const DDG_FITNESS = '310000000';
  const NORDLYS = BRG.orgNumber;
  const UNKNOWN = '999999999';
  /** `XacmlJsonAttribute` as app-lib builds it here: Issuer unset (null), DataType as set. */
  const plain = (attributeId: string, value: string, dataType: string | null, includeInResult = false) => ({
    attributeId,
    value,
    issuer: null,
    dataType,
    includeInResult,
  });
  const XML_STRING = 'http://www.w3.org/2001/XMLSchema#string';
  function keyRoleRequest(userId: number, orgNumbers: string[]) {
    return {
      request: {
        returnPolicyIdList: true,
        combinedDecision: false,
        xPathVersion: null,
        category: null,
        resource: orgNumbers.map((orgNumber, index) => ({
          categoryId: null,
          id: `r${index}`,
          content: null,
          attribute: [
            plain('urn:altinn:resource', 'altinn_keyrole_access', XML_STRING),
            plain('urn:altinn:organization:identifier-no', orgNumber, XML_STRING, true),
          ],
        })),
        action: [{ categoryId: null, id: 'a1', content: null, attribute: [plain(ACTION_ID, 'access', XML_STRING)] }],
        accessSubject: [
          { categoryId: null, id: 's1', content: null, attribute: [plain('urn:altinn:userid', String(userId), null)] },
        ],
        recipientSubject: null,
        intermediarySubject: null,
        requestingMachine: null,
        multiRequests: { requestReference: orgNumbers.map((_, index) => ({ referenceId: ['s1', 'a1', `r${index}`] })) },
      },
    };
  }
  /** What GetKeyRoleOrganizationParties returns: the asked numbers found in the category attributes of Permits. */
  const keyRoleOrganizations = (results: Result[], orgNumbers: string[]) =>
    results
      .filter((result) => result.decision === 'Permit')
      .flatMap((result) => result.category ?? [])
      .flatMap((category) => category.attribute)
      .filter((attribute) => orgNumbers.includes(attribute.value))
      .map((attribute) => attribute.value);

  it("answers the organisations each user holds a key role for, by any org's key", async () => {
    const asked = [DDG_FITNESS, NORDLYS, UNKNOWN];
    const brgKey = (await issueKey(BRG.org, operator)).key;
    for (const [userId, expected] of [
      [USERS.sophie.userId, [DDG_FITNESS]],
      [USERS.ola.userId, [NORDLYS]],
    ] as const) {
      for (const key of [ttdKey, brgKey]) {
        const results = await resultsOf(await pep(key, keyRoleRequest(userId, asked)));
        expect(results).toHaveLength(3);
        expect(keyRoleOrganizations(results, asked)).toEqual(expected);
        // Each result echoes its organisation number, the one attribute marked includeInResult.
        expect(results.map((r) => r.category?.[0]?.attribute[0]?.value)).toEqual(asked);
        expect(results[2]?.decision).toBe('Deny');
      }
    }
  });

  it('does not count a role that is not a key role (Ola is REGN for DDG Fitness), nor a role that has ended', async () => {
    const results = await resultsOf(await pep(ttdKey, keyRoleRequest(USERS.ola.userId, [DDG_FITNESS])));
    expect(results.map((r) => r.decision)).toEqual(['Deny']);
    await host.db.query(
      `UPDATE role_assignments SET valid_to = now() - interval '1 second'
        WHERE user_id = $1 AND role_code = 'DAGL' AND party_id = 500000`,
      [USERS.sophie.userId],
    );
    try {
      const ended = await resultsOf(await pep(ttdKey, keyRoleRequest(USERS.sophie.userId, [DDG_FITNESS])));
      expect(ended.map((r) => r.decision)).toEqual(['Deny']);
    } finally {
      await host.db.query(
        'UPDATE role_assignments SET valid_to = NULL WHERE user_id = $1 AND role_code = $2 AND party_id = 500000',
        [USERS.sophie.userId, 'DAGL'],
      );
    }
  });

  it('answers Indeterminate without an organisation number and NotApplicable for another action or resource', async () => {
    const body = keyRoleRequest(USERS.sophie.userId, [DDG_FITNESS]);
    const noNumber = structuredClone(body);
    noNumber.request.resource[0]?.attribute.splice(1, 1);
    const [missing] = await resultsOf(await pep(ttdKey, noNumber));
    expect(missing?.decision).toBe('Indeterminate');
    expect(missing?.status.statusCode.value).toBe('urn:oasis:names:tc:xacml:1.0:status:missing-attribute');
    const write = structuredClone(body);
    (write.request.action[0]?.attribute[0] as { value: string }).value = 'write';
    expect((await resultsOf(await pep(ttdKey, write)))[0]?.decision).toBe('NotApplicable');
  });

  it("keeps a key to its own org's apps: other resources, or the system resource beside an org, are refused", async () => {
    const brgKey = (await issueKey(BRG.org, operator)).key;
    const other = JSON.stringify(keyRoleRequest(USERS.sophie.userId, [DDG_FITNESS])).replace(
      'altinn_keyrole_access',
      'app_ttd_demo',
    );
    await expectProblem(await pep(brgKey, other), 403, 'own apps only');
    const withOrg = keyRoleRequest(USERS.sophie.userId, [DDG_FITNESS]);
    withOrg.request.resource[0]?.attribute.push(plain('urn:altinn:org', 'ttd', XML_STRING));
    await expectProblem(await pep(brgKey, withOrg), 403, 'own apps only');
    const upper = JSON.stringify(keyRoleRequest(USERS.sophie.userId, [DDG_FITNESS])).replace(
      '"urn:altinn:resource"',
      '"URN:ALTINN:RESOURCE"',
    );
    await expectProblem(await pep(brgKey, upper), 403, 'own apps only');
  });

  it('lets an end user ask about their own key roles only', async () => {
    const token = await host.userToken(USERS.ola.ssn);
    const ask = (body: unknown) =>
      host.send('POST', '/authorization/api/v1/decision', {
        headers: { ...bearer(token), 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify(body),
      });
    const own = await resultsOf(await ask(keyRoleRequest(USERS.ola.userId, [NORDLYS])));
    expect(own.map((r) => r.decision)).toEqual(['Permit']);
    await expectProblem(await ask(keyRoleRequest(USERS.sophie.userId, [DDG_FITNESS])), 403, 'about themself only');
  });
});
