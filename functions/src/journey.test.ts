import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/src/config/index.js';
import type { Database } from '../../platform/src/db/index.js';
import { silentLogger } from '../../platform/src/logging/index.js';
import { testBlobConnectionString } from '../../test/support/blob.js';
import { openTestDatabase } from '../../test/support/database.js';
import { type FunctionsHost, startFunctionsHost } from './server.js';

// Seeded test data (register/SEED.md): Sophie is user 1001 with party 510001, Ola user 1002 with party 510002,
// and the service owner ttd is Testdepartementet, organisation number 310500003.
const SOPHIE = { ssn: '01817550181', partyId: 510001 };
const OLA = { ssn: '02828840048', userId: 1002 };
const TTD_SCOPES = ['altinn:appdeploy', 'altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'];

let db: Database;
let host: FunctionsHost;

beforeAll(async () => {
  db = await openTestDatabase();
  const config = loadConfig({
    PLATFORM_MODE: 'local',
    BLOB_CONNECTION_STRING: testBlobConnectionString(),
    SEED_TEST_DATA: 'true',
  });
  host = await startFunctionsHost({ config, port: 0, platform: { db, logger: silentLogger } });
});
afterAll(async () => {
  await host?.close();
  await db?.close();
});

/** One curl to a platform token: the test identity provider's external token, exchanged by Authentication. */
async function platformToken(query: string): Promise<string> {
  const response = await fetch(`${host.url}/authentication/api/v1/testidp/token?${query}&exchange=true`);
  expect(response.status).toBe(200);
  return response.text();
}

function call(token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${host.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('the whole access chain over HTTP', () => {
  it('exchange -> platform token -> own party allowed, other denied, allowed while delegated, denied after revoke', async () => {
    const ttd = await platformToken(`orgNumber=310500003&scope=${encodeURIComponent(TTD_SCOPES.join(' '))}`);
    const sophie = await platformToken(`ssn=${SOPHIE.ssn}`);
    const ola = await platformToken(`ssn=${OLA.ssn}`);

    expect((await call(ttd, 'POST', '/storage/api/v1/applications/ttd/journey', {})).status).toBe(201);
    const created = await call(ttd, 'POST', '/storage/api/v1/instances?appId=ttd/journey', {
      instanceOwner: { partyId: String(SOPHIE.partyId) },
    });
    expect(created.status).toBe(201);
    const instancePath = `/storage/api/v1/instances/${((await created.json()) as { id: string }).id}`;
    const partyQuery = `/storage/api/v1/instances?instanceOwner.partyId=${SOPHIE.partyId}`;

    expect((await call(sophie, 'GET', instancePath)).status).toBe(200);
    expect((await call(ola, 'GET', instancePath)).status).toBe(403);
    // As Altinn's query: a party the user may not act for answers no instances, not 403.
    const none = await call(ola, 'GET', partyQuery);
    expect(none.status).toBe(200);
    expect(((await none.json()) as { instances: unknown[] }).instances).toEqual([]);

    const delegated = await call(sophie, 'POST', '/intermediary/api/v1/delegations', {
      offeredByPartyId: SOPHIE.partyId,
      coveredByUserId: OLA.userId,
      roleCode: 'REGNA',
    });
    expect(delegated.status).toBe(201);
    const { delegationId } = (await delegated.json()) as { delegationId: string };
    expect((await call(ola, 'GET', instancePath)).status).toBe(200);
    const reportees = (await (await call(ola, 'GET', `/authorization/api/v1/parties?userId=${OLA.userId}`)).json()) as {
      partyId: number;
      name?: string;
    }[];
    // Register's parties: the seed's roles (REGN for DDG Fitness, DAGL for Nordlys), the delegation, his own.
    expect(reportees.map((party) => [party.partyId, party.name])).toEqual([
      [500000, 'DDG Fitness AS'],
      [500100, 'Nordlys Regnskap AS'],
      [SOPHIE.partyId, 'Sophie Salt'],
      [510002, 'Ola Nordmann'],
    ]);
    const page = (await (await call(ola, 'GET', partyQuery)).json()) as { instances: unknown[] };
    expect(page.instances).toHaveLength(1);

    expect((await call(sophie, 'DELETE', `/intermediary/api/v1/delegations/${delegationId}`)).status).toBe(200);
    expect((await call(ola, 'GET', instancePath)).status).toBe(403);
  });

  it('delegated app rights reach only that app and action; a lent ADMAI cannot be passed on', async () => {
    const ttd = await platformToken(`orgNumber=310500003&scope=${encodeURIComponent(TTD_SCOPES.join(' '))}`);
    const sophie = await platformToken(`ssn=${SOPHIE.ssn}`);
    const ola = await platformToken(`ssn=${OLA.ssn}`);
    const paths: Record<string, string> = {};
    for (const app of ['lent', 'other']) {
      await call(ttd, 'POST', `/storage/api/v1/applications/ttd/${app}`, {});
      const created = await call(ttd, 'POST', `/storage/api/v1/instances?appId=ttd/${app}`, {
        instanceOwner: { partyId: String(SOPHIE.partyId) },
      });
      paths[app] = `/storage/api/v1/instances/${((await created.json()) as { id: string }).id}`;
    }
    const rights = await call(sophie, 'POST', '/intermediary/api/v1/delegations', {
      offeredByPartyId: SOPHIE.partyId,
      coveredByUserId: OLA.userId,
      rights: { org: 'ttd', app: 'lent', actions: ['read'] },
    });
    expect(rights.status).toBe(201);
    expect((await call(ola, 'GET', paths.lent ?? '')).status).toBe(200);
    expect((await call(ola, 'GET', paths.other ?? '')).status).toBe(403);
    expect((await call(ola, 'DELETE', paths.lent ?? '')).status).toBe(403);
    const query = `/storage/api/v1/instances?instanceOwner.partyId=${SOPHIE.partyId}`;
    // A query across the party's apps answers only the instances of the app he has rights to (Altinn filters).
    const ids = async (search: string) =>
      ((await (await call(ola, 'GET', search)).json()) as { instances: { id: string }[] }).instances.map(
        (instance) => `/storage/api/v1/instances/${instance.id}`,
      );
    expect(await ids(query)).toEqual([paths.lent]);
    expect(await ids(`${query}&appId=ttd/lent`)).toEqual([paths.lent]);
    expect(await ids(`${query}&appId=ttd/other`)).toEqual([]);

    const admai = await call(sophie, 'POST', '/intermediary/api/v1/delegations', {
      offeredByPartyId: SOPHIE.partyId,
      coveredByUserId: OLA.userId,
      roleCode: 'ADMAI',
    });
    expect(admai.status).toBe(201);
    const onwards = await call(ola, 'POST', '/intermediary/api/v1/delegations', {
      offeredByPartyId: SOPHIE.partyId,
      coveredByUserId: OLA.userId,
      roleCode: 'ADMAI',
      validFrom: '2026-01-01T00:00:00Z',
    });
    expect(onwards.status).toBe(403);
  });

  it('lets an end user ask for decisions about themself only', async () => {
    const ola = await platformToken(`ssn=${OLA.ssn}`);
    const ask = (userId: number) =>
      call(ola, 'POST', '/authorization/api/v1/decision', {
        Request: {
          AccessSubject: [{ Attribute: [{ AttributeId: 'urn:altinn:userid', Value: String(userId) }] }],
          Action: [{ Attribute: [{ AttributeId: 'urn:oasis:names:tc:xacml:1.0:action:action-id', Value: 'read' }] }],
          Resource: [
            {
              Attribute: [
                { AttributeId: 'urn:altinn:org', Value: 'ttd' },
                { AttributeId: 'urn:altinn:app', Value: 'journey' },
                { AttributeId: 'urn:altinn:partyid', Value: '500000' },
              ],
            },
          ],
        },
      });
    expect((await ask(OLA.userId)).status).toBe(200);
    expect((await ask(1001)).status).toBe(403);
  });

  it('refuses a token the platform did not sign, and a test-idp token used directly', async () => {
    const external = await (await fetch(`${host.url}/authentication/api/v1/testidp/token?ssn=${SOPHIE.ssn}`)).text();
    // Application metadata is served to anyone (Altinn's [AllowAnonymous]); texts need a valid platform token.
    const response = await call(external, 'GET', '/storage/api/v1/applications/ttd/journey/texts/nb');
    expect(response.status).toBe(401);
  });
});
