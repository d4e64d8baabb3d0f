/**
 * The outbox: guarantees that every committed event is delivered. Rows hold a reference to the
 * event in the store, never the event itself.
 */
import type { AggregateRef } from '../core/keys.js';

export interface OutboxRef {
  eventId: string;
  aggregateType: string;
  aggregateId: string;
  version: number;
  /** The `streams/…` key of the event. */
  streamKey: string;
}

export type OutboxStatus = 'pending' | 'ready';

export interface OutboxRow extends OutboxRef {
  id: number;
  status: OutboxStatus;
  partition: number;
  attempts: number;
  createdAt: Date;
  lastError: string | null;
}

export interface DeadLetter extends OutboxRef {
  id: number;
  attempts: number;
  lastError: string;
  failedAt: Date;
}

/**
 * A document a projection could not write because the engine refused what it holds (a value its
 * mapping cannot take): kept, one per aggregate and projection, until a later write of that
 * aggregate succeeds (a fix of the data, or a rebuild).
 */
export interface ProjectionFailure {
  projection: string;
  aggregateType: string;
  aggregateId: string;
  version: number;
  error: string;
  failedAt: Date;
}

export interface OutboxStats {
  pending: number;
  ready: number;
  deadLetters: number;
  /** Aggregates a projection could not write (see ProjectionFailure). */
  projectionFailures: number;
  oldestReadyAgeMs: number | null;
  partitions: { partition: number; owner: string | null; leaseUntil: Date | null }[];
}

export interface Outbox {
  /** Number of relay partitions; an aggregate always maps to the same one. */
  readonly partitions: number;
  /** Records the intent to commit (status pending) before the event store write. */
  recordIntent(ref: OutboxRef): Promise<void>;
  /** Marks an intent ready for delivery once the event is committed; wakes relays. */
  markReady(eventId: string): Promise<void>;
  /**
   * Points an abandoned intent at the void marker that fenced its version and marks it ready, so
   * projections see every version.
   */
  voidIntent(intent: OutboxRef, voidEventId: string): Promise<void>;
  /** Removes an intent whose commit lost or failed. */
  removeIntent(eventId: string): Promise<void>;
  /**
   * Takes (or renews) the lease of up to a fair share of partitions for `owner` and returns the
   * partitions it holds now. Leases of dead owners are taken over once expired.
   */
  leasePartitions(owner: string, leaseMs: number): Promise<number[]>;
  /**
   * Renews the leases `owner` still holds among `partitions` and returns those; a partition whose
   * lease expired (and may have been taken over) is left out.
   */
  confirmLeases(owner: string, partitions: number[], leaseMs: number): Promise<number[]>;
  /** Gives up every partition lease of `owner` (clean shutdown). */
  releasePartitions(owner: string): Promise<void>;
  /**
   * Ready rows of the given partitions, oldest first, in version order per aggregate, stopping an
   * aggregate at its first row that is still pending (so nothing is delivered out of order).
   */
  claimReady(partitions: number[], limit: number): Promise<OutboxRow[]>;
  /** Pending intents older than `olderThanMs` in the given partitions (writers that died). */
  staleIntents(partitions: number[], olderThanMs: number, limit: number): Promise<OutboxRow[]>;
  /** Deletes delivered rows. */
  markDelivered(ids: number[]): Promise<void>;
  /** Counts a failed attempt; after `maxAttempts` the row moves to the dead-letter table. */
  recordFailure(id: number, error: string, maxAttempts: number): Promise<'retry' | 'dead-lettered'>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Moves a dead letter back to ready so the relay tries it again. */
  retryDeadLetter(id: number): Promise<boolean>;
  stats(): Promise<OutboxStats>;
  /** Records the documents `projection` could not write (one row per aggregate: the latest version's failure). */
  recordProjectionFailures(
    projection: string,
    failures: { ref: AggregateRef; version: number; error: string }[],
  ): Promise<void>;
  /** Forgets the failures of aggregates `projection` has now written, up to the version written. */
  clearProjectionFailures(
    projection: string,
    written: { ref: AggregateRef; version: number }[],
  ): Promise<void>;
  projectionFailures(limit: number): Promise<ProjectionFailure[]>;
  /** Calls `onWake` when rows become ready (NOTIFY); resolves to an unsubscribe function. */
  onReady(onWake: () => void): Promise<() => Promise<void>>;
  /** Creates tables if missing. */
  migrate(): Promise<void>;
}
