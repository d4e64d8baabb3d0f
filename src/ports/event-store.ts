/** The event store: the single source of truth, with the S3 key layout of DESIGN §3. */
import type { EventEnvelope } from '../core/event.js';
import type { AggregateRef } from '../core/keys.js';

export interface ReadStreamOptions {
  /** First version to return (inclusive); default 1. */
  fromVersion?: number;
  /** Last version to return (inclusive); default the end. */
  toVersion?: number;
}

export interface EventStore {
  /** Short engine description for `strata engines`, e.g. `fs:/data/store` or `s3://bucket/prefix`. */
  readonly describe: string;
  /**
   * Commits one event at `event.version` by creating `streams/…/{version}.json` exclusively.
   * Throws ConcurrencyConflict when that version exists, EngineUnavailable when storage is down.
   */
  append(event: EventEnvelope): Promise<void>;
  /** Writes the date-partitioned copy `events/yyyy/mm/dd/…`; idempotent. */
  writeDatedCopy(event: EventEnvelope): Promise<void>;
  /** The event at one version of an aggregate (void markers included), or undefined. */
  readVersion(ref: AggregateRef, version: number): Promise<EventEnvelope | undefined>;
  /** Every event of one aggregate in version order (void markers included). */
  readStream(ref: AggregateRef, options?: ReadStreamOptions): AsyncIterable<EventEnvelope>;
  /** Every aggregate with at least one event, optionally of one type (order is engine-specific). */
  listAggregates(type?: string): AsyncIterable<AggregateRef>;
  /**
   * The dated copies with occurred_at in [from, to], day by day (UTC), sorted by event ID within
   * a day, which orders each aggregate's events by version.
   */
  readByDate(from: Date, to: Date): AsyncIterable<EventEnvelope>;
  /** Answers whether the store is reachable (and its bucket exists). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
