/** The bus: carries committed events from the relay to the projection workers (DESIGN §5). */
import type { EventEnvelope } from '../core/event.js';

export interface BusMessage {
  /** `{aggregate_type}/{aggregate_id}`: all events of one aggregate land in one partition, in order. */
  key: string;
  headers: Record<string, string>;
  event: EventEnvelope;
}

export interface DeliveredMessage extends BusMessage {
  partition: number;
  offset: number;
}

export interface ConsumerOptions {
  /** Consumer group: each group receives every message once (offsets are per group). */
  group: string;
  /** Largest batch handed to the handler. */
  maxBatch?: number;
  /** Called with errors of the consume loop (the loop retries). */
  onError?: (error: unknown) => void;
  /**
   * Called for a message on the bus that is not a Strata event (written there by something else,
   * or mangled): it is skipped and committed past, so it cannot block its partition.
   */
  onSkip?: (reason: string) => void;
}

export interface Subscription {
  /** Stops consuming; resolves when the current batch is done. */
  stop(): Promise<void>;
}

export interface ConsumerLag {
  partition: number;
  committed: number;
  end: number;
  lag: number;
}

/**
 * The bus refused one message for what it holds (too large, an invalid record): retrying cannot
 * help, so the relay counts it against that row. Every other publish failure is the bus's own
 * (EngineUnavailable) and counts against no row.
 */
export class MessageRefused extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MessageRefused';
  }
}

export interface Bus {
  readonly describe: string;
  readonly partitions: number;
  /** Creates the topic/log with its partitions if missing. */
  ensureTopic(): Promise<void>;
  /** Publishes in order; resolves once every message is durably accepted. */
  publish(messages: BusMessage[]): Promise<void>;
  /**
   * Delivers batches to `handler`; offsets are committed only after `handler` resolves.
   * If it throws, the same batch is delivered again.
   */
  subscribe(
    options: ConsumerOptions,
    handler: (batch: DeliveredMessage[]) => Promise<void>,
  ): Promise<Subscription>;
  /** Committed offset vs. end offset per partition for one group. */
  lag(group: string): Promise<ConsumerLag[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function busKey(event: Pick<EventEnvelope, 'aggregate_type' | 'aggregate_id'>): string {
  return `${event.aggregate_type}/${event.aggregate_id}`;
}

export function busHeaders(event: EventEnvelope, streamKey: string): Record<string, string> {
  return {
    event_id: event.event_id,
    event_type: event.event_type,
    version: String(event.version),
    s3_key: streamKey,
  };
}
