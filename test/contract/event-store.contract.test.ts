import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConcurrencyConflict } from '../../src/core/errors.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { eventStoreFactories, type Opened } from '../support/adapters.js';
import { collect, envelope } from '../support/fixtures.js';

describe.each(eventStoreFactories())('EventStore contract: $name', (factory) => {
  let opened: Opened<EventStore>;
  let store: EventStore;
  beforeEach(async () => {
    opened = await factory.open();
    store = opened.port;
  });
  afterEach(async () => {
    await opened.close();
  });

  it('appends and reads one aggregate back in version order, with version bounds', async () => {
    const ref = { type: 'City', id: 'PAR' };
    for (let v = 1; v <= 5; v++)
      await store.append(envelope({ aggregate_type: 'City', aggregate_id: 'PAR', version: v }));
    const all = await collect(store.readStream(ref));
    expect(all.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    const middle = await collect(store.readStream(ref, { fromVersion: 2, toVersion: 4 }));
    expect(middle.map((e) => e.version)).toEqual([2, 3, 4]);
    expect((await store.readVersion(ref, 3))?.version).toBe(3);
    expect(await store.readVersion(ref, 6)).toBeUndefined();
    expect(await collect(store.readStream({ type: 'City', id: 'NOPE' }))).toEqual([]);
  });

  it('refuses a second event at the same version with ConcurrencyConflict and keeps the first', async () => {
    const first = envelope({ aggregate_type: 'City', aggregate_id: 'LYS', version: 1 });
    await store.append(first);
    await expect(
      store.append(envelope({ aggregate_type: 'City', aggregate_id: 'LYS', version: 1 })),
    ).rejects.toBeInstanceOf(ConcurrencyConflict);
    const events = await collect(store.readStream({ type: 'City', id: 'LYS' }));
    expect(events.map((e) => e.event_id)).toEqual([first.event_id]);
  });

  it('lets exactly one of 20 concurrent appends at one version win', async () => {
    const candidates = Array.from({ length: 20 }, () =>
      envelope({ aggregate_type: 'City', aggregate_id: 'RACE', version: 1 }),
    );
    const results = await Promise.allSettled(candidates.map((e) => store.append(e)));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyConflict);
    const stored = await collect(store.readStream({ type: 'City', id: 'RACE' }));
    expect(stored).toHaveLength(1);
    const winner = candidates[results.findIndex((r) => r.status === 'fulfilled')]!;
    expect(stored[0]!.event_id).toBe(winner.event_id);
  });

  it('round-trips IDs with slashes, dots, spaces, percent, plus and unicode', async () => {
    const ids = ['a/b', '..', '.', 'with space', '100%', 'a+b', 'Côte d’Ivoire', '東京', '🙂/../x', 'a//b'];
    for (const id of ids)
      await store.append(envelope({ aggregate_type: 'City', aggregate_id: id, version: 1 }));
    const listed = await collect(store.listAggregates('City'));
    expect(listed.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const events = await collect(store.readStream({ type: 'City', id }));
      expect(events.map((e) => e.aggregate_id)).toEqual([id]);
    }
  });

  it('lists aggregates of all types or of one type', async () => {
    await store.append(envelope({ aggregate_type: 'City', aggregate_id: 'X', version: 1 }));
    await store.append(envelope({ aggregate_type: 'Country', aggregate_id: 'Y', version: 1 }));
    const all = await collect(store.listAggregates());
    expect(all.map((r) => `${r.type}/${r.id}`).sort()).toEqual(['City/X', 'Country/Y']);
    expect(await collect(store.listAggregates('Country'))).toEqual([{ type: 'Country', id: 'Y' }]);
  });

  it('pages through listings longer than one page (1,050 versions)', async () => {
    const n = 1050;
    const queue = Array.from({ length: n }, (_, i) => i + 1);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
          await store.append(envelope({ aggregate_type: 'City', aggregate_id: 'LONG', version: v }));
        }
      }),
    );
    const versions = (await collect(store.readStream({ type: 'City', id: 'LONG' }))).map((e) => e.version);
    expect(versions).toHaveLength(n);
    expect(versions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  }, 120_000);

  it('writes dated copies idempotently and replays a date range in time order', async () => {
    const day1 = envelope({
      aggregate_type: 'City',
      aggregate_id: 'A',
      version: 1,
      occurred_at: '2026-03-01T23:59:59.000Z',
      event_id: '01AAAAAAAAAAAAAAAAAAAAAAA1',
    });
    const day2a = envelope({
      aggregate_type: 'City',
      aggregate_id: 'B',
      version: 1,
      occurred_at: '2026-03-02T10:00:00.000Z',
      event_id: '01AAAAAAAAAAAAAAAAAAAAAAB1',
    });
    const day2b = envelope({
      aggregate_type: 'City',
      aggregate_id: 'A',
      version: 2,
      occurred_at: '2026-03-02T11:00:00.000Z',
      event_id: '01AAAAAAAAAAAAAAAAAAAAAAB2',
    });
    const day3 = envelope({
      aggregate_type: 'City',
      aggregate_id: 'A',
      version: 3,
      occurred_at: '2026-03-03T00:00:00.000Z',
      event_id: '01AAAAAAAAAAAAAAAAAAAAAAC1',
    });
    for (const e of [day1, day2a, day2b, day3]) {
      await store.writeDatedCopy(e);
      await store.writeDatedCopy(e);
    }
    const all = await collect(
      store.readByDate(new Date('2026-03-01T00:00:00Z'), new Date('2026-03-03T23:59:59Z')),
    );
    expect(all.map((e) => e.event_id)).toEqual([
      day1.event_id,
      day2a.event_id,
      day2b.event_id,
      day3.event_id,
    ]);
    const window = await collect(
      store.readByDate(new Date('2026-03-02T00:00:00Z'), new Date('2026-03-02T10:30:00Z')),
    );
    expect(window.map((e) => e.event_id)).toEqual([day2a.event_id]);
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
