/**
 * The event store over any blob storage with exclusive create: the key layout, encoding, and
 * reads of DESIGN §3 live here once; `fs.ts` and `s3.ts` only provide the blob primitives.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyConflict, EngineUnavailable } from '../../core/errors.js';
import { type EventEnvelope, isEnvelope } from '../../core/event.js';
import {
  type AggregateRef,
  aggregateKey,
  datedKey,
  dayPrefix,
  decodeSegment,
  encodeSegment,
  parseDatedKey,
  parseStreamKey,
  streamKey,
  streamPrefix,
} from '../../core/keys.js';
import type { EventStore, ReadStreamOptions } from '../../ports/event-store.js';

/** The primitives an object store must offer. Keys are relative to the store's root/prefix. */
export interface BlobStore {
  readonly describe: string;
  /** Creates `key` only if absent; false when it already exists. Atomic under concurrency. */
  putIfAbsent(key: string, body: string): Promise<boolean>;
  /** Reads `key`, or undefined when absent. */
  get(key: string): Promise<string | undefined>;
  /** Every key under `prefix` (after `startAfter` when given), in lexicographic order, paginated to the end. */
  list(prefix: string, startAfter?: string): AsyncIterable<string>;
  /** The immediate "sub-folders" of `prefix` (S3 CommonPrefixes with delimiter `/`), in order. */
  listFolders(prefix: string): AsyncIterable<string>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Reads up to `window` items ahead so high-latency stores stream at full speed, in order. */
async function* readAhead<T, R>(
  items: AsyncIterable<T>,
  window: number,
  read: (t: T) => Promise<R>,
): AsyncGenerator<R> {
  // Each read settles into a value or an error at once, so a failure ahead of its turn is never an
  // unhandled rejection (which would end the process); it is thrown when its turn comes.
  type Settled = { ok: true; value: R } | { ok: false; error: unknown };
  const queue: Promise<Settled>[] = [];
  const start = (item: T): Promise<Settled> =>
    read(item).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  const next = async (): Promise<R> => {
    const settled = await queue.shift()!;
    if (!settled.ok) throw settled.error;
    return settled.value;
  };
  for await (const item of items) {
    queue.push(start(item));
    if (queue.length >= window) yield await next();
  }
  while (queue.length) yield await next();
}

function parseEvent(key: string, body: string): EventEnvelope {
  const value: unknown = JSON.parse(body);
  if (!isEnvelope(value)) throw new Error(`${key} does not hold an event envelope`);
  return value;
}

export class BlobEventStore implements EventStore {
  readonly describe: string;

  constructor(private readonly blobs: BlobStore) {
    this.describe = blobs.describe;
  }

  async append(event: EventEnvelope): Promise<void> {
    const created = await this.blobs.putIfAbsent(
      streamKey(refOf(event), event.version),
      JSON.stringify(event),
    );
    if (!created) throw new ConcurrencyConflict(aggregateKey(refOf(event)), event.version - 1);
  }

  async writeDatedCopy(event: EventEnvelope): Promise<void> {
    await this.blobs.putIfAbsent(
      datedKey(refOf(event), event.occurred_at, event.event_id),
      JSON.stringify(event),
    );
  }

  async readVersion(ref: AggregateRef, version: number): Promise<EventEnvelope | undefined> {
    const key = streamKey(ref, version);
    const body = await this.blobs.get(key);
    return body === undefined ? undefined : parseEvent(key, body);
  }

  async *readStream(ref: AggregateRef, options: ReadStreamOptions = {}): AsyncGenerator<EventEnvelope> {
    const from = options.fromVersion ?? 1;
    const to = options.toVersion ?? Number.MAX_SAFE_INTEGER;
    const blobs = this.blobs;
    async function* keys(): AsyncGenerator<string> {
      const after = from > 1 ? streamKey(ref, from - 1) : undefined;
      for await (const key of blobs.list(streamPrefix(ref), after)) {
        const parsed = parseStreamKey(key);
        if (!parsed || parsed.version < from) continue;
        if (parsed.version > to) return;
        yield key;
      }
    }
    yield* readAhead(keys(), 8, async (key) => {
      const body = await blobs.get(key);
      if (body === undefined) throw new Error(`${key} vanished while reading`);
      return parseEvent(key, body);
    });
  }

  async *listAggregates(type?: string): AsyncGenerator<AggregateRef> {
    const typeFolders =
      type === undefined ? this.blobs.listFolders('streams/') : single(`streams/${encodeSegment(type)}/`);
    for await (const typeFolder of typeFolders) {
      const typeName = decodeSegment(typeFolder.split('/')[1]!);
      for await (const idFolder of this.blobs.listFolders(typeFolder)) {
        yield { type: typeName, id: decodeSegment(idFolder.split('/')[2]!) };
      }
    }
  }

  async *readByDate(from: Date, to: Date): AsyncGenerator<EventEnvelope> {
    for await (const day of this.daysWithEvents(from, to)) {
      // One day's keys are held to sort them by event ID (time order); events stream one by one.
      const keys: { key: string; eventId: string }[] = [];
      for await (const key of this.blobs.list(day)) {
        const parsed = parseDatedKey(key);
        if (parsed) keys.push({ key, eventId: parsed.eventId });
      }
      keys.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
      const blobs = this.blobs;
      async function* sorted(): AsyncGenerator<string> {
        for (const k of keys) yield k.key;
      }
      for await (const event of readAhead(sorted(), 8, async (key) =>
        parseEvent(key, (await blobs.get(key)) ?? 'null'),
      )) {
        const at = Date.parse(event.occurred_at);
        if (at >= from.getTime() && at <= to.getTime()) yield event;
      }
    }
  }

  /** The `events/yyyy/mm/dd/` folders in [from, to] that exist, found by listing year and month folders. */
  private async *daysWithEvents(from: Date, to: Date): AsyncGenerator<string> {
    const first = dayPrefix(from);
    const last = dayPrefix(to);
    for await (const year of this.blobs.listFolders('events/')) {
      if (year < first.slice(0, 12) || year > last.slice(0, 12)) continue;
      for await (const month of this.blobs.listFolders(year)) {
        if (month < first.slice(0, 15) || month > last.slice(0, 15)) continue;
        for await (const day of this.blobs.listFolders(month)) {
          if (day >= first && day <= last) yield day;
        }
      }
    }
  }

  /**
   * Answers whether storage is reachable; the first time, also proves that exclusive create works
   * (an S3 server that ignores If-None-Match would let two writers commit one version).
   */
  async ping(): Promise<void> {
    await this.blobs.ping();
    this.exclusiveCreateChecked ??= this.checkExclusiveCreate().catch((e) => {
      this.exclusiveCreateChecked = undefined;
      throw e;
    });
    await this.exclusiveCreateChecked;
  }

  private exclusiveCreateChecked: Promise<void> | undefined;

  private async checkExclusiveCreate(): Promise<void> {
    const key = `_strata/exclusive-create-probes/${randomUUID()}.json`;
    const body = JSON.stringify({ probe: 'exclusive create', at: new Date().toISOString() });
    const first = await this.blobs.putIfAbsent(key, body);
    const second = await this.blobs.putIfAbsent(key, body);
    if (!first || second) {
      throw new EngineUnavailable(
        this.describe,
        'the storage does not honour exclusive create (If-None-Match: *): two writers could commit the same version; use an S3 server with conditional writes',
      );
    }
  }

  close(): Promise<void> {
    return this.blobs.close();
  }
}

function refOf(event: EventEnvelope): AggregateRef {
  return { type: event.aggregate_type, id: event.aggregate_id };
}

async function* single<T>(value: T): AsyncGenerator<T> {
  yield value;
}
