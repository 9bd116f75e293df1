import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AuthorizationHarness,
  openAuthorizationHarness,
  userRequest,
} from '../../../test/support/authorization.js';
import { fieldsOf, problemOf } from '../../../test/support/storage.js';

const policy = {
  rules: [
    {
      id: 'reportee',
      subjects: ['PRIV', 'DAGL', 'REGNA'],
      actions: ['read' as const, 'write' as const, 'instantiate' as const],
      resources: [{ org: 'ttd', app: 'forms' }],
    },
  ],
};

// User 1001 (party 510001) is a person; user 1002 (party 510002) is DAGL of the company 500000.
let h: AuthorizationHarness;
beforeEach(async () => {
  h = await openAuthorizationHarness();
  await h.putPolicy('ttd', 'forms', policy);
  await h.assignRole(1002, 500000, 'DAGL');
});
afterEach(async () => {
  await h.close();
});

type Delegation = { delegationId: string; revokedAt: string | null; revokedBy: string | null };

async function decision(userId: number, ownParty: number, action: string, partyId: number): Promise<string> {
  const response = await h.authorization(
    'POST',
    'decision',
    await h.tokens.org('ttd'),
    userRequest({ userId, partyId: ownParty }, action, { org: 'ttd', app: 'forms', partyId }),
  );
  return ((await response.json()) as { Response: { Decision: string }[] }).Response[0]?.Decision ?? '';
}

async function parties(userId: number, ownParty: number): Promise<number[]> {
  const response = await h.authorization('GET', `parties?userId=${userId}`, await h.tokens.user(userId, ownParty));
  return ((await response.json()) as { partyId: number }[]).map((p) => p.partyId);
}

async function delegate(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response> {
  return h.intermediary('POST', 'delegations', headers ?? (await h.tokens.user(1002, 510002)), body);
}

describe('the delegation journey through POST decision', () => {
  it('allows on the own party, denies another, allows after a delegation, denies after its revocation', async () => {
    expect(await decision(1001, 510001, 'write', 510001)).toBe('Permit');
    expect(await decision(1001, 510001, 'write', 500000)).toBe('Deny');
    expect(await parties(1001, 510001)).toEqual([510001]);

    const created = await delegate({ offeredByPartyId: 500000, coveredByUserId: 1001, roleCode: 'REGNA' });
    expect(created.status).toBe(201);
    const delegation = (await created.json()) as Delegation;
    expect(created.headers.get('location')).toBe(`/intermediary/api/v1/delegations/${delegation.delegationId}`);
    expect(await decision(1001, 510001, 'write', 500000)).toBe('Permit');
    expect(await parties(1001, 510001)).toEqual([500000, 510001]);

    const revoked = await h.intermediary(
      'DELETE',
      `delegations/${delegation.delegationId}`,
      await h.tokens.user(1002, 510002),
    );
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ revokedAt: '2026-01-01T00:00:00.000Z', revokedBy: 'user:1002' });
    expect(await decision(1001, 510001, 'write', 500000)).toBe('Deny');
    expect(await parties(1001, 510001)).toEqual([510001]);
  });

  it('ends a time-limited delegation at validTo, in decisions and party lists', async () => {
    await delegate({
      offeredByPartyId: 500000,
      coveredByUserId: 1001,
      roleCode: 'REGNA',
      validTo: '2026-01-10T00:00:00Z',
    });
    expect(await decision(1001, 510001, 'read', 500000)).toBe('Permit');
    h.clock.set('2026-01-09T23:59:59Z');
    expect(await decision(1001, 510001, 'read', 500000)).toBe('Permit');
    h.clock.set('2026-01-10T00:00:00Z');
    expect(await decision(1001, 510001, 'read', 500000)).toBe('Deny');
    expect(await parties(1001, 510001)).toEqual([510001]);
  });

  it('grants delegated app rights for those actions only', async () => {
    const rights = { org: 'ttd', app: 'forms', actions: ['read'] };
    expect((await delegate({ offeredByPartyId: 500000, coveredByUserId: 1001, rights })).status).toBe(201);
    expect(await decision(1001, 510001, 'read', 500000)).toBe('Permit');
    expect(await decision(1001, 510001, 'write', 500000)).toBe('Deny');
  });

  it('reaches the key-role holders of a covered organisation', async () => {
    await h.assignRole(1003, 500001, 'DAGL');
    await delegate({ offeredByPartyId: 500000, coveredByPartyId: 500001, roleCode: 'REGNA' });
    expect(await decision(1003, 510003, 'read', 500000)).toBe('Permit');
    expect(await parties(1003, 510003)).toEqual([500000, 500001, 510003]);
  });

  it('lets a person delegate for their own party', async () => {
    const response = await delegate(
      { offeredByPartyId: 510001, coveredByUserId: 1002, roleCode: 'REGNA' },
      await h.tokens.user(1001, 510001),
    );
    expect(response.status).toBe(201);
    expect(await decision(1002, 510002, 'read', 510001)).toBe('Permit');
  });
});

describe('POST delegations', () => {
  it("refuses a user who is not the party's DAGL or ADMAI, and a plain org", async () => {
    for (const headers of [await h.tokens.user(1001, 510001), await h.tokens.org('ttd')]) {
      const response = await delegate({ offeredByPartyId: 500000, coveredByUserId: 1001, roleCode: 'DAGL' }, headers);
      expect(response.status).toBe(403);
      expect((await problemOf(response)).type).toBe('urn:altinn-platform:problem:forbidden');
    }
    expect(await decision(1001, 510001, 'read', 500000)).toBe('Deny');
  });

  it('lets an ADMAI holder and a delegations admin delegate', async () => {
    await h.assignRole(1004, 500000, 'ADMAI');
    expect(
      (
        await delegate(
          { offeredByPartyId: 500000, coveredByUserId: 1001, roleCode: 'REGNA' },
          await h.tokens.user(1004, 510004),
        )
      ).status,
    ).toBe(201);
    const byAdmin = await delegate(
      { offeredByPartyId: 500000, coveredByUserId: 1005, roleCode: 'REGNA' },
      await h.tokens.admin(),
    );
    expect(await byAdmin.json()).toMatchObject({ createdBy: 'org:digdir' });
  });

  it.each([
    ['no covered party or user', { offeredByPartyId: 500000, roleCode: 'REGNA' }, 'coveredByUserId'],
    [
      'both covered',
      { offeredByPartyId: 500000, coveredByUserId: 1, coveredByPartyId: 2, roleCode: 'REGNA' },
      'coveredByUserId',
    ],
    ['neither role nor rights', { offeredByPartyId: 500000, coveredByUserId: 1 }, 'roleCode'],
    [
      'an unknown action',
      { offeredByPartyId: 500000, coveredByUserId: 1, rights: { org: 'ttd', app: 'forms', actions: ['fly'] } },
      'rights.actions[0]',
    ],
    [
      'validTo before validFrom',
      {
        offeredByPartyId: 500000,
        coveredByUserId: 1,
        roleCode: 'REGNA',
        validFrom: '2026-03-01T00:00:00Z',
        validTo: '2026-02-01T00:00:00Z',
      },
      'validTo',
    ],
    [
      'validTo in the past',
      {
        offeredByPartyId: 500000,
        coveredByUserId: 1,
        roleCode: 'REGNA',
        validFrom: '2025-01-01T00:00:00Z',
        validTo: '2025-06-01T00:00:00Z',
      },
      'validTo',
    ],
    ['an unknown field', { offeredByPartyId: 500000, coveredByUserId: 1, roleCode: 'REGNA', x: 1 }, 'x'],
  ])('answers 400 for %s and stores nothing', async (_, body, field) => {
    expect(await fieldsOf(await delegate(body))).toEqual([field]);
    const listed = await h.intermediary(
      'GET',
      'delegations/offered?partyId=500000&includeRevoked=true',
      await h.tokens.admin(),
    );
    expect(await listed.json()).toEqual([]);
  });

  it('answers 401 without a token', async () => {
    expect((await h.intermediary('POST', 'delegations', {}, { offeredByPartyId: 1 })).status).toBe(401);
  });
});

describe('listing, reading, revoking and auditing', () => {
  async function created(): Promise<Delegation> {
    return (await (
      await delegate({ offeredByPartyId: 500000, coveredByUserId: 1001, roleCode: 'REGNA' })
    ).json()) as Delegation;
  }

  it('lists offered and received delegations, revoked ones on request', async () => {
    const first = await created();
    const second = await created();
    await h.intermediary('DELETE', `delegations/${first.delegationId}`, await h.tokens.user(1002, 510002));
    const dagl = await h.tokens.user(1002, 510002);
    const offered = await h.intermediary('GET', 'delegations/offered?partyId=500000', dagl);
    expect(((await offered.json()) as Delegation[]).map((d) => d.delegationId)).toEqual([second.delegationId]);
    const all = await h.intermediary('GET', 'delegations/offered?partyId=500000&includeRevoked=true', dagl);
    expect(((await all.json()) as Delegation[]).map((d) => d.delegationId).sort()).toEqual(
      [first.delegationId, second.delegationId].sort(),
    );
    const received = await h.intermediary('GET', 'delegations/received?userId=1001', await h.tokens.user(1001, 510001));
    expect(((await received.json()) as Delegation[]).map((d) => d.delegationId)).toEqual([second.delegationId]);
  });

  it('refuses listing for others and 400s a received query without exactly one of userId and partyId', async () => {
    await created();
    const person = await h.tokens.user(1001, 510001);
    expect((await h.intermediary('GET', 'delegations/offered?partyId=500000', person)).status).toBe(403);
    expect((await h.intermediary('GET', 'delegations/received?userId=1002', person)).status).toBe(403);
    expect((await h.intermediary('GET', 'delegations/received?partyId=500001', person)).status).toBe(403);
    expect(await fieldsOf(await h.intermediary('GET', 'delegations/received', person))).toEqual(['query.userId']);
    expect(await fieldsOf(await h.intermediary('GET', 'delegations/offered', person))).toEqual(['query.partyId']);
  });

  it('reads a delegation for the offering side and the covered user only; 404 when unknown', async () => {
    const delegation = await created();
    const path = `delegations/${delegation.delegationId}`;
    expect((await h.intermediary('GET', path, await h.tokens.user(1001, 510001))).status).toBe(200);
    expect((await h.intermediary('GET', path, await h.tokens.user(1002, 510002))).status).toBe(200);
    expect((await h.intermediary('GET', path, await h.tokens.user(1009, 510009))).status).toBe(403);
    expect(
      (await h.intermediary('GET', 'delegations/00000000-0000-4000-8000-000000000000', await h.tokens.admin())).status,
    ).toBe(404);
    expect(await fieldsOf(await h.intermediary('GET', 'delegations/nope', await h.tokens.admin()))).toEqual([
      'path.delegationId',
    ]);
  });

  it('revokes once (409 after), refuses the covered user revoking, 404 when unknown', async () => {
    const delegation = await created();
    const path = `delegations/${delegation.delegationId}`;
    expect((await h.intermediary('DELETE', path, await h.tokens.user(1001, 510001))).status).toBe(403);
    expect((await h.intermediary('DELETE', path, await h.tokens.admin())).status).toBe(200);
    expect((await h.intermediary('DELETE', path, await h.tokens.admin())).status).toBe(409);
    expect(
      (await h.intermediary('DELETE', 'delegations/00000000-0000-4000-8000-000000000000', await h.tokens.admin()))
        .status,
    ).toBe(404);
  });

  it('audits every change with who, when and what', async () => {
    const delegation = await created();
    h.clock.set('2026-01-03T00:00:00Z');
    await h.intermediary('DELETE', `delegations/${delegation.delegationId}`, await h.tokens.admin());
    const response = await h.intermediary(
      'GET',
      `delegations/${delegation.delegationId}/audit`,
      await h.tokens.user(1002, 510002),
    );
    const trail = (await response.json()) as { change: string; actor: string; at: string; delegation: Delegation }[];
    expect(trail.map(({ change, actor, at }) => ({ change, actor, at }))).toEqual([
      { change: 'created', actor: 'user:1002', at: '2026-01-01T00:00:00.000Z' },
      { change: 'revoked', actor: 'org:digdir', at: '2026-01-03T00:00:00.000Z' },
    ]);
    expect(trail[1]?.delegation).toMatchObject({ revokedBy: 'org:digdir', roleCode: 'REGNA' });
    expect(
      (await h.intermediary('GET', `delegations/${delegation.delegationId}/audit`, await h.tokens.user(1009, 510009)))
        .status,
    ).toBe(403);
  });
});
