/** SqlClient on PGlite: PostgreSQL compiled to WASM, in-process, persisted to a data folder. */
import { PGlite } from '@electric-sql/pglite';
import { EngineUnavailable } from '../../core/errors.js';
import type { SqlClient, SqlExecutor, SqlResult } from '../../ports/sql.js';

/** Opens (creating if needed) a PGlite database in `dataDir`, or in memory when undefined. */
export async function openPglite(dataDir: string | undefined): Promise<SqlClient> {
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir ?? 'memory://');
  } catch (e) {
    throw new EngineUnavailable('pglite', `cannot open the database in ${dataDir ?? 'memory'}`, e);
  }
  let closed = false;
  const locks = new Map<string, Promise<unknown>>();
  const run = async <R>(
    exec: Pick<PGlite, 'query'>,
    text: string,
    params?: readonly unknown[],
  ): Promise<SqlResult<R>> => {
    const r = await exec.query<R>(text, params as unknown[] | undefined);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  };
  return {
    describe: `pglite:${dataDir ?? 'memory'}`,
    query: (text, params) => run(db, text, params),
    transaction: (fn) =>
      db.transaction((tx) => {
        const executor: SqlExecutor = { query: (text, params) => run(tx, text, params) };
        return fn(executor);
      }),
    exclusive: async (name, fn, onWait) => {
      const before = locks.get(name);
      if (before) onWait?.();
      const mine = (before ?? Promise.resolve()).catch(() => undefined).then(fn);
      locks.set(name, mine);
      try {
        return await mine;
      } finally {
        if (locks.get(name) === mine) locks.delete(name);
      }
    },
    exec: async (script) => {
      await db.exec(script);
    },
    listen: async (channel, onNotify) => {
      const unlisten = await db.listen(channel, onNotify);
      return async () => {
        if (!closed) await unlisten();
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
