import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../platform/src/logging/index.js';
import {
  type AuthorizationHarness,
  openAuthorizationHarness,
  userRequest,
  xacmlAttributes,
} from '../../../test/support/authorization.js';
import { fieldsOf, problemOf } from '../../../test/support/storage.js';
import { AUTHORIZATION_SCOPES } from './access.js';
import { createPartyAccess } from './grants.js';
import type { AppPolicy } from './policy.js';
import { createAuthorizationServices } from './services.js';

/** The app `ttd/forms`: persons and managers fill it in, DAGL signs in Task_2, the owner reads and confirms. */
const formsPolicy: AppPolicy = {
  rules: [
    {
      id: 'reportee',
      subjects: ['PRIV', 'DAGL', 'REGNA'],
      actions: ['read', 'write', 'instantiate', 'delete'],
      resources: [{ org: 'ttd', app: 'forms' }],
    },
    { id: 'sign', subjects: ['DAGL'], actions: ['sign'], resources: [{ org: 'ttd', app: 'forms', task: 'Task_2' }] },
    {
      id: 'owner',
      subjects: ['urn:altinn:org'],
      actions: ['read', 'write', 'confirm'],
      resources: [{ org: 'ttd', app: 'forms' }],
    },
  ],
  minimumAuthenticationLevel: 2,
};

const AUTH_LEVEL_2 = [
  {
    Id: 'urn:altinn:obligation:authenticationLevel1',
    AttributeAssignment: [
      {
        AttributeId: 'urn:altinn:obligation-assignment:1',
        Value: '2',
        Category: 'urn:altinn:minimum-authenticationlevel',
        DataType: 'http://www.w3.org/2001/XMLSchema#integer',
      },
    ],
  },
];

/** The ok status every decided result carries, as Altinn's. */
const OK = { StatusCode: { Value: 'urn:oasis:names:tc:xacml:1.0:status:ok' } };

const forms = (partyId: number, task?: string) => ({ org: 'ttd', app: 'forms', partyId, ...(task ? { task } : {}) });

let h: AuthorizationHarness;
beforeEach(async () => {
  h = await openAuthorizationHarness();
  await h.putPolicy('ttd', 'forms', formsPolicy);
});
afterEach(async () => {
  await h.close();
});

async function decide(
  body: unknown,
): Promise<
  { Decision: string; Status?: { StatusCode: { Value: string }; StatusMessage?: string }; Obligations?: unknown }[]
> {
  const response = await h.authorization('POST', 'decision', await h.tokens.org('ttd'), body);
  expect(response.status).toBe(200);
  return ((await response.json()) as { Response: never[] }).Response;
}

describe('POST decision', () => {
  it('permits a person on their own party (PRIV) with the minimum authentication level obligation', async () => {
    expect(await decide(userRequest({ userId: 1001, partyId: 510001 }, 'write', forms(510001)))).toEqual([
      { Decision: 'Permit', Status: OK, Obligations: AUTH_LEVEL_2 },
    ]);
  });

  it("denies a person on another party's resource, and permits once they hold a role there", async () => {
    const request = userRequest({ userId: 1001, partyId: 510001 }, 'read', forms(500000));
    expect(await decide(request)).toEqual([{ Decision: 'Deny', Status: OK }]);
    await h.assignRole(1001, 500000, 'REGNA');
    expect(await decide(request)).toEqual([{ Decision: 'Permit', Status: OK, Obligations: AUTH_LEVEL_2 }]);
  });

  it('grants task-bound rules only on their task', async () => {
    await h.assignRole(1002, 500000, 'DAGL');
    const user = { userId: 1002, partyId: 510002 };
    expect((await decide(userRequest(user, 'sign', forms(500000, 'Task_2'))))[0]?.Decision).toBe('Permit');
    expect((await decide(userRequest(user, 'sign', forms(500000, 'Task_1'))))[0]?.Decision).toBe('NotApplicable');
    expect(
      (await decide(userRequest({ userId: 1001, partyId: 510001 }, 'sign', forms(510001, 'Task_2'))))[0]?.Decision,
    ).toBe('Deny');
  });

  it('answers NotApplicable for an app without a policy and for an action no rule grants', async () => {
    const user = { userId: 1001, partyId: 510001 };
    expect(await decide(userRequest(user, 'read', { org: 'ttd', app: 'other', partyId: 510001 }))).toEqual([
      { Decision: 'NotApplicable', Status: OK },
    ]);
    expect(await decide(userRequest(user, 'archive', forms(510001)))).toEqual([
      { Decision: 'NotApplicable', Status: OK },
    ]);
  });

  it("permits the app's owner org (urn:altinn:org) and denies another org", async () => {
    const org = (name: string) => ({
      Request: {
        AccessSubject: [{ Attribute: xacmlAttributes({ 'urn:altinn:org': name }) }],
        Action: [{ Attribute: xacmlAttributes({ 'urn:oasis:names:tc:xacml:1.0:action:action-id': 'confirm' }) }],
        Resource: [
          {
            Attribute: xacmlAttributes({
              'urn:altinn:org': 'ttd',
              'urn:altinn:app': 'forms',
              'urn:altinn:partyid': 510001,
            }),
          },
        ],
      },
    });
    expect((await decide(org('ttd')))[0]?.Decision).toBe('Permit');
    expect((await decide(org('skd')))[0]?.Decision).toBe('Deny');
  });

  it('answers multi-requests in the order of RequestReference', async () => {
    await h.assignRole(1002, 500000, 'DAGL');
    const body = {
      Request: {
        AccessSubject: [
          { Id: 's1', Attribute: xacmlAttributes({ 'urn:altinn:userid': 1002, 'urn:altinn:partyid': 510002 }) },
        ],
        Action: [
          { Id: 'a1', Attribute: xacmlAttributes({ 'urn:oasis:names:tc:xacml:1.0:action:action-id': 'read' }) },
          { Id: 'a2', Attribute: xacmlAttributes({ 'urn:oasis:names:tc:xacml:1.0:action:action-id': 'archive' }) },
        ],
        Resource: [
          {
            Id: 'r1',
            Attribute: xacmlAttributes({
              'urn:altinn:org': 'ttd',
              'urn:altinn:app': 'forms',
              'urn:altinn:partyid': 500000,
            }),
          },
          {
            Id: 'r2',
            Attribute: xacmlAttributes({
              'urn:altinn:org': 'ttd',
              'urn:altinn:app': 'forms',
              'urn:altinn:partyid': 510001,
            }),
          },
        ],
        MultiRequests: {
          RequestReference: [
            { ReferenceId: ['s1', 'a1', 'r2'] },
            { ReferenceId: ['s1', 'a1', 'r1'] },
            { ReferenceId: ['s1', 'a2', 'r1'] },
            { ReferenceId: ['s1', 'a1', 'r9'] },
          ],
        },
      },
    };
    const results = await decide(body);
    expect(results.map((r) => r.Decision)).toEqual(['Deny', 'Permit', 'NotApplicable', 'Indeterminate']);
    expect(results[3]?.Status?.StatusCode.Value).toBe('urn:oasis:names:tc:xacml:1.0:status:missing-attribute');
  });

  it.each([
    [
      'no subject id',
      {
        Request: {
          AccessSubject: [{ Attribute: [] }],
          Action: [{ Attribute: xacmlAttributes({ 'urn:oasis:names:tc:xacml:1.0:action:action-id': 'read' }) }],
          Resource: [
            {
              Attribute: xacmlAttributes({
                'urn:altinn:org': 'ttd',
                'urn:altinn:app': 'forms',
                'urn:altinn:partyid': 1,
              }),
            },
          ],
        },
      },
      'missing-attribute',
      'neither urn:altinn:userid',
    ],
    [
      'no action',
      {
        Request: {
          AccessSubject: [{ Attribute: xacmlAttributes({ 'urn:altinn:userid': 1 }) }],
          Resource: [{ Attribute: [] }],
        },
      },
      'missing-attribute',
      'no Action',
    ],
    [
      'no action id',
      {
        Request: {
          AccessSubject: [{ Attribute: xacmlAttributes({ 'urn:altinn:userid': 1 }) }],
          Action: [{ Attribute: [] }],
          Resource: [{ Attribute: [] }],
        },
      },
      'missing-attribute',
      'Action has no',
    ],
    [
      'no resource party for a user',
      userRequestWithout('urn:altinn:partyid'),
      'missing-attribute',
      'no urn:altinn:partyid',
    ],
    ['no app', userRequestWithout('urn:altinn:app'), 'missing-attribute', 'no urn:altinn:app'],
    [
      'a party id that is not a number',
      {
        Request: {
          ...userRequest({ userId: 1 }, 'read', forms(1)).Request,
          Resource: [
            {
              Attribute: xacmlAttributes({
                'urn:altinn:org': 'ttd',
                'urn:altinn:app': 'forms',
                'urn:altinn:partyid': 'abc',
              }),
            },
          ],
        },
      },
      'syntax-error',
      'non-negative integer',
    ],
  ])('answers Indeterminate (not 500) for %s', async (_, body, status, message) => {
    const [result] = await decide(body);
    expect(result?.Decision).toBe('Indeterminate');
    expect(result?.Status?.StatusCode.Value).toBe(`urn:oasis:names:tc:xacml:1.0:status:${status}`);
    expect(result?.Status?.StatusMessage).toContain(message);
  });

  it('answers 400 for a body that is not JSON or has no Request, and 401 without a token', async () => {
    const bad = await h.authorization('POST', 'decision', await h.tokens.org('ttd'), '{not json');
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).status).toBe(400);
    const noRequest = await h.authorization('POST', 'decision', await h.tokens.org('ttd'), { Foo: 1 });
    expect(noRequest.status).toBe(400);
    expect((await problemOf(noRequest)).detail).toContain('body.Request');
    expect((await h.authorization('POST', 'decision', {}, userRequest({ userId: 1 }, 'read', forms(1)))).status).toBe(
      401,
    );
  });

  it('sees a role removed at once, though the decision was cached', async () => {
    const request = userRequest({ userId: 1001, partyId: 510001 }, 'read', forms(500000));
    const id = await h.assignRole(1001, 500000, 'REGNA');
    expect((await decide(request))[0]?.Decision).toBe('Permit');
    expect(h.services.pdp.cachedDecisions).toBeGreaterThan(0);
    const removed = await h.authorization('DELETE', `roleassignments/${id}`, await h.tokens.admin());
    expect(removed.status).toBe(204);
    expect((await decide(request))[0]?.Decision).toBe('Deny');
  });

  it('sees a new policy version at once, though the decision was cached', async () => {
    const request = userRequest({ userId: 1001, partyId: 510001 }, 'delete', forms(510001));
    expect((await decide(request))[0]?.Decision).toBe('Permit');
    await h.putPolicy('ttd', 'forms', {
      rules: [{ id: 'r', subjects: ['PRIV'], actions: ['read'], resources: [{ org: 'ttd', app: 'forms' }] }],
    });
    expect((await decide(request))[0]?.Decision).toBe('NotApplicable');
  });

  it("sees another process's change through the database generation", async () => {
    const other = createAuthorizationServices({
      db: h.db,
      logger: silentLogger,
      now: h.clock.now,
      cacheCheckIntervalMs: 0,
    });
    const request = userRequest({ userId: 1001, partyId: 510001 }, 'read', forms(500000));
    expect((await other.pdp.decide(request)).Response[0]?.Decision).toBe('Deny');
    await h.assignRole(1001, 500000, 'REGNA');
    expect((await other.pdp.decide(request)).Response[0]?.Decision).toBe('Permit');
  });

  it('expires a cached Permit when the role it rests on ends', async () => {
    const request = userRequest({ userId: 1001, partyId: 510001 }, 'read', forms(500000));
    await h.assignRole(1001, 500000, 'REGNA', '2026-01-02T00:00:00Z');
    expect((await decide(request))[0]?.Decision).toBe('Permit');
    h.clock.set('2026-01-02T00:00:00Z');
    expect((await decide(request))[0]?.Decision).toBe('Deny');
  });
});

function userRequestWithout(attribute: string) {
  const body = userRequest({ userId: 1001, partyId: 510001 }, 'read', forms(510001));
  const [resource] = body.Request.Resource;
  if (resource) resource.Attribute = resource.Attribute.filter((a) => a.AttributeId !== attribute);
  return body;
}

describe('GET parties, parties/{id}/validate and roles', () => {
  it('lists the own party and parties with roles, for the user themself', async () => {
    await h.assignRole(1001, 500000, 'REGNA');
    await h.assignRole(1001, 500001, 'DAGL', '2026-01-05T00:00:00Z');
    const response = await h.authorization('GET', 'parties?userId=1001', await h.tokens.user(1001, 510001));
    expect(await response.json()).toEqual([{ partyId: 500000 }, { partyId: 500001 }, { partyId: 510001 }]);
    h.clock.set('2026-01-05T00:00:00Z');
    const later = await h.authorization('GET', 'parties?userId=1001', await h.tokens.user(1001, 510001));
    expect(await later.json()).toEqual([{ partyId: 500000 }, { partyId: 510001 }]);
  });

  it('lets an org read any user, and takes the own party from a PRIV assignment then', async () => {
    await h.assignRole(1001, 510001, 'PRIV');
    const response = await h.authorization('GET', 'parties?userId=1001', await h.tokens.org('ttd'));
    expect(await response.json()).toEqual([{ partyId: 510001 }]);
  });

  it('answers 403 when a user reads another user, 400 for a bad userId', async () => {
    const other = await h.authorization('GET', 'parties?userId=1002', await h.tokens.user(1001, 510001));
    expect(other.status).toBe(403);
    expect((await problemOf(other)).type).toBe('urn:altinn-platform:problem:forbidden');
    const bad = await h.authorization('GET', 'parties?userId=x', await h.tokens.user(1001, 510001));
    expect(await fieldsOf(bad)).toEqual(['query.userId']);
    const none = await h.authorization('GET', 'parties', await h.tokens.user(1001, 510001));
    expect(await fieldsOf(none)).toEqual(['query.userId']);
  });

  it('validates parties: own true, with a role true, other false', async () => {
    await h.assignRole(1001, 500000, 'REGNA');
    const token = await h.tokens.user(1001, 510001);
    for (const [partyId, expected] of [
      [510001, true],
      [500000, true],
      [500002, false],
    ] as const) {
      const response = await h.authorization('GET', `parties/${partyId}/validate?userId=1001`, token);
      expect(await response.json()).toBe(expected);
    }
    expect((await h.authorization('GET', 'parties/500000/validate?userId=1002', token)).status).toBe(403);
    expect(await fieldsOf(await h.authorization('GET', 'parties/0/validate?userId=1001', token))).toEqual([
      'path.partyId',
    ]);
  });

  it('lists roles for a party, PRIV for the own party', async () => {
    await h.assignRole(1002, 500000, 'REGNA');
    await h.assignRole(1002, 500000, 'DAGL');
    const token = await h.tokens.user(1002, 510002);
    const org = await h.authorization('GET', 'roles?coveredByUserId=1002&offeredByPartyId=500000', token);
    expect(await org.json()).toEqual([
      { type: 'altinn', value: 'DAGL' },
      { type: 'altinn', value: 'REGNA' },
    ]);
    const own = await h.authorization('GET', 'roles?coveredByUserId=1002&offeredByPartyId=510002', token);
    expect(await own.json()).toEqual([{ type: 'altinn', value: 'PRIV' }]);
    const other = await h.authorization('GET', 'roles?coveredByUserId=1001&offeredByPartyId=510001', token);
    expect(other.status).toBe(403);
    expect(await fieldsOf(await h.authorization('GET', 'roles?coveredByUserId=1002', token))).toEqual([
      'query.offeredByPartyId',
    ]);
  });

  it('backs PartyAccess.mayRepresent with the same logic', async () => {
    await h.assignRole(1001, 500000, 'REGNA');
    const access = createPartyAccess({ db: h.db, now: h.clock.now });
    const user = { kind: 'user' as const, userId: 1001, partyId: 510001, authLevel: 2, scopes: [] };
    expect(await access.mayRepresent(user, 510001)).toBe(true);
    expect(await access.mayRepresent(user, 500000)).toBe(true);
    expect(await access.mayRepresent(user, 500001)).toBe(false);
  });
});

describe('policies', () => {
  it('stores versions and reads them back', async () => {
    await h.putPolicy('ttd', 'forms', formsPolicy);
    const response = await h.authorization('GET', 'policies/ttd/forms', await h.tokens.user(1001, 510001));
    expect(await response.json()).toMatchObject({ org: 'ttd', app: 'forms', policy: formsPolicy, version: 2 });
  });

  it('answers 404 for an app without a policy', async () => {
    const response = await h.authorization('GET', 'policies/ttd/none', await h.tokens.org('ttd'));
    expect(response.status).toBe(404);
  });

  it.each([
    ['another org', 'skd', [AUTHORIZATION_SCOPES.appDeploy], 403],
    ['the org without appdeploy', 'ttd', [], 403],
  ])('refuses a write by %s', async (_, org, scopes, status) => {
    const response = await h.authorization('PUT', 'policies/ttd/forms', await h.tokens.org(org, scopes), formsPolicy);
    expect(response.status).toBe(status);
  });

  it('refuses a write by a user, and 400s a policy naming another app or an unknown action', async () => {
    const deploy = await h.tokens.org('ttd', [AUTHORIZATION_SCOPES.appDeploy]);
    expect(
      (await h.authorization('PUT', 'policies/ttd/forms', await h.tokens.user(1001, 510001), formsPolicy)).status,
    ).toBe(403);
    const foreign = {
      rules: [{ id: 'x', subjects: ['PRIV'], actions: ['read'], resources: [{ org: 'ttd', app: 'other' }] }],
    };
    expect(await fieldsOf(await h.authorization('PUT', 'policies/ttd/forms', deploy, foreign))).toEqual([
      'rules[0].resources[0]',
    ]);
    const action = {
      rules: [{ id: 'x', subjects: ['PRIV'], actions: ['fly'], resources: [{ org: 'ttd', app: 'forms' }] }],
    };
    expect(await fieldsOf(await h.authorization('PUT', 'policies/ttd/forms', deploy, action))).toEqual([
      'rules[0].actions[0]',
    ]);
    const stored = await h.authorization('GET', 'policies/ttd/forms', deploy);
    expect(await stored.json()).toMatchObject({ version: 1 });
  });
});

describe('role assignments', () => {
  it('creates, lists and deletes; 409 for a duplicate, 404 for an unknown id', async () => {
    const admin = await h.tokens.admin();
    const created = await h.authorization('POST', 'roleassignments', admin, {
      userId: 1001,
      partyId: 500000,
      roleCode: 'DAGL',
    });
    expect(created.status).toBe(201);
    const assignment = (await created.json()) as { id: number };
    expect(created.headers.get('location')).toBe(`/authorization/api/v1/roleassignments/${assignment.id}`);
    expect(assignment).toMatchObject({
      userId: 1001,
      partyId: 500000,
      roleCode: 'DAGL',
      validFrom: '2026-01-01T00:00:00.000Z',
      validTo: null,
    });
    const again = await h.authorization('POST', 'roleassignments', admin, {
      userId: 1001,
      partyId: 500000,
      roleCode: 'DAGL',
    });
    expect(again.status).toBe(409);
    const listed = await h.authorization('GET', 'roleassignments?partyId=500000', admin);
    expect(await listed.json()).toEqual([assignment]);
    expect((await h.authorization('DELETE', `roleassignments/${assignment.id}`, admin)).status).toBe(204);
    expect((await h.authorization('DELETE', `roleassignments/${assignment.id}`, admin)).status).toBe(404);
    expect(await (await h.authorization('GET', 'roleassignments?userId=1001', admin)).json()).toEqual([]);
  });

  it('refuses callers without the roles admin scope, and 400s bad input', async () => {
    const user = await h.tokens.user(1001, 510001);
    expect(
      (await h.authorization('POST', 'roleassignments', user, { userId: 1001, partyId: 500000, roleCode: 'DAGL' }))
        .status,
    ).toBe(403);
    expect((await h.authorization('GET', 'roleassignments', await h.tokens.org('ttd'))).status).toBe(403);
    expect((await h.authorization('DELETE', 'roleassignments/1', user)).status).toBe(403);
    const admin = await h.tokens.admin();
    expect(
      await fieldsOf(
        await h.authorization('POST', 'roleassignments', admin, { userId: 1001, partyId: 500000, roleCode: 'dagl' }),
      ),
    ).toEqual(['roleCode']);
    const backwards = {
      userId: 1,
      partyId: 2,
      roleCode: 'DAGL',
      validFrom: '2026-02-01T00:00:00Z',
      validTo: '2026-01-01T00:00:00Z',
    };
    expect(await fieldsOf(await h.authorization('POST', 'roleassignments', admin, backwards))).toEqual(['validTo']);
  });
});
