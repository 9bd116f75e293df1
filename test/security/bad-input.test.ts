import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../functions/src/storage/index.js';
import { ORG_SCOPES, TTD, USERS, useReplayHost } from '../altinn/harness.js';
import { filePart, multipartBytes, TEST_BOUNDARY } from '../support/multipart.js';
import { API_PREFIXES } from './apis.js';

/**
 * Bad input on every body-taking route: each JSON route of each API's OpenAPI document gets a NUL in a string, a
 * lone surrogate, 65-deep nesting and a body past the size limit; the data element routes get malformed multipart.
 * Every answer is a 4xx problem+json, and nothing is half-written: no table gains or loses a row, no blob appears,
 * the existing data element keeps its bytes.
 */

const OPERATOR_TOKEN = 'operator-token-for-bad-input-tests-0123456789abcdef';
const h = useReplayHost({ PROVISIONER_ADMIN_TOKEN: OPERATOR_TOKEN });

const APP = 'badinput';
const CONTENT = '<model>original</model>';

let ttd: Record<string, string>;
let operator: Record<string, string>;
let instance: string;
let dataGuid: string;

/** Path parameters filled with ids of real resources, so the request reaches the route's own checks. */
function fill(path: string): string {
  const [party, guid] = instance.split('/') as [string, string];
  const values: Record<string, string> = {
    org: TTD.org,
    app: APP,
    instanceOwnerPartyId: party,
    instanceGuid: guid,
    dataGuid,
    language: 'nb',
    partyId: String(USERS.sophie.partyId),
    resourceId: `app_ttd_${APP}`,
    instanceId: guid,
    id: '00000000-0000-4000-8000-000000000001',
  };
  return path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '1');
}

/** The JSON body routes of every API, as `[method, path]`. */
async function jsonRoutes(): Promise<[string, string][]> {
  const routes: [string, string][] = [];
  for (const prefix of API_PREFIXES) {
    const doc = (await (await h.send('GET', `${prefix}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>>;
    };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation.requestBody?.content?.['application/json']) routes.push([method.toUpperCase(), path]);
      }
    }
  }
  return routes;
}

/** Rows of every table, and the blobs of the data container: what a refused request must leave as it was. */
async function snapshot(): Promise<Record<string, number>> {
  const tables = await h.db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
  );
  const counts: Record<string, number> = {};
  for (const { table_name } of tables) {
    const [row] = await h.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM "${table_name}"`);
    counts[table_name] = Number(row?.n ?? 0);
  }
  let blobs = 0;
  for await (const page of h.host.platform.blob.list(DATA_CONTAINER)) blobs += page.length;
  counts['blob:storage-data'] = blobs;
  return counts;
}

async function expectProblem(response: Response, statuses: number[], what: string): Promise<void> {
  const text = await response.text();
  expect(statuses, `${what}: ${response.status} ${text.slice(0, 300)}`).toContain(response.status);
  expect(response.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
}

const tokenFor = (path: string) => (path.startsWith('/provisioner/') ? operator : ttd);

beforeAll(async () => {
  const issuer = h.host.platform.auth.issuer;
  ttd = { Authorization: `Bearer ${await issuer.orgToken({ org: TTD.org, scopes: [...ORG_SCOPES] })}` };
  operator = { Authorization: `Bearer ${OPERATOR_TOKEN}` };
  const json = { 'Content-Type': 'application/json' };
  const app = await h.send('POST', `/storage/api/v1/applications/ttd/${APP}`, {
    headers: { ...ttd, ...json },
    body: JSON.stringify({ dataTypes: [{ id: 'model', allowedContentTypes: ['application/xml'] }] }),
  });
  expect(app.status).toBe(201);
  const created = await h.send('POST', `/storage/api/v1/instances?appId=ttd/${APP}`, {
    headers: { ...ttd, ...json },
    body: JSON.stringify({ instanceOwner: { partyId: String(USERS.sophie.partyId) } }),
  });
  expect(created.status).toBe(201);
  instance = ((await created.json()) as { id: string }).id;
  const element = await h.send('POST', `/storage/api/v1/instances/${instance}/data?dataType=model`, {
    headers: { ...ttd, 'Content-Type': 'application/xml' },
    body: CONTENT,
  });
  expect(element.status).toBe(201);
  dataGuid = ((await element.json()) as { id: string }).id;
}, 60_000);

const BAD_JSON: [string, string, number[]][] = [
  ['a NUL in a string', '{"name":"a\\u0000b","value":"x"}', [400]],
  ['a NUL in a member name', '{"na\\u0000me":"x"}', [400]],
  ['a lone surrogate', '{"name":"\\ud800"}', [400]],
  ['65-deep nesting', `${'['.repeat(65)}${']'.repeat(65)}`, [400]],
  ['10,000-deep nesting', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, [400]],
];

/** A body past the API's limit: 4 MiB for Storage (application metadata), 1 MiB or less elsewhere. */
const oversize = (path: string) =>
  `{"name":"${'x'.repeat((path.startsWith('/storage/') ? 4 : 1) * 1024 * 1024 + 16)}"}`;

describe('bad JSON on every JSON route', () => {
  it('answers 4xx problem+json to each, and writes nothing', async () => {
    const routes = await jsonRoutes();
    expect(routes.length).toBeGreaterThan(30);
    const before = await snapshot();
    for (const [method, path] of routes) {
      for (const [what, body, statuses] of [
        ...BAD_JSON,
        ['a body past the size limit', oversize(path), [413]] as [string, string, number[]],
      ]) {
        const response = await h
          .send(method, fill(path), {
            headers: { ...tokenFor(path), 'Content-Type': 'application/json; charset=utf-8' },
            body,
          })
          .catch((error: unknown) => {
            throw new Error(`${method} ${path} with ${what}: ${String(error)}`);
          });
        await expectProblem(response, statuses, `${method} ${path} with ${what}`);
      }
    }
    expect(await snapshot()).toEqual(before);
  }, 120_000);
});

describe('malformed multipart on the data element routes', () => {
  const part = filePart('a.xml', 'application/xml', '<model>changed</model>');
  const cases: [string, string, () => Promise<Uint8Array<ArrayBuffer> | string>][] = [
    ['a missing boundary', 'multipart/form-data', async () => multipartBytes([part])],
    [
      'a boundary that does not match',
      'multipart/form-data; boundary=other-boundary',
      async () => multipartBytes([part]),
    ],
    [
      'a truncated part (no closing boundary)',
      `multipart/form-data; boundary=${TEST_BOUNDARY}`,
      async () => multipartBytes([part], { close: false }),
    ],
    ['an empty body', `multipart/form-data; boundary=${TEST_BOUNDARY}`, async () => ''],
  ];

  it.each(cases)('POST data and PUT data with %s: 4xx problem+json, nothing written', async (_, type, body) => {
    const before = await snapshot();
    const post = await h.send('POST', `/storage/api/v1/instances/${instance}/data?dataType=model`, {
      headers: { ...ttd, 'Content-Type': type },
      body: await body(),
    });
    await expectProblem(post, [400, 413, 415], 'POST data');
    const put = await h.send('PUT', `/storage/api/v1/instances/${instance}/data/${dataGuid}`, {
      headers: { ...ttd, 'Content-Type': type },
      body: await body(),
    });
    await expectProblem(put, [400, 413, 415], 'PUT data');
    expect(await snapshot()).toEqual(before);
    const read = await h.send('GET', `/storage/api/v1/instances/${instance}/data/${dataGuid}`, { headers: ttd });
    expect(await read.text()).toBe(CONTENT);
  });
});
