/**
 * Events of recently used aggregates, so a command reads only the tail it has not seen yet.
 * Committed events never change, so a cached prefix can never go stale; other writers' events
 * are picked up by the tail read.
 */
import type { EventEnvelope } from '../core/event.js';
import { type AggregateRef, aggregateKey } from '../core/keys.js';
import type { EventStore } from '../ports/event-store.js';

export class StreamCache {
  private readonly entries = new Map<string, EventEnvelope[]>();

  constructor(
    private readonly store: Pick<EventStore, 'readStream'>,
    private readonly capacity = 2000,
  ) {}

  /** Every event of the aggregate, in version order. */
  async load(ref: AggregateRef): Promise<EventEnvelope[]> {
    const key = aggregateKey(ref);
    const cached = this.entries.get(key) ?? [];
    const tail: EventEnvelope[] = [];
    for await (const e of this.store.readStream(ref, { fromVersion: (cached.at(-1)?.version ?? 0) + 1 }))
      tail.push(e);
    const events = tail.length ? [...cached, ...tail] : cached;
    // Least recently used goes first: re-insert on every use.
    this.entries.delete(key);
    if (events.length) this.entries.set(key, events);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return events;
  }
}
