import type { Queryable, Row, Transaction } from './types.js';

/** The two primitives a driver provides for one connection (or one PGlite transaction). */
export interface Connection {
  query(sql: string, params: readonly unknown[]): Promise<Row[]>;
  exec(sql: string): Promise<void>;
}

/** Races `work` against a timer so a dead server cannot hang a readiness check. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wraps a connection that is inside a transaction: `transaction()` on it opens a savepoint, and every method
 * refuses once `isOpen()` turns false (the outer transaction committed or rolled back).
 */
export function transactionOn(connection: Connection, isOpen: () => boolean): Transaction {
  let savepoints = 0;
  const ensureOpen = (): void => {
    if (!isOpen()) throw new Error('transaction already finished; use the database, not a stale transaction');
  };
  const tx: Queryable = {
    async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      ensureOpen();
      return (await connection.query(sql, params)) as T[];
    },
    async exec(sql: string): Promise<void> {
      ensureOpen();
      await connection.exec(sql);
    },
    async transaction<T>(fn: (inner: Transaction) => Promise<T>): Promise<T> {
      ensureOpen();
      savepoints += 1;
      const name = `platform_sp_${savepoints}`;
      let innerOpen = true;
      await connection.exec(`SAVEPOINT ${name}`);
      try {
        const result = await fn(transactionOn(connection, () => innerOpen && isOpen()));
        await connection.exec(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        await connection.exec(`ROLLBACK TO SAVEPOINT ${name}`);
        throw error;
      } finally {
        innerOpen = false;
      }
    },
  };
  return tx;
}
