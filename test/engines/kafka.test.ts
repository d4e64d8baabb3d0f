/**
 * Kafka-only behaviour the bus contract does not cover: how an unreachable broker surfaces at
 * start-up, that delivery into Kafka is at-least-once (a duplicate publish is delivered twice), and
 * that a message something else wrote to the topic is skipped instead of blocking its partition.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../src/adapters/bus/kafka.js';
import { openStrata } from '../../src/app/runtime.js';
import { loadConfig } from '../../src/config.js';
import { EngineUnavailable } from '../../src/core/errors.js';
import {
  type BusMessage,
  busHeaders,
  busKey,
  type DeliveredMessage,
  MessageRefused,
  type Subscription,
} from '../../src/ports/bus.js';
import { requireEnv, uniqueName } from '../support/engines.js';
import { envelope, eventually } from '../support/fixtures.js';

/** A local port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function failure(run: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await run();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('expected a failure');
}

describe('Kafka bus: unreachable broker', () => {
  // The bound only guards against the minutes-long hang of unbounded client retries.
  const STARTUP_BOUND_MS = 15_000;

  it('fails ensureTopic and ping with EngineUnavailable naming STRATA_KAFKA_BROKERS', async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    const bus = new KafkaBus({
      brokers: [broker],
      topic: 'strata.events',
      partitions: 8,
      clientId: 'strata-test',
    });
    try {
      expect(bus.describe).toBe(`kafka://${broker}/strata.events (8 partitions)`);
      for (const run of [() => bus.ensureTopic(), () => bus.ping()]) {
        const { error, ms } = await failure(run);
        expect(error).toBeInstanceOf(EngineUnavailable);
        const e = error as EngineUnavailable;
        expect(e.code).toBe('STRATA_ERR_ENGINE_UNAVAILABLE');
        expect(e.engine).toBe('kafka');
        expect(e.message).toMatch(
          new RegExp(`^kafka: ${broker} unreachable \\(STRATA_KAFKA_BROKERS\\): .*ECONNREFUSED`),
        );
        expect(ms).toBeLessThan(STARTUP_BOUND_MS);
      }
    } finally {
      await bus.close();
    }
  });

  it('makes openStrata fail with that error instead of starting', async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-kafka-'));
    try {
      const config = loadConfig({ STRATA_DATA_DIR: dataDir, STRATA_KAFKA_BROKERS: broker });
      const { error } = await failure(() => openStrata(config));
      expect(error).toBeInstanceOf(EngineUnavailable);
      expect((error as Error).message).toContain(`kafka: ${broker} unreachable (STRATA_KAFKA_BROKERS)`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000); // opening PGlite first takes most of it
});

describe('Kafka bus: on the real broker', () => {
  let bus: KafkaBus;
  const subs: Subscription[] = [];

  beforeEach(async () => {
    bus = new KafkaBus({
      brokers: requireEnv('STRATA_KAFKA_BROKERS').split(','),
      topic: uniqueName('strata_test'),
      partitions: 4,
      clientId: 'strata-test',
    });
    await bus.ensureTopic();
  });
  afterEach(async () => {
    for (const s of subs.splice(0)) await s.stop();
    await bus.deleteTopic();
    await bus.close();
  });

  function message(id: string, version: number): BusMessage {
    const e = envelope({ aggregate_type: 'City', aggregate_id: id, version });
    return { key: busKey(e), headers: busHeaders(e, `streams/City/${id}/${version}`), event: e };
  }

  it('accepts an existing topic and keeps its partition count', async () => {
    await bus.ensureTopic();
    expect(bus.partitions).toBe(4);
    const other = new KafkaBus({
      brokers: requireEnv('STRATA_KAFKA_BROKERS').split(','),
      topic: bus.topic,
      partitions: 8,
      clientId: 'strata-test',
    });
    try {
      await other.ensureTopic();
      expect(other.partitions).toBe(4);
      expect(other.describe).toContain(`/${bus.topic} (4 partitions)`);
    } finally {
      await other.close();
    }
  });

  it('refuses a message larger than the broker takes as MessageRefused (the row is at fault), not EngineUnavailable', async () => {
    const big = message('BIG', 1);
    big.event = { ...big.event, data: { blob: 'x'.repeat(2 * 1024 * 1024) } };
    const error = await bus.publish([big]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MessageRefused);
    expect(error).not.toBeInstanceOf(EngineUnavailable);
    expect(String((error as Error).message)).toMatch(/MESSAGE_TOO_LARGE/);
    // The producer goes on with the next message.
    await bus.publish([message('SMALL', 1)]);
  });

  it('writes every message of concurrent publishes, in call order per key', async () => {
    // The client numbers an idempotent batch when it sends it and counts it when acknowledged:
    // concurrent sends on one producer got the same sequence and all but one were dropped as duplicates.
    const sent = Array.from({ length: 10 }, (_, i) => message('CONC', i + 1));
    await Promise.all(sent.map((m) => bus.publish([m])));
    const lag = await bus.lag('nobody');
    expect(lag.reduce((n, l) => n + l.end, 0)).toBe(10);
    const got: DeliveredMessage[] = [];
    subs.push(await bus.subscribe({ group: 'conc' }, async (batch) => void got.push(...batch)));
    await eventually(() => (got.length >= 10 ? true : undefined), 30_000, 'ten deliveries');
    expect(got.map((m) => m.event.version)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('delivers a message published twice twice (at-least-once into Kafka)', async () => {
    const m = message('DUP', 1);
    await bus.publish([m]);
    await bus.publish([m]);
    const got: DeliveredMessage[] = [];
    const sub = await bus.subscribe({ group: 'dups', maxBatch: 10 }, async (batch) => {
      got.push(...batch);
    });
    subs.push(sub);
    await eventually(() => (got.length >= 2 ? true : undefined), 30_000, 'two deliveries');
    await eventually(
      async () => ((await bus.lag('dups')).every((l) => l.lag === 0) ? true : undefined),
      30_000,
      'commit',
    );
    expect(got).toHaveLength(2);
    const [first, second] = got as [DeliveredMessage, DeliveredMessage];
    expect(second.event).toEqual(first.event);
    expect(second.headers.event_id).toBe(first.headers.event_id);
    expect(second.partition).toBe(first.partition);
    expect(second.offset).toBe(first.offset + 1);
    const lag = await bus.lag('dups');
    expect(lag.reduce((n, l) => n + l.end, 0)).toBe(2);
  });

  it('skips messages that are not Strata events, reports each once, and delivers the events behind them', async () => {
    const real = message('FOREIGN', 1);
    const foreign = new Producer({
      clientId: 'strata-test-foreign',
      bootstrapBrokers: requireEnv('STRATA_KAFKA_BROKERS').split(','),
      serializers: stringSerializers,
    });
    try {
      // Same key: the same partition, ahead of the real event.
      await foreign.send({
        messages: [
          { topic: bus.topic, key: real.key, value: 'not json at all' },
          { topic: bus.topic, key: real.key, value: '{"hello":"world"}' },
        ],
      });
    } finally {
      await foreign.close();
    }
    await bus.publish([real]);
    const got: DeliveredMessage[] = [];
    const skipped: string[] = [];
    let failOnce = true;
    subs.push(
      await bus.subscribe({ group: 'foreign', onSkip: (reason) => skipped.push(reason) }, async (batch) => {
        if (failOnce) {
          // The batch is read again after a failure: its skipped messages are still reported once.
          failOnce = false;
          throw new Error('projection failed once');
        }
        got.push(...batch);
      }),
    );
    await eventually(() => (got.length >= 1 ? true : undefined), 30_000, 'the real event');
    await eventually(
      async () => ((await bus.lag('foreign')).every((l) => l.lag === 0) ? true : undefined),
      30_000,
      'offsets committed past all three',
    );
    expect(got.map((m) => m.event)).toEqual([real.event]);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatch(new RegExp(`^kafka: skipped the message at ${bus.topic}/\\d+@0: not JSON`));
    expect(skipped[1]).toMatch(/@1: not a Strata event/);
  });
});
