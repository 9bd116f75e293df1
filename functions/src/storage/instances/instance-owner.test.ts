import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFormsInstance,
  fieldsOf,
  manualClock,
  openStorageHarness,
  type StorageHarness,
} from '../../../../test/support/storage.js';
import { confirmComplete } from '../repositories/instance-repository.js';

// Valid fødselsnummer and organisasjonsnummer (see platform/identifiers for their control digits).
const PERSON = '15058045656';
const D_NUMBER = '41017012337';
const OTHER_PERSON = '01018512366';
const ORGANISATION = '974760673';
const OTHER_ORGANISATION = '991825827';

type Instance = { id: string; completeConfirmations?: unknown; lastChanged: string; [field: string]: unknown };
type Page = { count: number; instances: Instance[] };

const OWNER_HEADER = 'X-Ai-InstanceOwnerIdentifier';

describe('GET instances by owner and by confirmation', () => {
  const clock = manualClock();
  let storage: StorageHarness;
  beforeEach(async () => {
    clock.set('2026-01-01T00:00:00Z');
    storage = await openStorageHarness({ now: clock.now });
    expect((await storage.call('POST', 'applications/ttd/forms', {})).status).toBe(201);
  });
  afterEach(async () => {
    await storage.close();
  });

  const createAt = async (at: string, instanceOwner: Record<string, string>) => {
    clock.set(at);
    const response = await storage.call('POST', 'instances?appId=ttd/forms', { instanceOwner });
    expect(response.status).toBe(201);
    return (await response.json()) as Instance;
  };
  const query = async (search: string, headers: Record<string, string> = {}) => {
    const response = await storage.call('GET', `instances?${search}`, undefined, headers);
    expect(response.status).toBe(200);
    return ((await response.json()) as Page).instances.map((instance) => instance.id);
  };
  const confirm = (instance: Instance, stakeholderId: string, at: string) => {
    const [partyId = '', guid = ''] = instance.id.split('/');
    return storage.db.transaction((tx) => confirmComplete(tx, partyId, guid, stakeholderId, at));
  };

  /** Three owners: a person, another person and an organisation. */
  const owners = async () => ({
    person: await createAt('2026-01-01T00:00:01Z', { partyId: '510001', personNumber: PERSON }),
    other: await createAt('2026-01-01T00:00:02Z', { partyId: '510002', personNumber: OTHER_PERSON }),
    org: await createAt('2026-01-01T00:00:03Z', { partyId: '510003', organisationNumber: ORGANISATION }),
  });

  it('filters by Person:<fødselsnummer> and Organisation:<orgnr> (prefix in any case)', async () => {
    const { person, other, org } = await owners();
    expect(await query('org=ttd', { [OWNER_HEADER]: `Person:${PERSON}` })).toEqual([person.id]);
    expect(await query('org=ttd', { [OWNER_HEADER]: `person:${OTHER_PERSON}` })).toEqual([other.id]);
    expect(await query('appId=ttd/forms', { [OWNER_HEADER]: `Organisation:${ORGANISATION}` })).toEqual([org.id]);
    expect(await query('org=ttd', { [OWNER_HEADER]: `ORGANISATION:${OTHER_ORGANISATION}` })).toEqual([]);
    expect(await query('org=ttd', { [OWNER_HEADER]: `Person:${D_NUMBER}` })).toEqual([]);
    expect(await query('org=ttd')).toEqual([org.id, other.id, person.id]);
  });

  it('finds an owner after the instance was changed (the owner columns are rewritten on update)', async () => {
    const { person } = await owners();
    clock.set('2026-01-01T00:00:09Z');
    expect((await storage.call('PUT', `instances/${person.id}/readstatus?status=Read`)).status).toBe(200);
    expect(await query('org=ttd', { [OWNER_HEADER]: `Person:${PERSON}` })).toEqual([person.id]);
  });

  it.each([
    ['an unknown prefix', `Party:${PERSON}`],
    ['no prefix', PERSON],
    ['an empty value', ''],
    ['a person number with a bad control digit', 'Person:15058045657'],
    ['a person number with 10 digits', 'Person:1505804565'],
    ['an organisation number with a bad control digit', 'Organisation:974760674'],
    ['an organisation number given as a person', `Person:${ORGANISATION}`],
    ['a person number given as an organisation', `Organisation:${PERSON}`],
  ])('answers 400 problem+json naming the header for %s', async (_, value) => {
    const response = await storage.call('GET', 'instances?org=ttd', undefined, { [OWNER_HEADER]: value });
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['header.x-ai-instanceowneridentifier']);
  });

  it('answers 400 when the header and instanceOwner.partyId are both given', async () => {
    const response = await storage.call('GET', 'instances?org=ttd&instanceOwner.partyId=510001', undefined, {
      [OWNER_HEADER]: `Person:${PERSON}`,
    });
    expect(response.status).toBe(400);
    expect(await fieldsOf(response)).toEqual(['header.x-ai-instanceowneridentifier']);
  });

  it('excludeConfirmedBy leaves out instances any named stakeholder confirmed, and may be repeated', async () => {
    const { person, other, org } = await owners();
    await confirm(person, 'ttd', '2026-01-02T00:00:00Z');
    await confirm(other, 'skd', '2026-01-02T00:00:01Z');
    // lastChanged moved: person (00:00:00), then other (00:00:01) are now the newest.
    expect(await query('org=ttd')).toEqual([other.id, person.id, org.id]);
    expect(await query('org=ttd&excludeConfirmedBy=ttd')).toEqual([other.id, org.id]);
    expect(await query('org=ttd&excludeConfirmedBy=skd')).toEqual([person.id, org.id]);
    expect(await query('org=ttd&excludeConfirmedBy=ttd&excludeConfirmedBy=skd')).toEqual([org.id]);
    expect(await query('org=ttd&excludeConfirmedBy=nav')).toEqual([other.id, person.id, org.id]);
    expect(await query('org=ttd&excludeConfirmedBy=ttd', { [OWNER_HEADER]: `Organisation:${ORGANISATION}` })).toEqual([
      org.id,
    ]);
  });

  it('ignores an empty excludeConfirmedBy, as ASP.NET binds it as none', async () => {
    const response = await storage.call('GET', 'instances?org=ttd&excludeConfirmedBy=');
    expect(response.status).toBe(200);
  });
});

describe('confirmComplete', () => {
  let storage: StorageHarness;
  let instance: Instance;
  beforeEach(async () => {
    storage = await openStorageHarness();
    const response = await createFormsInstance(storage);
    instance = (await response.json()) as Instance;
  });
  afterEach(async () => {
    await storage.close();
  });

  const confirm = (stakeholderId: string, at: string, id = instance.id) => {
    const [partyId = '', guid = ''] = id.split('/');
    return storage.db.transaction((tx) => confirmComplete(tx, partyId, guid, stakeholderId, at));
  };
  const row = async () => {
    const found = await storage.storedInstance(instance.id);
    if (!found) throw new Error('no row');
    return found;
  };

  it('appends { stakeholderId, confirmedOn }, moves lastChanged and the ETag, and GET answers it', async () => {
    const before = await row();
    const result = await confirm('ttd', '2026-02-01T00:00:00.000Z');
    const expected = {
      ...instance,
      completeConfirmations: [{ stakeholderId: 'ttd', confirmedOn: '2026-02-01T00:00:00.000Z' }],
      lastChanged: '2026-02-01T00:00:00.000Z',
    };
    // The stored row keeps its links relative; the API answers them absolute (instance-links.ts).
    const stored = { ...expected, selfLinks: expect.any(Object) };
    expect(result?.instance).toEqual(stored);
    expect(await row()).toEqual({ instance: stored, version: result?.version });
    expect(result?.version).not.toBe(before.version);
    const read = await storage.call('GET', `instances/${instance.id}`);
    expect(await read.json()).toEqual(expected);
    expect(read.headers.get('etag')).toBe(`"${result?.version}"`);
  });

  it('is idempotent for one stakeholder: a second confirmation changes nothing', async () => {
    const first = await confirm('ttd', '2026-02-01T00:00:00.000Z');
    const after = await row();
    const second = await confirm('ttd', '2026-03-01T00:00:00.000Z');
    expect(second).toEqual(first);
    expect(await row()).toEqual(after);
  });

  it('keeps every stakeholder, in the order they confirmed', async () => {
    await confirm('ttd', '2026-02-01T00:00:00.000Z');
    await confirm('skd', '2026-02-02T00:00:00.000Z');
    expect((await row()).instance.completeConfirmations).toEqual([
      { stakeholderId: 'ttd', confirmedOn: '2026-02-01T00:00:00.000Z' },
      { stakeholderId: 'skd', confirmedOn: '2026-02-02T00:00:00.000Z' },
    ]);
    expect((await row()).instance.lastChanged).toBe('2026-02-02T00:00:00.000Z');
  });

  it('answers undefined for an unknown or hard-deleted instance, and writes nothing', async () => {
    expect(await confirm('ttd', '2026-02-01T00:00:00.000Z', '510001/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(
      undefined,
    );
    expect((await storage.call('DELETE', `instances/${instance.id}?hard=true`)).status).toBe(200);
    const before = await row();
    expect(await confirm('ttd', '2026-02-01T00:00:00.000Z')).toBeUndefined();
    expect(await row()).toEqual(before);
  });

  it('ignores completeConfirmations sent in a template: only confirmComplete adds them', async () => {
    const response = await storage.call('POST', 'instances?appId=ttd/forms', {
      instanceOwner: { partyId: '510001' },
      completeConfirmations: [{ stakeholderId: 'ttd', confirmedOn: '2026-01-01T00:00:00Z' }],
    });
    const created = (await response.json()) as Instance;
    expect(created).not.toHaveProperty('completeConfirmations');
    const page = await storage.call('GET', 'instances?org=ttd&excludeConfirmedBy=ttd');
    expect(((await page.json()) as Page).instances.map((i) => i.id)).toContain(created.id);
  });
});
