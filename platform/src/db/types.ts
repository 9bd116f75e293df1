import type { Logger } from '../logging/index.js';

/** A result row: column name to value (int8 and numeric come back as strings on both drivers). */
export type Row = Record<string, unknown>;

/** What can run SQL: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one parameterised statement (`$1`, `$2`, ...) and returns its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of one or more statements without parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws (the error is rethrown).
   * Called on a transaction it opens a savepoint, so an inner failure undoes only the inner work.
   * Nested calls on one transaction must not run in parallel.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

/** An open transaction; unusable once its `transaction` callback has finished. */
export type Transaction = Queryable;

/** The platform's one database interface, over embedded PGlite or a PostgreSQL server. */
export interface Database extends Queryable {
  /** Which engine is behind it. */
  readonly kind: 'pglite' | 'postgres';
  /** Resolves when the database answers `SELECT 1` within `timeoutMs`, rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** Closes connections; further use fails. Safe to call twice. */
  close(): Promise<void>;
}

/** How to open the database. */
export interface DatabaseOptions {
  /** PostgreSQL server URL; when set, `dataDir` is ignored. */
  url?: string | undefined;
  /** Folder of the embedded PGlite database, or `'memory'` for a throwaway in-memory one. */
  dataDir?: string;
  /** PostgreSQL only: schema to use as `search_path` (must exist), e.g. one per test file. */
  schema?: string;
  /** PostgreSQL only: maximum pool size (default 10). */
  maxConnections?: number;
  /** Receives errors of idle pooled connections. */
  logger?: Logger;
}
