/**
 * The Kafka bus (DESIGN §5) on @platformatic/kafka: one topic with N partitions, an idempotent
 * producer (acks=all), one consumer group per subscription whose offsets are committed only after
 * the handler resolved. A failed batch is redelivered by reopening the group's stream at the
 * committed offsets.
 */
import {
  Admin,
  type BaseOptions,
  Consumer,
  compatibilityPartitioner,
  type Message,
  type MessagesStream,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { backoffDelay } from '../../core/backoff.js';
import { EngineUnavailable } from '../../core/errors.js';
import type { EventEnvelope } from '../../core/event.js';
import {
  type Bus,
  type BusMessage,
  type ConsumerLag,
  type ConsumerOptions,
  type DeliveredMessage,
  MessageRefused,
  type Subscription,
} from '../../ports/bus.js';
import { WakeSignal } from '../../ports/clock.js';

export interface KafkaBusConfig {
  brokers: string[];
  topic: string;
  partitions: number;
  clientId: string;
  /** Replicas of each partition when the topic is created (1 suits a single-node broker). */
  replicationFactor?: number;
}

type KafkaMessage = Message<string, string, string, string>;
type KafkaStream = MessagesStream<string, string, string, string>;

const CONNECT_TIMEOUT_MS = 3_000;
const CLIENT_RETRIES = 3;
/** Admin requests run at start-up (ensureTopic, ping): fail within seconds when the broker is away. */
const ADMIN_RETRIES = 2;
const PRODUCER_RETRIES = 5;
const SESSION_TIMEOUT_MS = 30_000;
const HEARTBEAT_INTERVAL_MS = 3_000;
/** Longest a fetch waits at the broker for new data: bounds how long stop() waits on an idle stream. */
const FETCH_MAX_WAIT_MS = 1_000;
const TOPIC_READY_TIMEOUT_MS = 15_000;
const LOOP_BACKOFF_MS = { first: 200, cap: 5_000 };

/** Produce errors that are the message's fault, not the broker's: retrying the same record cannot succeed. */
const REFUSALS = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE'];

/** The one retry policy of this engine: exponential backoff with full jitter, capped. */
function backoff(attempt: number, first = 250, cap = 4_000): number {
  return backoffDelay(attempt, first, cap);
}

const retryDelay: BaseOptions['retryDelay'] = (_client, _operation, attempt) => backoff(attempt);

interface ErrorTree {
  message?: string;
  code?: string;
  errors?: unknown[];
  cause?: unknown;
  findBy?: (property: string, value: unknown) => unknown;
}

/** The innermost message of a client error (the errors nest: "metadata failed 4 times" → … → ECONNREFUSED). */
function rootMessage(e: unknown): string {
  let current = e as ErrorTree | undefined;
  for (let depth = 0; current && depth < 10; depth++) {
    const next = (current.errors?.at(-1) ?? current.cause) as ErrorTree | undefined;
    if (!next || typeof next !== 'object') break;
    current = next;
  }
  return current?.message ?? String(e);
}

function hasError(e: unknown, property: string, value: unknown): boolean {
  const tree = e as ErrorTree | undefined;
  return typeof tree?.findBy === 'function' && Boolean(tree.findBy(property, value));
}

function isConnectionFailure(e: unknown): boolean {
  return (
    hasError(e, 'code', 'PLT_KFK_NETWORK') || /Cannot connect to any broker/.test(rootMessage(e) + String(e))
  );
}

/**
 * `close(true)` (closing the client's streams too) through the callback form: with a boolean
 * argument TypeScript picks the callback overload, which is typed `void`.
 */
function closeForcibly(client: {
  close(force: boolean, callback: (error?: Error | null) => void): void;
}): Promise<void> {
  return new Promise((resolve, reject) => client.close(true, (error) => (error ? reject(error) : resolve())));
}

/**
 * A Strata event, or why the message is not one: a foreign or mangled message on the topic is
 * skipped (and reported), never retried forever — it would block its partition behind it.
 */
function decode(m: KafkaMessage): DeliveredMessage | string {
  const at = `${m.topic}/${m.partition}@${m.offset}`;
  if (m.value === undefined) return `kafka: skipped the message at ${at}: it has no value`;
  let event: EventEnvelope;
  try {
    event = JSON.parse(m.value) as EventEnvelope;
  } catch (e) {
    return `kafka: skipped the message at ${at}: not JSON (${(e as Error).message})`;
  }
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.event_id !== 'string' ||
    typeof event.aggregate_type !== 'string' ||
    typeof event.aggregate_id !== 'string' ||
    !Number.isSafeInteger(event.version)
  ) {
    return `kafka: skipped the message at ${at}: not a Strata event (no event_id, aggregate_type, aggregate_id, version)`;
  }
  return {
    key: m.key ?? '',
    headers: Object.fromEntries(m.headers),
    event,
    partition: m.partition,
    offset: Number(m.offset),
  };
}

/** Largest produce request the adapter builds (the broker default limit is 1 MiB). */
const MAX_BATCH_BYTES = 512 * 1024;

export class KafkaBus implements Bus {
  readonly topic: string;
  private partitionCount: number;
  private adminClient: Admin | undefined;
  private producerClient: Producer<string, string, string, string> | undefined;
  /** Publishes one at a time: the client numbers idempotent batches when sent and counts them when acknowledged. */
  private publishing: Promise<void> = Promise.resolve();
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly config: KafkaBusConfig) {
    this.topic = config.topic;
    this.partitionCount = config.partitions;
  }

  get partitions(): number {
    return this.partitionCount;
  }

  get describe(): string {
    return `kafka://${this.config.brokers.join(',')}/${this.topic} (${this.partitionCount} partitions)`;
  }

  private clientOptions(role: string) {
    return {
      clientId: `${this.config.clientId}-${role}`,
      bootstrapBrokers: this.config.brokers,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retries: CLIENT_RETRIES,
      retryDelay,
    };
  }

  /** Turns a client error into EngineUnavailable naming the setting to check. */
  private unavailable(operation: string, e: unknown): EngineUnavailable {
    if (e instanceof EngineUnavailable) return e;
    const brokers = this.config.brokers.join(',');
    if (isConnectionFailure(e)) {
      return new EngineUnavailable(
        'kafka',
        `${brokers} unreachable (STRATA_KAFKA_BROKERS): ${rootMessage(e)}`,
        e,
      );
    }
    return new EngineUnavailable(
      'kafka',
      `${operation} on ${brokers}/${this.topic} failed: ${rootMessage(e)}`,
      e,
    );
  }

  private admin(): Admin {
    this.adminClient ??= new Admin({ ...this.clientOptions('admin'), retries: ADMIN_RETRIES });
    return this.adminClient;
  }

  private producer(): Producer<string, string, string, string> {
    this.producerClient ??= new Producer({
      ...this.clientOptions('producer'),
      retries: PRODUCER_RETRIES,
      idempotent: true,
      acks: -1,
      serializers: stringSerializers,
      // Same key → partition mapping as the Java client, so Kafka tooling agrees with Strata.
      partitioner: compatibilityPartitioner,
    });
    return this.producerClient;
  }

  async ensureTopic(): Promise<void> {
    const admin = this.admin();
    try {
      await admin.createTopics({
        topics: [this.topic],
        partitions: this.config.partitions,
        replicas: this.config.replicationFactor ?? 1,
      });
    } catch (e) {
      if (!hasError(e, 'apiId', 'TOPIC_ALREADY_EXISTS')) throw this.unavailable('creating the topic', e);
    }
    // The topic exists once every partition has a leader; an existing topic keeps its partition count.
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const metadata = await admin.metadata({ topics: [this.topic], forceUpdate: true });
        const topic = metadata.topics.get(this.topic);
        if (topic && topic.partitionsCount > 0 && topic.partitions.every((p) => p.leader >= 0)) {
          this.partitionCount = topic.partitionsCount;
          return;
        }
      } catch (e) {
        if (isConnectionFailure(e) || Date.now() > deadline)
          throw this.unavailable('reading topic metadata', e);
      }
      if (Date.now() > deadline) {
        throw new EngineUnavailable('kafka', `topic ${this.topic} has no leader for every partition yet`);
      }
      await new Promise((r) => setTimeout(r, backoff(attempt, 50, 1_000)));
    }
  }

  publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const run = this.publishing.then(() => this.send(messages));
    this.publishing = run.catch(() => undefined);
    return run;
  }

  private async send(messages: BusMessage[]): Promise<void> {
    // Batches stay well below the broker's default message.max.bytes (1 MiB); a single message
    // larger than that is refused by the broker and reported for that message alone.
    const records = messages.map((m) => ({
      topic: this.topic,
      key: m.key,
      value: JSON.stringify(m.event),
      headers: m.headers,
    }));
    let chunk: typeof records = [];
    let bytes = 0;
    for (const r of records) {
      const size = Buffer.byteLength(r.value) + Buffer.byteLength(r.key) + 200;
      if (chunk.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        await this.sendChunk(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(r);
      bytes += size;
    }
    if (chunk.length) await this.sendChunk(chunk);
  }

  private async sendChunk(
    records: { topic: string; key: string; value: string; headers: Record<string, string> }[],
  ): Promise<void> {
    const producer = this.producer();
    try {
      await producer.send({ messages: records });
    } catch (e) {
      // A failed send may have been written anyway while the client did not count its sequence
      // numbers: a fresh producer id keeps the broker from taking the next batch for a duplicate.
      this.producerClient = undefined;
      await closeForcibly(producer).catch(() => undefined);
      const refusal = REFUSALS.find((code) => hasError(e, 'apiId', code));
      if (refusal) {
        throw new MessageRefused(
          `kafka refused the message on ${this.topic}: ${refusal} (${rootMessage(e)})`,
          { cause: e },
        );
      }
      throw this.unavailable('publish', e);
    }
  }

  async subscribe(
    options: ConsumerOptions,
    handler: (batch: DeliveredMessage[]) => Promise<void>,
  ): Promise<Subscription> {
    const maxBatch = options.maxBatch ?? 500;
    const onError = (e: unknown) => options.onError?.(e);
    const signal = new WakeSignal();
    let running = true;
    /** An error of the consumer or its stream, raised in the loop at the next wait. */
    let failure: unknown;

    const newConsumer = () => {
      const consumer = new Consumer<string, string, string, string>({
        ...this.clientOptions('consumer'),
        groupId: options.group,
        autocommit: false,
        deserializers: stringDeserializers,
        sessionTimeout: SESSION_TIMEOUT_MS,
        heartbeatInterval: HEARTBEAT_INTERVAL_MS,
        maxWaitTime: FETCH_MAX_WAIT_MS,
      });
      // Emitted when rejoining the group failed for good; without a listener it would crash the process.
      consumer.on('error', (e: Error) => {
        failure ??= e;
        signal.notify();
      });
      return consumer;
    };

    const openStream = async (consumer: Consumer<string, string, string, string>): Promise<KafkaStream> => {
      const opened = await consumer.consume({
        topics: [this.topic],
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
      });
      // A 'readable' listener lets the stream fetch; reading happens in the loop.
      opened.on('readable', signal.notify);
      opened.on('error', (e: Error) => {
        // A replaced stream may still fail while closing: only the current one matters.
        if (!running || opened !== stream) return;
        failure ??= e;
        signal.notify();
      });
      opened.on('close', signal.notify);
      return opened;
    };

    const closeConsumer = async (consumer: Consumer<string, string, string, string>) => {
      await closeForcibly(consumer).catch(onError);
    };

    let consumer = newConsumer();
    let stream: KafkaStream | undefined;
    try {
      stream = await openStream(consumer);
    } catch (e) {
      await closeConsumer(consumer);
      throw this.unavailable(`joining consumer group ${options.group}`, e);
    }

    const readBatch = async (from: KafkaStream): Promise<KafkaMessage[]> => {
      for (;;) {
        if (failure !== undefined) throw failure;
        const batch: KafkaMessage[] = [];
        while (batch.length < maxBatch) {
          const m = from.read() as KafkaMessage | null;
          if (m === null) break;
          batch.push(m);
        }
        if (batch.length > 0 || !running) return batch;
        if (from.destroyed || from.readableEnded)
          throw new Error(`kafka: the stream of group ${options.group} closed`);
        await signal.wait(FETCH_MAX_WAIT_MS * 5);
      }
    };

    const loop = async () => {
      /** Next offset per partition handled by this stream: a rejoin re-fetches from the committed offset. */
      let handled = new Map<number, bigint>();
      /** The stream replaced after a failure, destroyed once its successor is open (so the group is not rejoined). */
      let stale: KafkaStream | undefined;
      let failures = 0;
      /** Per partition, the offset from which a skipped message has not been reported yet. */
      const skipReported = new Map<number, bigint>();
      while (running) {
        try {
          if (failure !== undefined && stream === undefined) {
            // The consumer itself failed (or could not reopen a stream): start over with a new member.
            failure = undefined;
            stale = undefined;
            await closeConsumer(consumer);
            consumer = newConsumer();
          }
          if (stream === undefined) {
            try {
              stream = await openStream(consumer);
            } catch (e) {
              failure ??= e;
              throw e;
            }
            stale?.destroy();
            stale = undefined;
            handled = new Map();
          }
          const fetched = await readBatch(stream);
          const fresh = fetched.filter((m) => m.offset >= (handled.get(m.partition) ?? -1n));
          if (fresh.length === 0) continue;
          const delivered: DeliveredMessage[] = [];
          for (const m of fresh) {
            const decoded = decode(m);
            if (typeof decoded !== 'string') delivered.push(decoded);
            else if (m.offset >= (skipReported.get(m.partition) ?? -1n)) {
              // Reported once, though a failed batch is read again.
              skipReported.set(m.partition, m.offset + 1n);
              options.onSkip?.(decoded);
            }
          }
          if (delivered.length > 0) await handler(delivered);
          const next = new Map<number, bigint>();
          for (const m of fresh) next.set(m.partition, m.offset + 1n);
          await consumer.commit({
            offsets: [...next].map(([partition, offset]) => ({
              topic: this.topic,
              partition,
              offset,
              leaderEpoch: -1,
            })),
          });
          for (const [partition, offset] of next) handled.set(partition, offset);
          failures = 0;
        } catch (e) {
          if (!running) break;
          onError(e);
          // Redelivery: drop what this stream buffered and read again from the committed offsets.
          if (stream !== undefined) {
            stale?.destroy();
            stale = stream;
            stream = undefined;
          }
          failures++;
          await signal.wait(backoff(failures, LOOP_BACKOFF_MS.first, LOOP_BACKOFF_MS.cap));
        }
      }
      stale?.destroy();
    };

    const done = loop();
    const subscription: Subscription = {
      stop: async () => {
        if (!running) return done;
        running = false;
        signal.notify();
        await done;
        // close(true) closes the streams and leaves the group, so the next member takes over at once.
        await closeConsumer(consumer);
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async lag(group: string): Promise<ConsumerLag[]> {
    const admin = this.admin();
    try {
      const metadata = await admin.metadata({ topics: [this.topic] });
      const count = metadata.topics.get(this.topic)?.partitionsCount ?? this.partitionCount;
      const indexes = Array.from({ length: count }, (_, i) => i);
      const [ends, groups] = await Promise.all([
        admin.listOffsets({
          topics: [
            {
              name: this.topic,
              partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })),
            },
          ],
        }),
        admin.listConsumerGroupOffsets({
          groups: [{ groupId: group, topics: [{ name: this.topic, partitionIndexes: indexes }] }],
        }),
      ]);
      const end = new Map<number, bigint>();
      for (const p of ends.find((t) => t.name === this.topic)?.partitions ?? [])
        end.set(p.partitionIndex, p.offset);
      const committed = new Map<number, bigint>();
      for (const t of groups.find((g) => g.groupId === group)?.topics ?? []) {
        if (t.name !== this.topic) continue;
        for (const p of t.partitions) committed.set(p.partitionIndex, p.committedOffset);
      }
      return indexes.map((partition) => {
        const c = Number(committed.get(partition) ?? -1n);
        const e = Number(end.get(partition) ?? 0n);
        const at = Math.max(c, 0);
        return { partition, committed: at, end: e, lag: Math.max(0, e - at) };
      });
    } catch (e) {
      throw this.unavailable(`reading the lag of group ${group}`, e);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.admin().metadata({ topics: [], forceUpdate: true });
    } catch (e) {
      throw this.unavailable('metadata request', e);
    }
  }

  /** Deletes the topic (tests and tear-down only). */
  async deleteTopic(): Promise<void> {
    try {
      await this.admin().deleteTopics({ topics: [this.topic] });
    } catch (e) {
      if (!hasError(e, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION'))
        throw this.unavailable('deleting the topic', e);
    }
  }

  async close(): Promise<void> {
    for (const s of [...this.subscriptions]) await s.stop().catch(() => undefined);
    await this.publishing;
    const producer = this.producerClient;
    const admin = this.adminClient;
    this.producerClient = undefined;
    this.adminClient = undefined;
    await Promise.all(
      [producer && closeForcibly(producer), admin?.close()].map((p) => p?.catch(() => undefined)),
    );
  }
}

export function openKafkaBus(config: KafkaBusConfig): KafkaBus {
  return new KafkaBus(config);
}
