import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../functions/src/storage/index.js';
import { ORG_SCOPES, TTD, USERS, useReplayHost } from '../altinn/harness.js';

/**
 * What an attacker tries beyond the happy shapes: ids that overflow or are not ids, an instance reached through
 * another party's path, path traversal in data types and filenames, and org names in other cases. Each is refused
 * with a 4xx problem+json (or, for a filename, stored harmlessly) and reaches nothing it should not.
 */

const h = useReplayHost();
const APP = 'tricks';

let ttd: Record<string, string>;
let skd: Record<string, string>;
let ola: Record<string, string>;
let instance: string;

async function expectProblem(response: Response, statuses: number[], what: string): Promise<string> {
  const text = await response.text();
  expect(statuses, `${what}: ${response.status} ${text.slice(0, 300)}`).toContain(response.status);
  expect(response.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
  return text;
}

beforeAll(async () => {
  const issuer = h.host.platform.auth.issuer;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  ttd = bearer(await issuer.orgToken({ org: TTD.org, scopes: [...ORG_SCOPES] }));
  skd = bearer(await issuer.orgToken({ org: 'skd', scopes: [...ORG_SCOPES] }));
  ola = bearer(await issuer.userToken({ userId: USERS.ola.userId, partyId: USERS.ola.partyId, authLevel: 2 }));
  const app = await h.send('POST', `/storage/api/v1/applications/ttd/${APP}`, {
    headers: { ...ttd, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      dataTypes: [{ id: 'model', allowedContentTypes: ['application/xml'] }, { id: 'attachment' }],
    }),
  });
  expect(app.status).toBe(201);
  const created = await h.send('POST', `/storage/api/v1/instances?appId=ttd/${APP}`, {
    headers: { ...ttd, 'Content-Type': 'application/json' },
    body: JSON.stringify({ instanceOwner: { partyId: String(USERS.sophie.partyId) } }),
  });
  expect(created.status).toBe(201);
  instance = ((await created.json()) as { id: string }).id;
}, 60_000);

describe('ids that are not ids', () => {
  const guid = () => instance.split('/')[1] as string;
  it.each([
    ['a party id past 64 bits', '99999999999999999999999'],
    ['a negative party id', '-510001'],
    ['a party id in exponent form', '5.10001e5'],
    ['a party id in hex', '0x7C831'],
    ['a party id with a sign', '+510001'],
    ['a party id with spaces', '%20510001'],
  ])('Storage instance with %s: 400 or 404, never the instance', async (_, party) => {
    const text = await expectProblem(
      await h.send('GET', `/storage/api/v1/instances/${party}/${guid()}`, { headers: ttd }),
      [400, 404],
      party,
    );
    expect(text).not.toContain('"instanceOwner"');
  });

  it.each(['99999999999999999999999', '-1', '0', '1e3', '9007199254740993'])(
    'Register parties/%s: 400 or 404 problem+json',
    async (party) => {
      await expectProblem(
        await h.send('GET', `/register/api/v1/parties/${party}`, { headers: ttd }),
        [400, 404],
        party,
      );
    },
  );

  it("an instance reached through another party's path is not found, for its own org too", async () => {
    for (const headers of [ola, ttd]) {
      await expectProblem(
        await h.send('GET', `/storage/api/v1/instances/${USERS.ola.partyId}/${guid()}`, { headers }),
        [403, 404],
        'mismatched party',
      );
    }
  });

  it('a GUID in another spelling does not reach around the checks', async () => {
    const response = await h.send('GET', `/storage/api/v1/instances/${USERS.sophie.partyId}/${guid().toUpperCase()}`, {
      headers: skd,
    });
    await expectProblem(response, [400, 403, 404], 'upper-case guid as another org');
  });
});

describe('path traversal', () => {
  it.each(['../model', '..%2Fmodel', 'model/../../other', '%2e%2e', 'model%00'])(
    'dataType=%s: 400 or 404 problem+json, no blob written',
    async (dataType) => {
      const before = await blobNames();
      const response = await h.send('POST', `/storage/api/v1/instances/${instance}/data?dataType=${dataType}`, {
        headers: { ...ttd, 'Content-Type': 'application/xml' },
        body: '<x/>',
      });
      await expectProblem(response, [400, 403, 404], dataType);
      expect(await blobNames()).toEqual(before);
    },
  );

  it('a filename with directories and control characters is stored as a plain name under the instance', async () => {
    const response = await h.send('POST', `/storage/api/v1/instances/${instance}/data?dataType=attachment`, {
      headers: {
        ...ttd,
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': 'attachment; filename="../../../etc/passwd"',
      },
      body: 'x',
    });
    if (response.status === 201) {
      const element = (await response.json()) as { filename?: string; blobStoragePath?: string; id: string };
      expect(element.filename ?? '').not.toMatch(/[/\\]/);
      expect(element.blobStoragePath ?? '').toContain(instance.split('/')[1]);
      expect(element.blobStoragePath ?? '').not.toContain('..');
      for (const name of await blobNames()) expect(name).not.toContain('..');
    } else {
      await expectProblem(response, [400], 'traversal filename');
    }
  });
});

describe('org names in other cases', () => {
  it.each(['TTD', 'Ttd', 'ttd%00', 'ttd '])('another org cannot write ttd’s app as %s', async (org) => {
    const response = await h.send('PUT', `/storage/api/v1/applications/${org}/${APP}`, {
      headers: { ...skd, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: `${org}/${APP}`, org, title: { nb: 'taken over' } }),
    });
    await expectProblem(response, [400, 403, 404], org);
    const app = (await (await h.send('GET', `/storage/api/v1/applications/ttd/${APP}`)).json()) as {
      title?: Record<string, string>;
    };
    expect(app.title?.nb).not.toBe('taken over');
  });

  it('an org cannot create an app under another org in other cases', async () => {
    for (const org of ['TTD', 'Ttd']) {
      const response = await h.send('POST', `/storage/api/v1/applications/${org}/newapp`, {
        headers: { ...skd, 'Content-Type': 'application/json' },
        body: '{}',
      });
      await expectProblem(response, [400, 403], org);
    }
  });
});

async function blobNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const page of h.host.platform.blob.list(DATA_CONTAINER)) names.push(...page.map((blob) => blob.name));
  return names.sort();
}
