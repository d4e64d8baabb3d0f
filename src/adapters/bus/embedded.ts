/**
 * The embedded bus: a partitioned log in SQL tables (PGlite by default) with Kafka's semantics:
 * partitions by key, consumer groups, offsets committed after the handler succeeded.
 * One consumer per group holds a lease on the group; another instance takes over when it expires.
 */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../../core/event.js';
import { partitionOf } from '../../core/keys.js';
import type {
  Bus,
  BusMessage,
  ConsumerLag,
  ConsumerOptions,
  DeliveredMessage,
  Subscription,
} from '../../ports/bus.js';
import { WakeSignal } from '../../ports/clock.js';
import type { SqlClient } from '../../ports/sql.js';

const CHANNEL = 'strata_bus';
const LEASE_MS = 15_000;
const POLL_MS = 500;
/** How long consumed messages stay in the log (the event store keeps the truth). */
const RETENTION_MS = 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS strata_bus_partitions (
  partition int PRIMARY KEY,
  next_offset bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS strata_bus_log (
  partition int NOT NULL,
  "offset" bigint NOT NULL,
  key text NOT NULL,
  headers jsonb NOT NULL,
  event jsonb NOT NULL,
  appended_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partition, "offset")
);
CREATE TABLE IF NOT EXISTS strata_bus_offsets (
  group_id text NOT NULL,
  partition int NOT NULL,
  committed bigint NOT NULL,
  PRIMARY KEY (group_id, partition)
);
CREATE TABLE IF NOT EXISTS strata_bus_groups (
  group_id text PRIMARY KEY,
  owner text NOT NULL,
  lease_until timestamptz NOT NULL
);
`;

export class EmbeddedBus implements Bus {
  readonly describe: string;

  constructor(
    private readonly sql: SqlClient,
    readonly partitions = 8,
  ) {
    this.describe = `embedded log on ${sql.describe} (${partitions} partitions)`;
  }

  async ensureTopic(): Promise<void> {
    await this.sql.exec(SCHEMA);
    await this.sql.query(
      `INSERT INTO strata_bus_partitions (partition)
       SELECT g FROM generate_series(0, $1::int - 1) g ON CONFLICT (partition) DO NOTHING`,
      [this.partitions],
    );
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byPartition = new Map<number, BusMessage[]>();
    for (const m of messages) {
      const p = partitionOf(m.key, this.partitions);
      const list = byPartition.get(p) ?? [];
      list.push(m);
      byPartition.set(p, list);
    }
    await this.sql.transaction(async (tx) => {
      for (const [partition, list] of [...byPartition].sort((a, b) => a[0] - b[0])) {
        const r = await tx.query<{ first: number }>(
          `UPDATE strata_bus_partitions SET next_offset = next_offset + $2
           WHERE partition = $1 RETURNING next_offset - $2 AS first`,
          [partition, list.length],
        );
        const first = Number(r.rows[0]!.first);
        await tx.query(
          `INSERT INTO strata_bus_log (partition, "offset", key, headers, event)
           SELECT $1, $2::bigint + i - 1, m->>'key', m->'headers', m->'event'
           FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(m, i)`,
          [partition, first, JSON.stringify(list)],
        );
      }
      await tx.query(`SELECT pg_notify('${CHANNEL}', '')`);
    });
  }

  async subscribe(
    options: ConsumerOptions,
    handler: (batch: DeliveredMessage[]) => Promise<void>,
  ): Promise<Subscription> {
    const owner = randomUUID();
    const maxBatch = options.maxBatch ?? 500;
    let running = true;
    let lastPrune = 0;
    const signal = new WakeSignal();
    // Registering the group on every partition keeps prune() from dropping what it has not read yet.
    await this.sql.query(
      `INSERT INTO strata_bus_offsets (group_id, partition, committed)
       SELECT $1, partition, 0 FROM strata_bus_partitions ON CONFLICT (group_id, partition) DO NOTHING`,
      [options.group],
    );
    const unlisten = await this.sql.listen(CHANNEL, signal.notify);

    const loop = async () => {
      while (running) {
        try {
          if (!(await this.holdGroup(options.group, owner))) {
            await signal.wait(POLL_MS * 2);
            continue;
          }
          const batch = await this.fetch(options.group, maxBatch);
          if (batch.length === 0) {
            if (Date.now() - lastPrune > PRUNE_EVERY_MS) {
              lastPrune = Date.now();
              await this.prune();
            }
            await signal.wait(POLL_MS);
            continue;
          }
          await handler(batch);
          await this.commit(options.group, batch);
        } catch (e) {
          options.onError?.(e);
          if (running) await signal.wait(POLL_MS * 2);
        }
      }
    };
    const done = loop();
    return {
      stop: async () => {
        running = false;
        signal.notify();
        await done;
        await unlisten();
        await this.sql
          .query('DELETE FROM strata_bus_groups WHERE group_id = $1 AND owner = $2', [options.group, owner])
          .catch(() => undefined);
      },
    };
  }

  private async holdGroup(group: string, owner: string): Promise<boolean> {
    const r = await this.sql.query<{ owner: string }>(
      `INSERT INTO strata_bus_groups (group_id, owner, lease_until)
       VALUES ($1, $2, now() + ($3::int * interval '1 millisecond'))
       ON CONFLICT (group_id) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
         WHERE strata_bus_groups.owner = EXCLUDED.owner OR strata_bus_groups.lease_until < now()
       RETURNING owner`,
      [group, owner, LEASE_MS],
    );
    return r.rows[0]?.owner === owner;
  }

  private async fetch(group: string, maxBatch: number): Promise<DeliveredMessage[]> {
    const r = await this.sql.query<{
      partition: number;
      offset: number;
      key: string;
      headers: Record<string, string>;
      event: EventEnvelope;
    }>(
      `SELECT l.partition, l."offset", l.key, l.headers, l.event
       FROM strata_bus_partitions p
       CROSS JOIN LATERAL (
         SELECT * FROM strata_bus_log l
         WHERE l.partition = p.partition
           AND l."offset" >= coalesce(
             (SELECT committed FROM strata_bus_offsets o WHERE o.group_id = $1 AND o.partition = p.partition), 0)
         ORDER BY l."offset" LIMIT $2) l
       ORDER BY l.partition, l."offset"`,
      [group, Math.max(1, Math.ceil(maxBatch / this.partitions))],
    );
    return r.rows.map((row) => ({
      partition: row.partition,
      offset: Number(row.offset),
      key: row.key,
      headers: row.headers,
      event: row.event,
    }));
  }

  private async commit(group: string, batch: DeliveredMessage[]): Promise<void> {
    const next = new Map<number, number>();
    for (const m of batch) next.set(m.partition, Math.max(next.get(m.partition) ?? 0, m.offset + 1));
    await this.sql.transaction(async (tx) => {
      for (const [partition, offset] of next) {
        await tx.query(
          `INSERT INTO strata_bus_offsets (group_id, partition, committed) VALUES ($1, $2, $3)
           ON CONFLICT (group_id, partition) DO UPDATE SET committed = GREATEST(strata_bus_offsets.committed, EXCLUDED.committed)`,
          [group, partition, offset],
        );
      }
    });
  }

  /** Deletes messages every known group has consumed, once older than the retention. */
  async prune(retentionMs = RETENTION_MS): Promise<number> {
    const r = await this.sql.query(
      `DELETE FROM strata_bus_log l
       USING (SELECT partition, min(committed) AS low, count(*) AS groups FROM strata_bus_offsets GROUP BY partition) o
       WHERE l.partition = o.partition AND l."offset" < o.low
         AND o.groups = (SELECT count(DISTINCT group_id) FROM strata_bus_offsets)
         AND l.appended_at < now() - ($1::int * interval '1 millisecond')`,
      [retentionMs],
    );
    return r.rowCount;
  }

  async lag(group: string): Promise<ConsumerLag[]> {
    const r = await this.sql.query<{ partition: number; committed: number; end: number }>(
      `SELECT p.partition, coalesce(o.committed, 0) AS committed, p.next_offset AS "end"
       FROM strata_bus_partitions p
       LEFT JOIN strata_bus_offsets o ON o.partition = p.partition AND o.group_id = $1
       ORDER BY p.partition`,
      [group],
    );
    return r.rows.map((row) => {
      const committed = Number(row.committed);
      const end = Number(row.end);
      return { partition: row.partition, committed, end, lag: end - committed };
    });
  }

  async ping(): Promise<void> {
    await this.sql.query('SELECT 1');
  }

  async close(): Promise<void> {}
}
