import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, usingPostgres } from '../../../test/support/database.js';
import { type Database, openDatabase } from './index.js';

describe(`Database on ${usingPostgres ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Database;

  beforeEach(async () => {
    db = await openTestDatabase({ migrations: [] });
    await db.exec('CREATE TABLE party (id integer PRIMARY KEY, name text NOT NULL)');
  });
  afterEach(async () => {
    await db.close();
  });

  const names = async () => (await db.query<{ name: string }>('SELECT name FROM party ORDER BY id')).map((r) => r.name);

  it('passes parameters separately from the SQL text, so quotes in values are data', async () => {
    await db.query('INSERT INTO party (id, name) VALUES ($1, $2)', [1, "O'Brien; DROP TABLE party"]);
    expect(await names()).toEqual(["O'Brien; DROP TABLE party"]);
  });

  it('returns int8 and numeric as strings on both drivers', async () => {
    const [row] = await db.query('SELECT count(*) AS n, 1.50::numeric AS amount, 2::integer AS i FROM party');
    expect(row).toEqual({ n: '0', amount: '1.50', i: 2 });
  });

  it('commits a transaction whose callback resolves and returns its value', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO party (id, name) VALUES (1, $1)', ['ttd']);
      await tx.query('INSERT INTO party (id, name) VALUES (2, $1)', ['skd']);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await names()).toEqual(['ttd', 'skd']);
  });

  it('rolls back every write of a transaction whose callback throws, and rethrows the error', async () => {
    const failure = db.transaction(async (tx) => {
      await tx.query('INSERT INTO party (id, name) VALUES (1, $1)', ['ttd']);
      throw new Error('validation failed after the first write');
    });
    await expect(failure).rejects.toThrow('validation failed after the first write');
    expect(await names()).toEqual([]);
  });

  it('rolls back when a statement inside the transaction fails (constraint violation)', async () => {
    const failure = db.transaction(async (tx) => {
      await tx.query('INSERT INTO party (id, name) VALUES (1, $1)', ['ttd']);
      await tx.query('INSERT INTO party (id, name) VALUES (1, $1)', ['duplicate id']);
    });
    await expect(failure).rejects.toThrow(/duplicate key/);
    expect(await names()).toEqual([]);
  });

  it('undoes only the inner work when a nested transaction (savepoint) throws', async () => {
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO party (id, name) VALUES (1, 'outer')");
      await expect(
        tx.transaction(async (inner) => {
          await inner.query("INSERT INTO party (id, name) VALUES (2, 'inner')");
          throw new Error('inner failed');
        }),
      ).rejects.toThrow('inner failed');
      await tx.transaction(async (inner) => {
        await inner.query("INSERT INTO party (id, name) VALUES (3, 'inner kept')");
      });
    });
    expect(await names()).toEqual(['outer', 'inner kept']);
  });

  it('discards committed savepoint work when the outer transaction rolls back', async () => {
    const failure = db.transaction(async (tx) => {
      await tx.transaction((inner) => inner.query("INSERT INTO party (id, name) VALUES (1, 'inner')"));
      throw new Error('outer failed');
    });
    await expect(failure).rejects.toThrow('outer failed');
    expect(await names()).toEqual([]);
  });

  it('refuses to use a transaction object after its callback finished', async () => {
    let leaked: Parameters<Parameters<Database['transaction']>[0]>[0] | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked?.query('SELECT 1')).rejects.toThrow(/transaction already finished/);
  });
});

describe('openDatabase', () => {
  it.skipIf(usingPostgres)(
    'keeps PGlite data in dataDir across reopen, and refuses queries once closed',
    { timeout: 60_000 },
    async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'pglite-'));
      try {
        const first = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
        await first.exec("CREATE TABLE org (name text); INSERT INTO org VALUES ('ttd')");
        await first.close();
        const second = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
        expect(await second.query('SELECT name FROM org')).toEqual([{ name: 'ttd' }]);
        await expect(second.ping()).resolves.toBeUndefined();
        await second.close();
        await expect(second.ping()).rejects.toThrow();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );

  it('fails fast naming the server without its password when PostgreSQL is unreachable', async () => {
    const opening = openDatabase({ url: 'postgres://app:s3cret@127.0.0.1:1/platform' });
    await expect(opening).rejects.toThrow(
      /cannot reach PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/platform/,
    );
    await expect(opening).rejects.not.toThrow(/s3cret/);
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(openDatabase({ url: 'postgres://127.0.0.1:1/x', schema: 'x; DROP' })).rejects.toThrow(/schema name/);
  });
});
