/** SqlClient on a real PostgreSQL server through node-postgres (`pg`), with a connection pool. */
import pg from 'pg';
import { EngineUnavailable } from '../../core/errors.js';
import type { SqlClient, SqlExecutor, SqlResult } from '../../ports/sql.js';

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P03',
  '08006',
  '08001',
]);

/** Same value types as PGlite: int8 and numeric counts as numbers. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

const SETUP_ERRORS: Record<string, string> = {
  '28P01': 'password authentication failed',
  '28000': 'the role may not log in',
  '3D000': 'the database does not exist',
};

function wrap(url: string, e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code && SETUP_ERRORS[code]) {
    return new EngineUnavailable(
      'postgres',
      `${redact(url)}: ${SETUP_ERRORS[code]} (STRATA_DATABASE_URL)`,
      e,
    );
  }
  if (code && CONNECTION_ERRORS.has(code)) {
    return new EngineUnavailable(
      'postgres',
      `${redact(url)} is unreachable (STRATA_DATABASE_URL): ${code}`,
      e,
    );
  }
  return e;
}

export async function openPostgres(url: string, options: { max?: number } = {}): Promise<SqlClient> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    connectionTimeoutMillis: 5000,
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on the next query.
  });
  const run = async <R>(
    client: pg.Pool | pg.PoolClient,
    text: string,
    params?: readonly unknown[],
  ): Promise<SqlResult<R>> => {
    try {
      const r = await client.query(text, params as unknown[] | undefined);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    } catch (e) {
      throw wrap(url, e);
    }
  };
  const connect = () => pool.connect().catch((e: unknown) => Promise.reject(wrap(url, e)));
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listenClient: pg.PoolClient | undefined;
  let closed = false;

  return {
    describe: redact(url),
    query: (text, params) => run(pool, text, params),
    transaction: async (fn) => {
      const client = await connect();
      try {
        await client.query('BEGIN');
        const executor: SqlExecutor = { query: (text, params) => run(client, text, params) };
        const result = await fn(executor);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw wrap(url, e);
      } finally {
        client.release();
      }
    },
    exclusive: async (name, fn, onWait) => {
      // The lock lives on a connection of its own while `fn` runs on the rest of the pool; it is
      // keyed by schema too, so namespaces of one database do not wait for each other.
      const client = await connect();
      // A connection lost while it holds the lock must not crash the process (the lock goes with it).
      const onError = () => undefined;
      client.on('error', onError);
      let unlockFailed: Error | undefined;
      try {
        const key = 'hashtext(current_schema() || $1)';
        const got = await run<{ got: boolean }>(client, `SELECT pg_try_advisory_lock(${key}) AS got`, [name]);
        if (!got.rows[0]?.got) {
          onWait?.();
          await run(client, `SELECT pg_advisory_lock(${key})`, [name]);
        }
        try {
          return await fn();
        } finally {
          await client.query(`SELECT pg_advisory_unlock(${key})`, [name]).catch((e: Error) => {
            // Destroy the connection rather than pool it: its session may still hold the lock.
            unlockFailed = e;
          });
        }
      } finally {
        client.off('error', onError);
        client.release(unlockFailed);
      }
    },
    exec: async (script) => {
      try {
        await pool.query(script);
      } catch (e) {
        throw wrap(url, e);
      }
    },
    listen: async (channel, onNotify) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      if (!listenClient) {
        listenClient = await connect();
        listenClient.on('notification', (msg) => {
          for (const cb of listeners.get(msg.channel) ?? []) cb(msg.payload ?? '');
        });
      }
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await listenClient.query(`LISTEN ${channel}`);
      }
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      listenClient?.release();
      await pool.end();
    },
  };
}
