import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, BusMessage, DeliveredMessage, Subscription } from '../../src/ports/bus.js';
import { busHeaders, busKey } from '../../src/ports/bus.js';
import { busFactories, type Opened } from '../support/adapters.js';
import { envelope, eventually } from '../support/fixtures.js';

function message(id: string, version: number): BusMessage {
  const e = envelope({ aggregate_type: 'City', aggregate_id: id, version });
  return { key: busKey(e), headers: busHeaders(e, `streams/City/${id}/${version}`), event: e };
}

describe.each(busFactories())('Bus contract: $name', (factory) => {
  let opened: Opened<Bus>;
  let bus: Bus;
  const subs: Subscription[] = [];
  beforeEach(async () => {
    opened = await factory.open();
    bus = opened.port;
  });
  afterEach(async () => {
    for (const s of subs.splice(0)) await s.stop();
    await opened.close();
  });

  async function consume(
    group: string,
    into: DeliveredMessage[],
    fail?: () => boolean,
  ): Promise<Subscription> {
    const sub = await bus.subscribe({ group, maxBatch: 50 }, async (batch) => {
      if (fail?.()) throw new Error('projection write failed');
      into.push(...batch);
    });
    subs.push(sub);
    return sub;
  }

  it('delivers every message with its key, headers and event, in order per key', async () => {
    const sent = [
      ...Array.from({ length: 30 }, (_, i) => message('A', i + 1)),
      ...Array.from({ length: 30 }, (_, i) => message('B', i + 1)),
    ];
    await bus.publish(sent);
    const got: DeliveredMessage[] = [];
    await consume('g1', got);
    await eventually(() => (got.length >= 60 ? true : undefined), 30_000, '60 messages');
    expect(got).toHaveLength(60);
    for (const id of ['A', 'B']) {
      const versions = got.filter((m) => m.event.aggregate_id === id).map((m) => m.event.version);
      expect(versions).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
    const first = got.find((m) => m.event.aggregate_id === 'A' && m.event.version === 1)!;
    expect(first.key).toBe('City/A');
    expect(first.headers).toMatchObject({
      event_id: first.event.event_id,
      event_type: 'ObjectCreated',
      version: '1',
    });
    expect(first.headers.s3_key).toBe('streams/City/A/1');
  });

  it('keeps 200 versions of one key in order', async () => {
    for (let i = 0; i < 4; i++)
      await bus.publish(Array.from({ length: 50 }, (_, j) => message('ONE', i * 50 + j + 1)));
    const got: DeliveredMessage[] = [];
    await consume('order', got);
    await eventually(() => (got.length >= 200 ? true : undefined), 30_000, '200 messages');
    expect(got.map((m) => m.event.version)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('gives every consumer group every message', async () => {
    await bus.publish([message('A', 1), message('B', 1), message('C', 1)]);
    const g1: DeliveredMessage[] = [];
    const g2: DeliveredMessage[] = [];
    await consume('graph', g1);
    await consume('search', g2);
    await eventually(() => (g1.length >= 3 && g2.length >= 3 ? true : undefined), 30_000, 'both groups');
    expect(g1.map((m) => m.key).sort()).toEqual(['City/A', 'City/B', 'City/C']);
    expect(g2.map((m) => m.key).sort()).toEqual(['City/A', 'City/B', 'City/C']);
  });

  it('redelivers a batch whose handler failed, and commits only after success', async () => {
    await bus.publish([message('R', 1), message('R', 2)]);
    let failures = 0;
    const got: DeliveredMessage[] = [];
    await consume('retry', got, () => failures++ < 2);
    await eventually(() => (got.length >= 2 ? true : undefined), 30_000, 'redelivery');
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(got.map((m) => m.event.version)).toEqual([1, 2]);
  });

  it('resumes a group from its committed offsets after a restart', async () => {
    await bus.publish([message('S', 1), message('S', 2)]);
    const first: DeliveredMessage[] = [];
    const sub = await consume('resume', first);
    await eventually(() => (first.length >= 2 ? true : undefined), 30_000, 'first two');
    await eventually(
      async () => ((await bus.lag('resume')).every((l) => l.lag === 0) ? true : undefined),
      30_000,
      'commit',
    );
    await sub.stop();
    subs.splice(subs.indexOf(sub), 1);
    await bus.publish([message('S', 3)]);
    const second: DeliveredMessage[] = [];
    await consume('resume', second);
    await eventually(() => (second.length >= 1 ? true : undefined), 30_000, 'third');
    expect(second.map((m) => m.event.version)).toEqual([3]);
  });

  it('reports lag per partition for a group', async () => {
    await bus.publish([message('L1', 1), message('L2', 1), message('L3', 1)]);
    const lag = await bus.lag('nobody-yet');
    expect(lag.reduce((n, l) => n + l.lag, 0)).toBe(3);
    expect(lag.length).toBe(bus.partitions);
  });
});
