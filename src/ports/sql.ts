/**
 * The small SQL interface the PostgreSQL-family adapters (outbox, embedded bus, graph, search)
 * are written against, so the same SQL runs on PGlite (embedded) and on a real PostgreSQL.
 */

export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

export interface SqlExecutor {
  /** Runs one parameterised statement ($1, $2, …). */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
}

export interface SqlClient extends SqlExecutor {
  /** Short engine description, e.g. `pglite:/data/pg` or `postgres://host:port/db`. */
  readonly describe: string;
  /** Runs `fn` in one transaction on one connection; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while holding the lock `name` against every other client of this database and
   * schema (a PostgreSQL advisory lock; on PGlite, which one process owns, an in-process queue).
   * `fn` keeps using this client. For start-up migrations that several processes run at once.
   * `onWait` is called once when another holder makes it wait. Not reentrant.
   */
  exclusive<T>(name: string, fn: () => Promise<T>, onWait?: () => void): Promise<T>;
  /** Runs several statements separated by `;` (no parameters), e.g. a migration. */
  exec(script: string): Promise<void>;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
