/**
 * The outbox on PostgreSQL (or PGlite): intent rows referencing committed events, partition
 * leases for relays, dead letters. Per-aggregate order: a row is claimable only when no lower
 * version of its aggregate is pending, backing off, or dead-lettered.
 */
import { backoffDelay } from '../../core/backoff.js';
import type { AggregateRef } from '../../core/keys.js';
import type {
  DeadLetter,
  Outbox,
  OutboxRef,
  OutboxRow,
  OutboxStats,
  ProjectionFailure,
} from '../../ports/outbox.js';
import type { SqlClient, SqlExecutor } from '../../ports/sql.js';

const CHANNEL = 'strata_outbox';

interface RowRecord {
  id: number;
  event_id: string;
  aggregate_type: string;
  aggregate_id: string;
  version: number;
  stream_key: string;
  partition: number;
  status: 'pending' | 'ready';
  attempts: number;
  last_error: string | null;
  created_at: Date;
}

function toRow(r: RowRecord): OutboxRow {
  return {
    id: Number(r.id),
    eventId: r.event_id,
    aggregateType: r.aggregate_type,
    aggregateId: r.aggregate_id,
    version: Number(r.version),
    streamKey: r.stream_key,
    partition: r.partition,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: new Date(r.created_at),
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS strata_outbox (
  id bigserial PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  aggregate_type text NOT NULL,
  aggregate_id text NOT NULL,
  version bigint NOT NULL,
  stream_key text NOT NULL,
  partition int NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'ready')),
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  available_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS strata_outbox_claim ON strata_outbox (partition, status, id);
CREATE INDEX IF NOT EXISTS strata_outbox_aggregate ON strata_outbox (aggregate_type, aggregate_id, version);
CREATE TABLE IF NOT EXISTS strata_dead_letters (
  id bigint PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  aggregate_type text NOT NULL,
  aggregate_id text NOT NULL,
  version bigint NOT NULL,
  stream_key text NOT NULL,
  partition int NOT NULL,
  attempts int NOT NULL,
  last_error text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS strata_dead_letters_aggregate ON strata_dead_letters (aggregate_type, aggregate_id, version);
CREATE TABLE IF NOT EXISTS strata_relay_partitions (
  partition int PRIMARY KEY,
  owner text,
  lease_until timestamptz
);
CREATE TABLE IF NOT EXISTS strata_relays (
  owner text PRIMARY KEY,
  heartbeat_until timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS strata_projection_failures (
  projection text NOT NULL,
  aggregate_type text NOT NULL,
  aggregate_id text NOT NULL,
  version bigint NOT NULL,
  error text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, aggregate_type, aggregate_id)
);
`;

/**
 * The relay partition of an aggregate, computed by the database so that a change of the partition
 * count re-partitions existing rows at start-up (see migrate) instead of stranding them.
 */
const PARTITION_OF = (n: string) =>
  `mod(hashtext(aggregate_type || '/' || aggregate_id)::bigint + 2147483648, ${n})::int`;

/** Backoff before a failed row is tried again: from 200 ms, doubling, capped at 30 s. */
function backoffMs(attempts: number): number {
  return backoffDelay(attempts + 1, 200, 30_000);
}

export class PostgresOutbox implements Outbox {
  constructor(
    private readonly sql: SqlClient,
    readonly partitions = 16,
  ) {}

  async migrate(): Promise<void> {
    await this.sql.exec(SCHEMA);
    await this.sql.query(
      `INSERT INTO strata_relay_partitions (partition)
       SELECT g FROM generate_series(0, $1::int - 1) g ON CONFLICT (partition) DO NOTHING`,
      [this.partitions],
    );
    await this.sql.query('DELETE FROM strata_relay_partitions WHERE partition >= $1', [this.partitions]);
    for (const table of ['strata_outbox', 'strata_dead_letters']) {
      await this.sql.query(
        `UPDATE ${table} SET partition = ${PARTITION_OF('$1::int')} WHERE partition <> ${PARTITION_OF('$1::int')}`,
        [this.partitions],
      );
    }
  }

  async recordIntent(ref: OutboxRef): Promise<void> {
    await this.sql.query(
      `INSERT INTO strata_outbox (event_id, aggregate_type, aggregate_id, version, stream_key, partition, status)
       SELECT $1, $2::text, $3::text, $4, $5, mod(hashtext($2::text || '/' || $3::text)::bigint + 2147483648, $6)::int, 'pending'`,
      [ref.eventId, ref.aggregateType, ref.aggregateId, ref.version, ref.streamKey, this.partitions],
    );
  }

  async markReady(eventId: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query(`UPDATE strata_outbox SET status = 'ready' WHERE event_id = $1`, [eventId]);
      await tx.query(`SELECT pg_notify('${CHANNEL}', '')`);
    });
  }

  async voidIntent(intent: OutboxRef, voidEventId: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `UPDATE strata_outbox SET event_id = $2, status = 'ready' WHERE event_id = $1`,
        [intent.eventId, voidEventId],
      );
      if (r.rowCount === 0) {
        // The writer removed its intent meanwhile: the marker still needs a row of its own.
        await tx.query(
          `INSERT INTO strata_outbox (event_id, aggregate_type, aggregate_id, version, stream_key, partition, status)
           SELECT $1, $2::text, $3::text, $4, $5, mod(hashtext($2::text || '/' || $3::text)::bigint + 2147483648, $6)::int, 'ready'
           ON CONFLICT (event_id) DO NOTHING`,
          [
            voidEventId,
            intent.aggregateType,
            intent.aggregateId,
            intent.version,
            intent.streamKey,
            this.partitions,
          ],
        );
      }
      await tx.query(`SELECT pg_notify('${CHANNEL}', '')`);
    });
  }

  async removeIntent(eventId: string): Promise<void> {
    await this.sql.query(`DELETE FROM strata_outbox WHERE event_id = $1 AND status = 'pending'`, [eventId]);
  }

  async leasePartitions(owner: string, leaseMs: number): Promise<number[]> {
    return this.sql.transaction(async (tx) => {
      const until = `now() + ($2::int * interval '1 millisecond')`;
      await tx.query(
        `INSERT INTO strata_relays (owner, heartbeat_until) VALUES ($1, ${until})
         ON CONFLICT (owner) DO UPDATE SET heartbeat_until = EXCLUDED.heartbeat_until`,
        [owner, leaseMs],
      );
      await tx.query(`DELETE FROM strata_relays WHERE heartbeat_until < now() - interval '1 minute'`);
      const live = await tx.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM strata_relays WHERE heartbeat_until > now()',
      );
      const fair = Math.ceil(this.partitions / Math.max(1, live.rows[0]?.n ?? 1));
      const mine = await tx.query<{ partition: number }>(
        `UPDATE strata_relay_partitions SET lease_until = ${until}
         WHERE owner = $1 AND lease_until > now() RETURNING partition`,
        [owner, leaseMs],
      );
      let held = mine.rows.map((r) => r.partition).sort((a, b) => a - b);
      if (held.length > fair) {
        // Hand extra partitions back so a newly started relay gets its share.
        const extra = held.slice(fair);
        await tx.query(
          `UPDATE strata_relay_partitions SET owner = NULL, lease_until = NULL
           WHERE owner = $1 AND partition = ANY($2::int[])`,
          [owner, extra],
        );
        held = held.slice(0, fair);
      } else if (held.length < fair) {
        const taken = await tx.query<{ partition: number }>(
          `UPDATE strata_relay_partitions SET owner = $1, lease_until = ${until}
           WHERE partition IN (
             SELECT partition FROM strata_relay_partitions
             WHERE owner IS NULL OR lease_until IS NULL OR lease_until < now()
             ORDER BY partition LIMIT $3 FOR UPDATE SKIP LOCKED)
           RETURNING partition`,
          [owner, leaseMs, fair - held.length],
        );
        held = [...held, ...taken.rows.map((r) => r.partition)].sort((a, b) => a - b);
      }
      return held;
    });
  }

  async confirmLeases(owner: string, partitions: number[], leaseMs: number): Promise<number[]> {
    if (partitions.length === 0) return [];
    const r = await this.sql.query<{ partition: number }>(
      `UPDATE strata_relay_partitions SET lease_until = now() + ($3::int * interval '1 millisecond')
       WHERE owner = $1 AND partition = ANY($2::int[]) AND lease_until > now()
       RETURNING partition`,
      [owner, partitions, leaseMs],
    );
    return r.rows.map((x) => x.partition).sort((a, b) => a - b);
  }

  async releasePartitions(owner: string): Promise<void> {
    await this.sql.query(
      `UPDATE strata_relay_partitions SET owner = NULL, lease_until = NULL WHERE owner = $1`,
      [owner],
    );
    await this.sql.query('DELETE FROM strata_relays WHERE owner = $1', [owner]);
  }

  async claimReady(partitions: number[], limit: number): Promise<OutboxRow[]> {
    if (partitions.length === 0) return [];
    const r = await this.sql.query<RowRecord>(
      `SELECT * FROM strata_outbox r
       WHERE r.partition = ANY($1::int[]) AND r.status = 'ready' AND r.available_at <= now()
         AND NOT EXISTS (
           SELECT 1 FROM strata_outbox o
           WHERE o.aggregate_type = r.aggregate_type AND o.aggregate_id = r.aggregate_id
             AND o.version < r.version AND (o.status = 'pending' OR o.available_at > now()))
         AND NOT EXISTS (
           SELECT 1 FROM strata_dead_letters d
           WHERE d.aggregate_type = r.aggregate_type AND d.aggregate_id = r.aggregate_id AND d.version < r.version)
       ORDER BY r.id LIMIT $2`,
      [partitions, limit],
    );
    return r.rows.map(toRow);
  }

  async staleIntents(partitions: number[], olderThanMs: number, limit: number): Promise<OutboxRow[]> {
    if (partitions.length === 0) return [];
    const r = await this.sql.query<RowRecord>(
      `SELECT * FROM strata_outbox
       WHERE partition = ANY($1::int[]) AND status = 'pending'
         AND created_at < now() - ($2::int * interval '1 millisecond')
       ORDER BY id LIMIT $3`,
      [partitions, olderThanMs, limit],
    );
    return r.rows.map(toRow);
  }

  async markDelivered(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.query('DELETE FROM strata_outbox WHERE id = ANY($1::bigint[])', [ids]);
  }

  async recordFailure(id: number, error: string, maxAttempts: number): Promise<'retry' | 'dead-lettered'> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ attempts: number }>(
        `UPDATE strata_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1 RETURNING attempts`,
        [id, error.slice(0, 2000)],
      );
      const attempts = r.rows[0]?.attempts ?? maxAttempts;
      if (attempts < maxAttempts) {
        await tx.query(
          `UPDATE strata_outbox SET available_at = now() + ($2::int * interval '1 millisecond') WHERE id = $1`,
          [id, backoffMs(attempts)],
        );
        return 'retry';
      }
      await moveToDeadLetters(tx, id);
      return 'dead-lettered';
    });
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const r = await this.sql.query<RowRecord & { failed_at: Date }>(
      'SELECT * FROM strata_dead_letters ORDER BY id LIMIT $1',
      [limit],
    );
    return r.rows.map((d) => ({
      ...toRow({ ...d, status: 'ready', created_at: d.failed_at }),
      lastError: d.last_error ?? '',
      failedAt: new Date(d.failed_at),
    }));
  }

  async retryDeadLetter(id: number): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `INSERT INTO strata_outbox (id, event_id, aggregate_type, aggregate_id, version, stream_key, partition, status)
         SELECT id, event_id, aggregate_type, aggregate_id, version, stream_key, partition, 'ready'
         FROM strata_dead_letters WHERE id = $1`,
        [id],
      );
      if (r.rowCount === 0) return false;
      await tx.query('DELETE FROM strata_dead_letters WHERE id = $1', [id]);
      await tx.query(`SELECT pg_notify('${CHANNEL}', '')`);
      return true;
    });
  }

  async recordProjectionFailures(
    projection: string,
    failures: { ref: AggregateRef; version: number; error: string }[],
  ): Promise<void> {
    if (failures.length === 0) return;
    await this.sql.query(
      `INSERT INTO strata_projection_failures (projection, aggregate_type, aggregate_id, version, error)
       SELECT $1, t, i, v, e FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[]) AS f(t, i, v, e)
       ON CONFLICT (projection, aggregate_type, aggregate_id) DO UPDATE
         SET version = EXCLUDED.version, error = EXCLUDED.error, failed_at = now()
         WHERE strata_projection_failures.version <= EXCLUDED.version`,
      [
        projection,
        failures.map((f) => f.ref.type),
        failures.map((f) => f.ref.id),
        failures.map((f) => f.version),
        failures.map((f) => f.error),
      ],
    );
  }

  async clearProjectionFailures(
    projection: string,
    written: { ref: AggregateRef; version: number }[],
  ): Promise<void> {
    if (written.length === 0) return;
    await this.sql.query(
      `DELETE FROM strata_projection_failures p USING unnest($2::text[], $3::text[], $4::bigint[]) AS r(t, i, v)
       WHERE p.projection = $1 AND p.aggregate_type = r.t AND p.aggregate_id = r.i AND p.version <= r.v`,
      [
        projection,
        written.map((w) => w.ref.type),
        written.map((w) => w.ref.id),
        written.map((w) => w.version),
      ],
    );
  }

  async projectionFailures(limit: number): Promise<ProjectionFailure[]> {
    const r = await this.sql.query<{
      projection: string;
      aggregate_type: string;
      aggregate_id: string;
      version: number;
      error: string;
      failed_at: Date;
    }>(
      'SELECT * FROM strata_projection_failures ORDER BY failed_at, projection, aggregate_type, aggregate_id LIMIT $1',
      [limit],
    );
    return r.rows.map((f) => ({
      projection: f.projection,
      aggregateType: f.aggregate_type,
      aggregateId: f.aggregate_id,
      version: Number(f.version),
      error: f.error,
      failedAt: new Date(f.failed_at),
    }));
  }

  async stats(): Promise<OutboxStats> {
    const counts = await this.sql.query<{
      pending: number;
      ready: number;
      dead: number;
      failures: number;
      oldest: number | null;
    }>(
      `SELECT
         (SELECT count(*)::int FROM strata_outbox WHERE status = 'pending') AS pending,
         (SELECT count(*)::int FROM strata_outbox WHERE status = 'ready') AS ready,
         (SELECT count(*)::int FROM strata_dead_letters) AS dead,
         (SELECT count(*)::int FROM strata_projection_failures) AS failures,
         (SELECT (extract(epoch FROM now() - min(created_at)) * 1000)::float8
            FROM strata_outbox WHERE status = 'ready') AS oldest`,
    );
    const parts = await this.sql.query<{ partition: number; owner: string | null; lease_until: Date | null }>(
      'SELECT partition, owner, lease_until FROM strata_relay_partitions ORDER BY partition',
    );
    const c = counts.rows[0]!;
    return {
      pending: c.pending,
      ready: c.ready,
      deadLetters: c.dead,
      projectionFailures: c.failures,
      oldestReadyAgeMs: c.oldest === null ? null : Math.round(Number(c.oldest)),
      partitions: parts.rows.map((p) => ({
        partition: p.partition,
        owner: p.owner,
        leaseUntil: p.lease_until ? new Date(p.lease_until) : null,
      })),
    };
  }

  onReady(onWake: () => void): Promise<() => Promise<void>> {
    return this.sql.listen(CHANNEL, () => onWake());
  }
}

async function moveToDeadLetters(tx: SqlExecutor, id: number): Promise<void> {
  await tx.query(
    `INSERT INTO strata_dead_letters (id, event_id, aggregate_type, aggregate_id, version, stream_key, partition, attempts, last_error)
     SELECT id, event_id, aggregate_type, aggregate_id, version, stream_key, partition, attempts, coalesce(last_error, '')
     FROM strata_outbox WHERE id = $1`,
    [id],
  );
  await tx.query('DELETE FROM strata_outbox WHERE id = $1', [id]);
}
