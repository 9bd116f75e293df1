import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock, openStorageHarness, type StorageHarness } from '../../../../test/support/storage.js';
import { encodeContinuationToken } from './instance-query.js';

type Problem = { status: number; detail: string; errors?: { field: string; detail: string }[] };
type Instance = { id: string; lastChanged: string; created: string; [field: string]: unknown };
type Page = { count: number; self: string; next?: string; instances: Instance[] };

const clock = manualClock();
let storage: StorageHarness;
beforeEach(async () => {
  clock.set('2026-01-01T00:00:00Z');
  storage = await openStorageHarness({ now: clock.now });
  for (const app of ['forms', 'other'])
    expect((await storage.call('POST', `applications/ttd/${app}`, {})).status).toBe(201);
  expect((await storage.call('POST', 'applications/skd/tax', {}, await storage.tokens.org('skd'))).status).toBe(201);
});
afterEach(async () => {
  await storage.close();
});

/** Creates an instance at `at` (the API's clock stands still there). */
const createAt = async (at: string, body: object = {}, appId = 'ttd/forms', partyId = '510001') => {
  clock.set(at);
  // The app's own org creates it.
  const headers = await storage.tokens.org(appId.split('/')[0] ?? '');
  const response = await storage.call(
    'POST',
    `instances?appId=${appId}`,
    { instanceOwner: { partyId }, ...body },
    headers,
  );
  expect(response.status).toBe(201);
  return (await response.json()) as Instance;
};
const query = async (search: string, org = 'ttd'): Promise<Page> => {
  const response = await storage.call('GET', `instances?${search}`, undefined, await storage.tokens.org(org));
  expect(response.status).toBe(200);
  return (await response.json()) as Page;
};
const idsOf = (page: Page) => page.instances.map((instance) => instance.id);
const fieldsOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return ((await response.json()) as Problem).errors?.map((e) => e.field) ?? [];
};
/** Follows `next` links from `search` to the end and returns every page. */
const allPages = async (search: string): Promise<Page[]> => {
  const pages = [await query(search)];
  for (let page = pages[0]; page?.next; page = pages.at(-1)) {
    const response = await storage.call('GET', page.next.replace(/^https?:\/\/[^/]+\/storage\/api\/v1\//, ''));
    expect(response.status).toBe(200);
    pages.push((await response.json()) as Page);
  }
  return pages;
};

describe('GET instances: paging', () => {
  it('pages 25 instances (several sharing one lastChanged) by 10, each seen once in order, in both directions', async () => {
    const created: Instance[] = [];
    for (let i = 0; i < 25; i++) {
      // Five instances per second: lastChanged ties are the rule, not the exception.
      created.push(await createAt(`2026-01-01T00:00:0${Math.floor(i / 5)}Z`));
    }
    const guidOf = (instance: Instance) => instance.id.split('/')[1] ?? '';
    const ascending = [...created].sort(
      (a, b) => a.lastChanged.localeCompare(b.lastChanged) || guidOf(a).localeCompare(guidOf(b)),
    );

    const newestFirst = await allPages('org=ttd&size=10');
    expect(newestFirst.map((page) => page.count)).toEqual([10, 10, 5]);
    expect(newestFirst.flatMap(idsOf)).toEqual(ascending.map((i) => i.id).reverse());
    expect(newestFirst.map((page) => page.next === undefined)).toEqual([false, false, true]);
    // Absolute links, as Altinn's: app-lib's HttpClient would read a path starting with / as a file URI on Linux.
    expect(newestFirst[0]?.self).toMatch(/^http:\/\/[^/]+\/storage\/api\/v1\/instances\?org=ttd&size=10$/);
    expect(newestFirst[0]?.next).toMatch(
      /^http:\/\/[^/]+\/storage\/api\/v1\/instances\?org=ttd&size=10&continuationToken=/,
    );

    const oldestFirst = await allPages('appId=ttd/forms&size=10&order=asc:lastChanged');
    expect(oldestFirst.map((page) => page.count)).toEqual([10, 10, 5]);
    expect(oldestFirst.flatMap(idsOf)).toEqual(ascending.map((i) => i.id));
    expect(oldestFirst[2]?.next).toBeUndefined();
  });

  it('omits next when the last page is exactly full, and uses a page size of 100 by default', async () => {
    for (let i = 0; i < 4; i++) await createAt('2026-01-01T00:00:00Z');
    const pages = await allPages('org=ttd&size=2');
    expect(pages.map((page) => [page.count, page.next === undefined])).toEqual([
      [2, false],
      [2, true],
    ]);
    expect((await query('org=ttd')).count).toBe(4);
  });

  it('does not skip or repeat instances created while paging (they are newer than the first page)', async () => {
    for (let i = 0; i < 6; i++) await createAt(`2026-01-01T00:00:0${i}Z`);
    const first = await query('org=ttd&size=3');
    await createAt('2026-01-01T00:01:00Z');
    const second = (await (
      await storage.call('GET', first.next!.replace(/^https?:\/\/[^/]+\/storage\/api\/v1\//, ''))
    ).json()) as Page;
    expect(new Set([...idsOf(first), ...idsOf(second)]).size).toBe(6);
    expect(second.next).toBeUndefined();
  });

  it.each([
    ['not base64url', 'not*a*token'],
    ['base64url of something else', Buffer.from('hello').toString('base64url')],
    [
      'a token with a bad guid',
      encodeContinuationToken({ lastChanged: '2026-01-01T00:00:00.000Z', instanceGuid: 'x' }),
    ],
    [
      'a token with a bad date',
      encodeContinuationToken({
        lastChanged: '2026-13-01T00:00:00.000Z',
        instanceGuid: '0f8fad5b-d9cb-469f-a165-70867728950e',
      }),
    ],
  ])('returns 400 naming continuationToken for %s', async (_, token) => {
    const response = await storage.call('GET', `instances?org=ttd&continuationToken=${token}`);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['query.continuationToken']);
  });
});

describe('GET instances: filters', () => {
  it('filters by org, appId and instanceOwner.partyId', async () => {
    const a = await createAt('2026-01-01T00:00:01Z');
    const b = await createAt('2026-01-01T00:00:02Z', {}, 'ttd/other');
    const c = await createAt('2026-01-01T00:00:03Z', {}, 'skd/tax');
    const d = await createAt('2026-01-01T00:00:04Z', {}, 'ttd/forms', '510002');
    expect(idsOf(await query('org=ttd'))).toEqual([d.id, b.id, a.id]);
    expect(idsOf(await query('appId=ttd/forms'))).toEqual([d.id, a.id]);
    expect(idsOf(await query('org=ttd&appId=ttd/forms&instanceOwner.partyId=510001'))).toEqual([a.id]);
    expect(idsOf(await query('org=skd', 'skd'))).toEqual([c.id]);
  });

  it('combines date filters: several conditions on one parameter AND together, and across parameters', async () => {
    const jan = await createAt('2026-01-01T00:00:00Z', { dueBefore: '2026-03-01T00:00:00Z' });
    const feb = await createAt('2026-02-01T00:00:00Z', { dueBefore: '2026-04-01T00:00:00Z' });
    const mar = await createAt('2026-03-01T00:00:00Z', { visibleAfter: '2026-03-02T00:00:00Z' });
    expect(idsOf(await query('org=ttd&lastChanged=gt:2026-01-01T00:00:00Z'))).toEqual([mar.id, feb.id]);
    expect(
      idsOf(await query('org=ttd&lastChanged=gte:2026-01-01T00:00:00Z&lastChanged=lt:2026-03-01T00:00:00Z')),
    ).toEqual([feb.id, jan.id]);
    expect(idsOf(await query('org=ttd&created=lte:2026-02-01T00:00:00Z&created=gt:2026-01-15'))).toEqual([feb.id]);
    expect(idsOf(await query('org=ttd&created=eq:2026-03-01T01:00:00%2B01:00'))).toEqual([mar.id]);
    expect(idsOf(await query('org=ttd&created=2026-01-01'))).toEqual([jan.id]);
    expect(idsOf(await query('org=ttd&dueBefore=lt:2026-03-15T00:00:00Z'))).toEqual([jan.id]);
    expect(
      idsOf(await query('org=ttd&dueBefore=gt:2026-01-01T00:00:00Z&lastChanged=gte:2026-02-01T00:00:00Z')),
    ).toEqual([feb.id]);
    expect(idsOf(await query('org=ttd&visibleAfter=lte:2026-03-02T00:00:00Z'))).toEqual([mar.id]);
  });

  it('filters by process.currentTask and process.isComplete', async () => {
    const started = { started: '2026-01-01T00:00:00Z', currentTask: { elementId: 'Task_1' } };
    const inTask = await createAt('2026-01-01T00:00:01Z', { process: started });
    const done = await createAt('2026-01-01T00:00:02Z', {
      process: { started: '2026-01-01T00:00:00Z', ended: '2026-01-01T00:00:02Z', endEvent: 'EndEvent_1' },
    });
    const none = await createAt('2026-01-01T00:00:03Z');
    expect(idsOf(await query('org=ttd&process.currentTask=Task_1'))).toEqual([inTask.id]);
    expect(idsOf(await query('org=ttd&process.isComplete=true'))).toEqual([done.id]);
    // As Altinn's: isComplete=false means the process has a current task (an instance without a process is neither).
    expect(idsOf(await query('org=ttd&process.isComplete=False'))).toEqual([inTask.id]);
    expect(idsOf(await query('org=ttd&process.endEvent=EndEvent_1'))).toEqual([done.id]);
    expect(idsOf(await query('org=ttd&process.ended=gte:2026-01-01T00:00:02Z'))).toEqual([done.id]);
    expect(idsOf(await query('org=ttd'))).toContain(none.id);

    clock.set('2026-01-01T00:00:04Z');
    const ended = { ...started, currentTask: null, ended: '2026-01-01T00:00:04Z' };
    expect((await storage.call('PUT', `instances/${inTask.id}/process`, ended)).status).toBe(200);
    expect(idsOf(await query('org=ttd&process.isComplete=true'))).toEqual([inTask.id, done.id]);
    expect(idsOf(await query('org=ttd&process.currentTask=Task_1'))).toEqual([]);
  });

  it('filters deleted instances only when asked (as Altinn); the owning org may see hard-deleted ones', async () => {
    const kept = await createAt('2026-01-01T00:00:01Z');
    const soft = await createAt('2026-01-01T00:00:02Z');
    const hard = await createAt('2026-01-01T00:00:03Z');
    expect((await storage.call('DELETE', `instances/${soft.id}`)).status).toBe(200);
    expect((await storage.call('DELETE', `instances/${hard.id}?hard=true`)).status).toBe(200);
    const sorted = async (search: string) => idsOf(await query(search)).sort();
    expect(await sorted('org=ttd')).toEqual([kept.id, soft.id, hard.id].sort());
    expect(await sorted('org=ttd&status.isHardDeleted=false')).toEqual([kept.id, soft.id].sort());
    expect(await sorted('org=ttd&status.isHardDeleted=True')).toEqual([hard.id]);
    expect(await sorted('org=ttd&status.isSoftDeleted=false')).toEqual([kept.id]);
    expect(await sorted('org=ttd&status.isSoftDeleted=true&status.isHardDeleted=false')).toEqual([soft.id]);
    expect(await sorted('org=ttd&status.isArchived=false&status.isSoftDeleted=false')).toEqual([kept.id]);
    expect(await sorted('org=ttd&status.isArchived=true')).toEqual([]);
  });

  it('reads parameters as ASP.NET binds them: any casing, True/False, unknown ones ignored, large sizes cut to 1000', async () => {
    const one = await createAt('2026-01-01T00:00:01Z');
    const two = await createAt('2026-01-01T00:00:02Z');
    expect(idsOf(await query('ORG=ttd&Status.IsSoftDeleted=FALSE&colour=red'))).toEqual([two.id, one.id]);
    expect(idsOf(await query('org=ttd&order=ASC:lastChanged'))).toEqual([one.id, two.id]);
    expect(idsOf(await query('org=ttd&size=5000&excludeConfirmedBy=&language=nb'))).toEqual([two.id, one.id]);
    expect(idsOf(await query('org=ttd&lastChanged=gt:2026-01-01T00:00:01'))).toEqual([two.id]);
    expect(idsOf(await query('org=skd&appId=ttd/forms', 'skd'))).toEqual([]);
    expect(idsOf(await query('appId=ttd/forms&mainVersionInclude=3'))).toEqual([two.id, one.id]);
    expect(idsOf(await query('appId=ttd/forms&mainVersionInclude=2'))).toEqual([]);
    expect(idsOf(await query('appId=ttd/forms&mainVersionExclude=3'))).toEqual([]);
    expect(idsOf(await query(`appId=ttd/forms&A3Ref=${one.id.slice(-12).toUpperCase()}`))).toEqual([one.id]);
    const bare = await query('appId=ttd/forms&includeDataElements=false');
    expect(bare.instances.every((instance) => Array.isArray(instance.data) && instance.data.length === 0)).toBe(true);
  });

  it.each([
    ['neither org nor appId (from an org)', 'instanceOwner.partyId=510001', 'query.org'],
    ['an unknown operator', 'org=ttd&lastChanged=gg:2026-01-01T00:00:00Z', 'query.lastChanged'],
    ['a date that is not a date', 'org=ttd&created=gt:yesterday', 'query.created'],
    ['a date-time with a bad hour', 'org=ttd&dueBefore=lt:2026-01-01T25:00:00', 'query.dueBefore'],
    [
      'one bad value among several',
      'org=ttd&visibleAfter=gt:2026-01-01&visibleAfter=lt:2026-02-30x',
      'query.visibleAfter',
    ],
    ['a size of 0', 'org=ttd&size=0', 'query.size'],
    ['a bad A3Ref', 'org=ttd&A3Ref=abc', 'query.A3Ref'],
    ['a bad mainVersionInclude', 'org=ttd&mainVersionInclude=three', 'query.mainVersionInclude'],
    ['a bad status.isHardDeleted', 'org=ttd&status.isHardDeleted=1', 'query.status.isHardDeleted'],
    ['a size that is not a number', 'org=ttd&size=ten', 'query.size'],
    ['a bad isComplete', 'org=ttd&process.isComplete=yes', 'query.process.isComplete'],
    ['a bad partyId', 'org=ttd&instanceOwner.partyId=abc', 'query.instanceOwner.partyId'],
  ])('returns 400 naming the parameter for %s', async (_, search, field) => {
    const response = await storage.call('GET', `instances?${search}`);
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual([field]);
  });
});
