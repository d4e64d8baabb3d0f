import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Outbox, OutboxRef } from '../../src/ports/outbox.js';
import { type Opened, outboxFactories } from '../support/adapters.js';
import { eventually } from '../support/fixtures.js';

let n = 0;
function ref(aggregateId: string, version: number): OutboxRef {
  n++;
  return {
    eventId: `E${n}-${aggregateId}-${version}`,
    aggregateType: 'City',
    aggregateId,
    version,
    streamKey: `streams/City/${aggregateId}/${version}`,
  };
}

describe.each(outboxFactories())('Outbox contract: $name', (factory) => {
  let opened: Opened<Outbox>;
  let outbox: Outbox;
  let all: number[];
  beforeEach(async () => {
    opened = await factory.open();
    outbox = opened.port;
    all = await outbox.leasePartitions('me', 60_000);
  });
  afterEach(async () => {
    await opened.close();
  });

  it('delivers only ready rows, once, by reference', async () => {
    expect(all).toEqual(Array.from({ length: outbox.partitions }, (_, i) => i));
    const a = ref('A', 1);
    await outbox.recordIntent(a);
    expect(await outbox.claimReady(all, 10)).toEqual([]);
    await outbox.markReady(a.eventId);
    const rows = await outbox.claimReady(all, 10);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ...a, status: 'ready', attempts: 0 });
    await outbox.markDelivered(rows.map((r) => r.id));
    expect(await outbox.claimReady(all, 10)).toEqual([]);
    expect(await outbox.stats()).toMatchObject({ pending: 0, ready: 0, deadLetters: 0 });
  });

  it('holds back later versions of an aggregate behind a pending one, not other aggregates', async () => {
    const v1 = ref('A', 1);
    const v2 = ref('A', 2);
    const other = ref('B', 1);
    await outbox.recordIntent(v1);
    await outbox.recordIntent(v2);
    await outbox.recordIntent(other);
    await outbox.markReady(v2.eventId);
    await outbox.markReady(other.eventId);
    expect((await outbox.claimReady(all, 10)).map((r) => r.eventId)).toEqual([other.eventId]);
    await outbox.markReady(v1.eventId);
    expect((await outbox.claimReady(all, 10)).map((r) => r.eventId)).toEqual([
      v1.eventId,
      v2.eventId,
      other.eventId,
    ]);
  });

  it('removes lost intents and re-points voided ones', async () => {
    const lost = ref('A', 1);
    const voided = ref('B', 1);
    await outbox.recordIntent(lost);
    await outbox.recordIntent(voided);
    await outbox.removeIntent(lost.eventId);
    await outbox.voidIntent(voided, 'VOID-1');
    const rows = await outbox.claimReady(all, 10);
    expect(rows.map((r) => [r.eventId, r.aggregateId, r.version])).toEqual([['VOID-1', 'B', 1]]);
    // A writer that gave up removed its intent first: the marker still gets delivered.
    const gone = ref('C', 1);
    await outbox.recordIntent(gone);
    await outbox.removeIntent(gone.eventId);
    await outbox.voidIntent(gone, 'VOID-2');
    expect((await outbox.claimReady(all, 10)).map((r) => r.eventId)).toEqual(['VOID-1', 'VOID-2']);
  });

  it('finds stale pending intents', async () => {
    const a = ref('A', 1);
    await outbox.recordIntent(a);
    const stale = await eventually(
      async () => {
        const rows = await outbox.staleIntents(all, 50, 10);
        return rows.length ? rows : undefined;
      },
      5000,
      'a stale intent',
    );
    expect(stale.map((r) => r.eventId)).toEqual([a.eventId]);
    expect(await outbox.staleIntents(all, 60_000, 10)).toEqual([]);
  });

  it('backs off failed rows, dead-letters after N attempts, blocks only that aggregate, and retries on request', async () => {
    const bad = ref('A', 1);
    const behind = ref('A', 2);
    const other = ref('B', 1);
    for (const r of [bad, behind, other]) {
      await outbox.recordIntent(r);
      await outbox.markReady(r.eventId);
    }
    const [row] = await outbox.claimReady(all, 1);
    expect(row!.eventId).toBe(bad.eventId);
    expect(await outbox.recordFailure(row!.id, 'boom 1', 2)).toBe('retry');
    // While backing off, neither it nor the version behind it is claimable; B is.
    expect((await outbox.claimReady(all, 10)).map((r) => r.eventId)).toEqual([other.eventId]);
    expect(await outbox.recordFailure(row!.id, 'boom 2', 2)).toBe('dead-lettered');
    const dead = await outbox.deadLetters(10);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ eventId: bad.eventId, attempts: 2, lastError: 'boom 2' });
    expect((await outbox.claimReady(all, 10)).map((r) => r.eventId)).toEqual([other.eventId]);
    expect((await outbox.stats()).deadLetters).toBe(1);
    expect(await outbox.retryDeadLetter(dead[0]!.id)).toBe(true);
    expect(await outbox.deadLetters(10)).toEqual([]);
    expect((await outbox.claimReady(all, 10)).map((r) => r.eventId)).toEqual([
      bad.eventId,
      behind.eventId,
      other.eventId,
    ]);
  });

  it('shares partitions fairly between relays and takes over expired leases', async () => {
    await outbox.releasePartitions('me');
    const p = outbox.partitions;
    expect(await outbox.leasePartitions('r1', 60_000)).toHaveLength(p);
    await outbox.leasePartitions('r2', 60_000);
    // r1 hands back the extra partitions on its next renewal; r2 picks them up.
    expect(await outbox.leasePartitions('r1', 60_000)).toHaveLength(Math.ceil(p / 2));
    const r2 = await outbox.leasePartitions('r2', 60_000);
    expect(r2).toHaveLength(p - Math.ceil(p / 2));
    const r1 = await outbox.leasePartitions('r1', 60_000);
    expect(new Set([...r1, ...r2]).size).toBe(p);
    // r3 starts with a short lease and dies: its partitions go back after expiry.
    await outbox.releasePartitions('r1');
    await outbox.releasePartitions('r2');
    expect(await outbox.leasePartitions('r3', 100)).toHaveLength(p);
    const taken = await eventually(
      async () => {
        const got = await outbox.leasePartitions('r4', 60_000);
        return got.length === p ? got : undefined;
      },
      10_000,
      'takeover',
    );
    expect(taken).toHaveLength(p);
    // The stalled owner learns it lost the lease before it publishes anything.
    expect(await outbox.confirmLeases('r3', taken, 60_000)).toEqual([]);
    expect(await outbox.confirmLeases('r4', [0, 1], 60_000)).toEqual([0, 1]);
    expect((await outbox.stats()).partitions.every((x) => x.owner === 'r4')).toBe(true);
  });

  it('wakes listeners when rows become ready', async () => {
    let wakes = 0;
    const stop = await outbox.onReady(() => wakes++);
    const a = ref('A', 1);
    await outbox.recordIntent(a);
    await outbox.markReady(a.eventId);
    await eventually(() => (wakes > 0 ? true : undefined), 5000, 'a NOTIFY');
    await stop();
    expect(wakes).toBeGreaterThan(0);
  });

  it('keeps one projection failure per aggregate and projection, the latest version, until that version is written', async () => {
    const a = { type: 'City', id: 'A' };
    const b = { type: 'City', id: 'b/ü' };
    await outbox.recordProjectionFailures('search', [
      { ref: a, version: 1, error: 'too long' },
      { ref: b, version: 3, error: 'bad value' },
    ]);
    await outbox.recordProjectionFailures('search', [{ ref: a, version: 2, error: 'still too long' }]);
    // An older version's failure arriving late (a rebuild's pass) does not move it back.
    await outbox.recordProjectionFailures('search', [{ ref: a, version: 1, error: 'late and old' }]);
    await outbox.recordProjectionFailures('graph', [{ ref: a, version: 2, error: 'other projection' }]);
    await outbox.recordProjectionFailures('search', []);
    const listed = await outbox.projectionFailures(10);
    expect(
      listed
        .map((f) => `${f.projection} ${f.aggregateType}/${f.aggregateId} v${f.version} ${f.error}`)
        .sort(),
    ).toEqual([
      'graph City/A v2 other projection',
      'search City/A v2 still too long',
      'search City/b/ü v3 bad value',
    ]);
    expect(listed.every((f) => f.failedAt instanceof Date)).toBe(true);
    expect((await outbox.stats()).projectionFailures).toBe(3);

    // A write of an older version (redelivered, stale) clears nothing; the failed version or a later one does.
    await outbox.clearProjectionFailures('search', [{ ref: a, version: 1 }]);
    expect((await outbox.stats()).projectionFailures).toBe(3);
    await outbox.clearProjectionFailures('search', [
      { ref: a, version: 2 },
      { ref: { type: 'City', id: 'never failed' }, version: 9 },
    ]);
    await outbox.clearProjectionFailures('search', []);
    expect(
      (await outbox.projectionFailures(10)).map((f) => `${f.projection} ${f.aggregateId}`).sort(),
    ).toEqual(['graph A', 'search b/ü']);
  });
});
