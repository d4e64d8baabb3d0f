import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFsEventStore } from '../../src/adapters/event-store/fs.js';
import { PostgresOutbox } from '../../src/adapters/outbox/postgres.js';
import { openPglite } from '../../src/adapters/sql/pglite.js';
import { Relay } from '../../src/app/relay.js';
import { streamKey } from '../../src/core/keys.js';
import type { Bus, BusMessage } from '../../src/ports/bus.js';
import { systemClock, ulidIds } from '../../src/ports/clock.js';
import type { EventStore } from '../../src/ports/event-store.js';
import type { SqlClient } from '../../src/ports/sql.js';
import { envelope } from '../support/fixtures.js';

/** A bus that refuses any batch holding an event of aggregate BAD, or everything when down. */
function fakeBus(): Bus & { published: BusMessage[]; down: boolean } {
  const bus = {
    describe: 'fake',
    partitions: 1,
    published: [] as BusMessage[],
    down: false,
    async ensureTopic() {},
    async publish(messages: BusMessage[]) {
      if (bus.down) throw new Error('bus down');
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
});
