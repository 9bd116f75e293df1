import pg from 'pg';
import { type Connection, transactionOn, withTimeout } from './connection.js';
import type { Database, DatabaseOptions, Row } from './types.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function connectionOf(client: pg.Pool | pg.PoolClient): Connection {
  return {
    async query(sql, params) {
      const result = await client.query<Row>(sql, [...params]);
      return result.rows;
    },
    async exec(sql) {
      await client.query(sql);
    },
  };
}

/** Connects a pool to the PostgreSQL server at `url`, optionally confined to `options.schema`. */
export async function openPostgres(url: string, options: DatabaseOptions = {}): Promise<Database> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error(`schema name must match ${SCHEMA_NAME}, got '${options.schema}'`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on('error', (error) => options.logger?.error('idle PostgreSQL connection failed', { error }));
  const connection = connectionOf(pool);
  let closed = false;

  const database: Database = {
    kind: 'postgres',
    query: async <T extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
      (await connection.query(sql, params)) as T[],
    exec: (sql) => connection.exec(sql),
    async transaction(fn) {
      const client = await pool.connect();
      const clientConnection = connectionOf(client);
      let open = true;
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(transactionOn(clientConnection, () => open));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        open = false;
        client.release(broken);
      }
    },
    async ping(timeoutMs = 2000) {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'PostgreSQL');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  await database.ping(5000).catch(async (error: Error) => {
    await pool.end();
    throw new Error(`cannot reach PostgreSQL at ${redactUrl(url)}: ${error.message}`);
  });
  return database;
}

/** Drops the password from a connection URL so it can appear in messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
