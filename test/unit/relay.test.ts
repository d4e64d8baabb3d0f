import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFsEventStore } from '../../src/adapters/event-store/fs.js';
import { PostgresOutbox } from '../../src/adapters/outbox/postgres.js';
import { openPglite } from '../../src/adapters/sql/pglite.js';
import { Relay } from '../../src/app/relay.js';
import { EngineUnavailable } from '../../src/core/errors.js';
import { streamKey } from '../../src/core/keys.js';
import type { Bus, BusMessage } from '../../src/ports/bus.js';
import { systemClock, ulidIds } from '../../src/ports/clock.js';
import type { EventStore } from '../../src/ports/event-store.js';
import type { SqlClient } from '../../src/ports/sql.js';
import { envelope } from '../support/fixtures.js';

/** A bus that refuses any batch holding an event of aggregate BAD, or everything when down. */
function fakeBus(): Bus & { published: BusMessage[]; down: boolean; unavailable: boolean; stuck?: string } {
  const bus = {
    describe: 'fake',
    partitions: 1,
    published: [] as BusMessage[],
    down: false,
    /** Answers metadata (ping) but cannot take writes: no leader, too few in-sync replicas. */
    unavailable: false,
    /** An aggregate whose messages the bus cannot take for now (its partition has no leader). */
    stuck: undefined as string | undefined,
    async ensureTopic() {},
    async publish(messages: BusMessage[]) {
      if (bus.down) throw new Error('bus down');
      if (bus.unavailable) throw new EngineUnavailable('fake', 'NOT_ENOUGH_REPLICAS');
      if (messages.some((m) => m.event.aggregate_id === bus.stuck))
        throw new EngineUnavailable('fake', 'NOT_LEADER_OR_FOLLOWER');
      if (messages.some((m) => m.event.aggregate_id === 'BAD')) throw new Error('message too large');
      bus.published.push(...messages);
    },
    async subscribe(): Promise<never> {
      throw new Error('not used');
    },
    async lag() {
      return [];
    },
    async ping() {
      if (bus.down) throw new Error('bus down');
    },
    async close() {},
  };
  return bus;
}

describe('relay failure isolation', () => {
  let sql: SqlClient;
  let store: EventStore;
  let outbox: PostgresOutbox;
  beforeAll(async () => {
    sql = await openPglite(undefined);
    outbox = new PostgresOutbox(sql, 4);
    await outbox.migrate();
    store = openFsEventStore(await mkdtemp(join(tmpdir(), 'strata-relay-')));
  });
  afterAll(async () => {
    await sql.close();
  });

  /** An empty outbox with no relay holding a partition (each test's relay is a new one). */
  async function fresh() {
    await sql.exec(
      'DELETE FROM strata_outbox; DELETE FROM strata_dead_letters; DELETE FROM strata_relays; UPDATE strata_relay_partitions SET owner = NULL, lease_until = NULL',
    );
  }

  async function commit(id: string, version: number) {
    const e = envelope({ aggregate_type: 'City', aggregate_id: id, version });
    const ref = { type: 'City', id };
    await outbox.recordIntent({
      eventId: e.event_id,
      aggregateType: 'City',
      aggregateId: id,
      version,
      streamKey: streamKey(ref, version),
    });
    await store.append(e);
    await store.writeDatedCopy(e);
    await outbox.markReady(e.event_id);
  }

  it('dead-letters only the refused message; others keep flowing; a bus outage counts against nobody', async () => {
    const bus = fakeBus();
    const relay = new Relay({ outbox, store, bus, clock: systemClock, ids: ulidIds() }, { maxAttempts: 2 });
    await commit('OK1', 1);
    await commit('BAD', 1);
    await commit('BAD', 2);
    await commit('OK2', 1);

    bus.down = true;
    await expect(relay.runOnce()).rejects.toThrow('bus down');
    expect((await outbox.stats()).ready).toBe(4);
    expect(await outbox.deadLetters(10)).toEqual([]);

    bus.down = false;
    const first = await relay.runOnce();
    expect(first).toMatchObject({ delivered: 2, failed: 1 });
    expect(bus.published.map((m) => `${m.event.aggregate_id}@${m.event.version}`)).toEqual([
      'OK1@1',
      'OK2@1',
    ]);
    // BAD@1 backs off; BAD@2 waits behind it. A retry after the backoff dead-letters it.
    await sql.query(`UPDATE strata_outbox SET available_at = now()`);
    await relay.runOnce();
    const dead = await outbox.deadLetters(10);
    expect(dead.map((d) => `${d.aggregateId}@${d.version}`)).toEqual(['BAD@1']);
    expect(bus.published).toHaveLength(2);
    expect((await outbox.stats()).ready).toBe(1);
  });

  it('counts no attempt while the event store or the bus is unavailable, however many passes it takes', async () => {
    await fresh();
    let storeDown = true;
    const flaky: EventStore = Object.create(store, {
      readVersion: {
        value: (ref: { type: string; id: string }, version: number) =>
          storeDown
            ? Promise.reject(new EngineUnavailable('s3', 'connect ECONNREFUSED'))
            : store.readVersion(ref, version),
      },
    });
    const bus = fakeBus();
    const relay = new Relay(
      { outbox, store: flaky, bus, clock: systemClock, ids: ulidIds() },
      { maxAttempts: 2 },
    );
    await commit('OUT', 1);
    await commit('OUT', 2);
    for (let pass = 0; pass < 5; pass++) {
      expect(await relay.runOnce()).toMatchObject({ delivered: 0, failed: 0 });
    }
    storeDown = false;
    bus.unavailable = true;
    for (let pass = 0; pass < 5; pass++) {
      expect(await relay.runOnce()).toMatchObject({ delivered: 0, failed: 0 });
    }
    const waiting = await sql.query<{ attempts: number }>('SELECT attempts FROM strata_outbox');
    expect(waiting.rows.map((r) => r.attempts)).toEqual([0, 0]);
    expect(await outbox.deadLetters(10)).toEqual([]);

    bus.unavailable = false;
    expect(await relay.runOnce()).toMatchObject({ delivered: 2, failed: 0 });
    expect(bus.published.map((m) => `${m.event.aggregate_id}@${m.event.version}`)).toEqual([
      'OUT@1',
      'OUT@2',
    ]);
  });

  it('lets other aggregates pass one the bus cannot take for now, counting nothing against it', async () => {
    await fresh();
    const bus = fakeBus();
    bus.stuck = 'STUCK';
    const relay = new Relay({ outbox, store, bus, clock: systemClock, ids: ulidIds() }, { maxAttempts: 2 });
    await commit('STUCK', 1);
    await commit('STUCK', 2);
    await commit('FREE', 1);
    for (let pass = 0; pass < 3; pass++) await relay.runOnce();
    expect(bus.published.map((m) => `${m.event.aggregate_id}@${m.event.version}`)).toEqual(['FREE@1']);
    const waiting = await sql.query<{ attempts: number }>('SELECT attempts FROM strata_outbox');
    expect(waiting.rows.map((r) => r.attempts)).toEqual([0, 0]);
    expect(await outbox.deadLetters(10)).toEqual([]);
    bus.stuck = undefined;
    await relay.runOnce();
    expect(bus.published.map((m) => `${m.event.aggregate_id}@${m.event.version}`)).toEqual([
      'FREE@1',
      'STUCK@1',
      'STUCK@2',
    ]);
  });

  it('repoints a fenced intent whose row a crash left pending, so the marker is delivered in order', async () => {
    await fresh();
    const bus = fakeBus();
    const ids = ulidIds();
    const relay = new Relay({ outbox, store, bus, clock: systemClock, ids }, { intentTimeoutMs: 0 });
    // A writer recorded its intent for FENCE@1 and died; a relay fenced the version with a marker
    // and died before repointing the row (the marker is in the store, the row still pending).
    const intent = envelope({ aggregate_type: 'City', aggregate_id: 'FENCE', version: 1 });
    const ref = { type: 'City', id: 'FENCE' };
    await outbox.recordIntent({
      eventId: intent.event_id,
      aggregateType: 'City',
      aggregateId: 'FENCE',
      version: 1,
      streamKey: streamKey(ref, 1),
    });
    const marker = envelope({
      aggregate_type: 'City',
      aggregate_id: 'FENCE',
      version: 1,
      event_type: 'VersionVoided',
      correlation_id: intent.event_id,
      causation_id: intent.event_id,
      data: {},
    });
    // The relay that fenced it died before the marker's dated copy too.
    await store.append(marker);
    await commit('FENCE', 2);

    await relay.runOnce();
    await relay.runOnce();
    expect(bus.published.map((m) => `${m.event.aggregate_id}@${m.event.version}`)).toEqual([
      'FENCE@1',
      'FENCE@2',
    ]);
    expect(bus.published[0]?.event.event_id).toBe(marker.event_id);
    expect((await outbox.stats()).pending).toBe(0);
    // Delivered with its dated copy, as every delivered event is.
    const day = new Date(marker.occurred_at);
    const dated = [];
    for await (const e of store.readByDate(day, day)) dated.push(e.event_id);
    expect(dated).toContain(marker.event_id);
  });
});
