import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorageHarness, type StorageHarness } from '../../../../test/support/storage.js';
import type { Instance } from '../models/instance-schemas.js';
import { instanceRepository } from '../repositories/instance-repository.js';

type Page = { count: number; next?: string; instances: Instance[] };

const BASE = Date.parse('2026-01-01T00:00:00Z');
const ORIGINALS = 260;

/** A stored instance of ttd/forms whose created and lastChanged are `at`. */
function instanceAt(at: number): Instance {
  const id = `510001/${randomUUID()}`;
  const stamp = new Date(at).toISOString();
  return {
    id,
    instanceOwner: { partyId: '510001' },
    appId: 'ttd/forms',
    org: 'ttd',
    selfLinks: { platform: `/storage/api/v1/instances/${id}` },
    process: null,
    status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Unread' },
    data: [],
    created: stamp,
    createdBy: null,
    lastChanged: stamp,
    lastChangedBy: null,
  };
}

const guidOf = (instance: Instance) => instance.id.slice(instance.id.indexOf('/') + 1);
/** Newest lastChanged first, the larger guid first among equal lastChanged: the query's order. */
const newestFirst = (a: Instance, b: Instance) =>
  b.lastChanged.localeCompare(a.lastChanged) || guidOf(b).localeCompare(guidOf(a));

describe('GET instances paging under concurrent inserts', () => {
  let storage: StorageHarness;
  beforeAll(async () => {
    storage = await openStorageHarness();
    expect((await storage.call('POST', 'applications/ttd/forms', {})).status).toBe(201);
  });
  afterAll(async () => {
    await storage.close();
  });

  const insert = (instances: Instance[]) =>
    storage.db.transaction(async (tx) => {
      const repository = instanceRepository(tx);
      for (const instance of instances) await repository.insertInstance(instance);
    });

  let inserted = 0;
  /**
   * Three new instances: one newer than everything (as a live clock gives), one backdated into the originals'
   * range with a timestamp of its own, one sharing an original's lastChanged (a slow transaction committing late).
   */
  const insertNewcomers = () => {
    inserted += 1;
    return insert([
      instanceAt(BASE + 1_000_000 + inserted * 1000),
      instanceAt(BASE + ((inserted * 7919) % ORIGINALS) * 333 + 1),
      instanceAt(BASE + Math.floor(((inserted * 104729) % ORIGINALS) / 3) * 1000),
    ]);
  };

  it('pages 260 instances by 40 while others are inserted between and during fetches: none skipped or repeated', async () => {
    // Three instances per second, so lastChanged ties are common and the guid must break them.
    const originals = Array.from({ length: ORIGINALS }, (_, i) => instanceAt(BASE + Math.floor(i / 3) * 1000));
    await insert(originals);

    const seen: Instance[] = [];
    let path: string | undefined = 'instances?appId=ttd/forms&size=40';
    let pages = 0;
    while (path) {
      await insertNewcomers();
      const [response] = await Promise.all([storage.call('GET', path), insertNewcomers(), insertNewcomers()]);
      expect(response.status).toBe(200);
      const page = (await response.json()) as Page;
      seen.push(...page.instances);
      path = page.next?.replace(/^https?:\/\/[^/]+\/storage\/api\/v1\//, '');
      pages += 1;
      expect(pages).toBeLessThan(20);
    }
    expect(inserted).toBeGreaterThan(20);

    const seenIds = seen.map((instance) => instance.id);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    const originalIds = new Set(originals.map((instance) => instance.id));
    expect(seenIds.filter((id) => originalIds.has(id))).toEqual([...originals].sort(newestFirst).map((i) => i.id));
    // Each page continues exactly where the last one ended: the whole walk is in the query's order.
    expect(seen).toEqual([...seen].sort(newestFirst));
  });
});
