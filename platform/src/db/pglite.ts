import { PGlite, type PGliteInterface, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import { type Connection, transactionOn, withTimeout } from './connection.js';
import type { Database, Row } from './types.js';

/** Same as node-postgres: int8 and numeric stay strings, so results do not depend on the driver. */
const PARSERS = { 20: (value: string) => value, 1700: (value: string) => value };

function connectionOf(target: PGliteInterface | PGliteTransaction): Connection {
  return {
    async query(sql, params) {
      const result = await target.query<Row>(sql, [...params], { parsers: PARSERS });
      return result.rows;
    },
    async exec(sql) {
      await target.exec(sql);
    },
  };
}

/** Wraps an open PGlite instance (e.g. a `clone()` of a migrated template) as a Database. */
export function databaseFromPGlite(pglite: PGliteInterface): Database {
  const connection = connectionOf(pglite);
  let closed = false;
  return {
    kind: 'pglite',
    query: async <T extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
      (await connection.query(sql, params)) as T[],
    exec: (sql) => connection.exec(sql),
    transaction: (fn) =>
      pglite.transaction(async (pgTx) => {
        let open = true;
        try {
          return await fn(transactionOn(connectionOf(pgTx), () => open));
        } finally {
          open = false;
        }
      }),
    ping: async (timeoutMs = 2000) => {
      await withTimeout(pglite.query('SELECT 1'), timeoutMs, 'PGlite');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pglite.close();
    },
  };
}

/** Starts PGlite stored in `dataDir`, or in memory when `dataDir` is undefined. */
export async function openPGlite(dataDir: string | undefined): Promise<Database> {
  const pglite = await PGlite.create(dataDir ? { dataDir } : {});
  return databaseFromPGlite(pglite);
}
