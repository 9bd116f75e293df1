/**
 * `npm run bench -- authorization`: decisions/s of the PDP in process on in-memory PGlite, for a realistic app
 * policy (Altinn's usual rules: reportee roles, signing task, app owner), single requests versus multi-requests of
 * 10, cold (no cache, every request reads policy and grants) versus cached. Ratios are printed side by side.
 */

import { AUTHENTICATION_PREFIX, createAuthenticationApi } from '../functions/src/authentication/index.js';
import { createTestIdentityProvider } from '../functions/src/authentication/providers.js';
import { createDecisionPoint } from '../functions/src/authorization/pdp.js';
import type { AppPolicy } from '../functions/src/authorization/policy.js';
import { authorizationRepository } from '../functions/src/authorization/repository.js';
import { hostMigrations } from '../functions/src/migrations.js';
import { openDatabase } from '../platform/src/db/index.js';
import { runMigrations } from '../platform/src/db/migrate.js';
import { createPlatformAuth } from '../platform/src/index.js';
import { silentLogger } from '../platform/src/logging/index.js';
import { reportFigures } from './summary.js';

const USERS = 200;
const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const MULTI = 10;
const ACTIONS = ['read', 'write', 'instantiate', 'delete', 'confirm', 'sign'];

const policy: AppPolicy = {
  rules: [
    {
      id: 'reportee',
      subjects: ['PRIV', 'DAGL', 'REGNA', 'LEDE'],
      actions: ['read', 'write', 'instantiate', 'delete'],
      resources: [{ org: 'ttd', app: 'forms', task: 'Task_1' }],
    },
    {
      id: 'read-later',
      subjects: ['PRIV', 'DAGL', 'REGNA'],
      actions: ['read'],
      resources: [{ org: 'ttd', app: 'forms' }],
    },
    {
      id: 'sign',
      subjects: ['DAGL', 'PRIV'],
      actions: ['sign', 'read'],
      resources: [{ org: 'ttd', app: 'forms', task: 'Task_2' }],
    },
    {
      id: 'owner',
      subjects: ['urn:altinn:org'],
      actions: ['read', 'write', 'confirm', 'delete'],
      resources: [{ org: 'ttd', app: 'forms' }],
    },
  ],
  minimumAuthenticationLevel: 2,
};

const category = (id: string, values: Record<string, string | number>) => ({
  Id: id,
  Attribute: Object.entries(values).map(([AttributeId, Value]) => ({ AttributeId, Value: String(Value) })),
});

/** Request `i`: a user on their own party or on their company, one action, one task. */
function parts(i: number) {
  const user = 1000 + (i % USERS);
  const party = i % 3 === 0 ? 500000 + (user % 20) : 510000 + user;
  return {
    subject: { 'urn:altinn:userid': user, 'urn:altinn:partyid': 510000 + user },
    action: { 'urn:oasis:names:tc:xacml:1.0:action:action-id': ACTIONS[i % ACTIONS.length] as string },
    resource: {
      'urn:altinn:org': 'ttd',
      'urn:altinn:app': 'forms',
      'urn:altinn:partyid': party,
      'urn:altinn:task': i % 2 ? 'Task_1' : 'Task_2',
    },
  };
}

function single(i: number) {
  const p = parts(i);
  return {
    Request: {
      AccessSubject: [category('s', p.subject)],
      Action: [category('a', p.action)],
      Resource: [category('r', p.resource)],
    },
  };
}

function multi(i: number) {
  const requests = Array.from({ length: MULTI }, (_, k) => parts(i * MULTI + k));
  return {
    Request: {
      AccessSubject: requests.map((p, k) => category(`s${k}`, p.subject)),
      Action: requests.map((p, k) => category(`a${k}`, p.action)),
      Resource: requests.map((p, k) => category(`r${k}`, p.resource)),
      MultiRequests: { RequestReference: requests.map((_, k) => ({ ReferenceId: [`s${k}`, `a${k}`, `r${k}`] })) },
    },
  };
}

async function measure(decide: (body: unknown) => Promise<{ Response: unknown[] }>, body: (i: number) => unknown) {
  for (let i = 0; i < 200; i++) await decide(body(i)); // warm up (and fill the cache when there is one)
  let decisions = 0;
  let i = 0;
  const started = performance.now();
  while (performance.now() - started < DURATION_MS) decisions += (await decide(body(i++))).Response.length;
  return decisions / ((performance.now() - started) / 1000);
}

/** Calls `fn` for DURATION_MS after a warm-up; answers calls/s. */
async function perSecond(fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 100; i++) await fn(i);
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < DURATION_MS) await fn(calls++);
  return calls / ((performance.now() - started) / 1000);
}

/** Token verifications/s and exchanges/s (an ID-porten token from the test provider for a known person). */
async function tokenRows(db: Awaited<ReturnType<typeof openDatabase>>): Promise<[string, number][]> {
  const issuer = 'http://bench.test/authentication/api/v1/openid/';
  const auth = createPlatformAuth(db, issuer);
  const idp = createTestIdentityProvider(issuer);
  const directory = {
    userBySsn: async () => ({ userId: 1001, partyId: 510001 }),
    serviceOwnerByNumber: async () => undefined,
  };
  const api = createAuthenticationApi({ auth, issuer, logger: silentLogger, directory, providers: idp.issuers });
  const tokens = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      auth.issuer.userToken({ userId: 1000 + i, partyId: 510000 + i, authLevel: 2 }),
    ),
  );
  const verify = await perSecond((i) => auth.verifier.verify(tokens[i % tokens.length] as string));
  const external = await idp.idporten({ ssn: '01817550181' }, 3600);
  const exchange = await perSecond(async () => {
    const response = await api.request(`${AUTHENTICATION_PREFIX}/exchange/id-porten`, {
      headers: { authorization: `Bearer ${external}` },
    });
    if (response.status !== 200) throw new Error(`exchange answered ${response.status}`);
    await response.text();
  });
  const sign = await perSecond(() => auth.issuer.userToken({ userId: 1, partyId: 2, authLevel: 2 }));
  return [
    ['platform token verifications/s (RS256, cached key)', verify],
    ['platform tokens signed/s (RS256 2048)', sign],
    ['exchanges/s (verify external + look up + sign), in process', exchange],
  ];
}

/** The authorization and token bench; answers the exit code. */
export async function runAuthorizationBench(): Promise<number> {
  const db = await openDatabase({ dataDir: 'memory' });
  await runMigrations(db, hostMigrations);
  const repository = authorizationRepository(db);
  const now = new Date();
  await repository.savePolicy('ttd', 'forms', policy, now);
  for (let u = 0; u < USERS; u++) {
    const user = 1000 + u;
    await repository.insertAssignment(
      {
        userId: user,
        partyId: 500000 + (user % 20),
        roleCode: u % 2 ? 'DAGL' : 'REGNA',
        validFrom: now,
        validTo: null,
      },
      now,
    );
  }
  const common = { db, logger: silentLogger, now: () => new Date() };
  const cold = createDecisionPoint({ ...common, cache: false });
  const cached = createDecisionPoint({ ...common, cacheCheckIntervalMs: 1000 });
  const rows: [string, number, number][] = [];
  for (const [name, body] of [
    ['single', single],
    [`multi x${MULTI}`, multi],
  ] as const) {
    const c = await measure(cold.decide, body);
    const w = await measure(cached.decide, body);
    rows.push([name, c, w]);
  }
  console.log(`PDP decisions/s (in process, PGlite in memory, ${USERS} users, ${DURATION_MS} ms per cell)`);
  console.log('request    cold/s     cached/s   cached:cold');
  for (const [name, c, w] of rows) {
    console.log(
      `${name.padEnd(10)} ${c.toFixed(0).padStart(9)} ${w.toFixed(0).padStart(11)} ${(w / c).toFixed(1).padStart(10)}x`,
    );
  }
  const [s, m] = rows;
  if (s && m) console.log(`multi:single  cold ${(m[1] / s[1]).toFixed(2)}x  cached ${(m[2] / s[2]).toFixed(2)}x`);
  console.log('\nTokens (in process, one core)');
  const tokens = await tokenRows(db);
  for (const [name, rate] of tokens) console.log(`${name.padEnd(60)} ${rate.toFixed(0).padStart(9)}`);
  reportFigures('authorization', [
    ...rows.map(([name, c, w]) => ({
      name: `PDP decisions/s, ${name}`,
      value: `cold ${c.toFixed(0)}/s, cached ${w.toFixed(0)}/s`,
      ratio: `cached:cold ${(w / c).toFixed(0)}x`,
    })),
    ...tokens.map(([name, rate]) => ({ name, value: `${rate.toFixed(0)}/s` })),
  ]);
  await db.close();
  return 0;
}
