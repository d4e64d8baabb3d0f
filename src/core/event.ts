/** The event envelope of DESIGN §2: what the event store holds and the bus carries. */
import type { Ontology } from './ontology.js';

export const SCHEMA_VERSION = 1;

export interface EventEnvelope<T extends string = string, D = unknown> {
  event_id: string;
  event_type: T;
  aggregate_type: string;
  aggregate_id: string;
  /** 1-based, gap-free per aggregate. */
  version: number;
  /** Server clock, UTC ISO-8601 with milliseconds. */
  occurred_at: string;
  actor: string;
  command_id: string;
  correlation_id: string;
  causation_id: string;
  schema_version: number;
  data: D;
}

export interface LinkTarget {
  type: string;
  id: string;
}

/** Data of every event type, by name. */
export interface EventData {
  ObjectCreated: { properties: Record<string, unknown> };
  /** A JSON merge patch of properties: null removes a property. */
  ObjectUpdated: { properties: Record<string, unknown> };
  ObjectDeleted: Record<string, never>;
  LinkAdded: { linkType: string; to: LinkTarget };
  LinkRemoved: { linkType: string; to: LinkTarget };
  OntologyChanged: { ontology: Ontology };
  /**
   * Written by the relay in place of a version whose writer died before committing, so that the
   * writer can never commit it late. Folds skip it.
   */
  VersionVoided: { voided_event_id: string; reason: string };
}

export type EventType = keyof EventData;

export const ONTOLOGY_AGGREGATE = { type: 'ontology', id: 'default' } as const;

/** Checks the shape of an envelope read back from storage or the bus. */
/**
 * Whether `event` is the void marker the relay wrote to fence the event `eventId` out of its
 * version (its writer's intent timed out): the marker then takes over that intent's outbox row.
 */
export function isVoidMarkerOf(event: EventEnvelope | undefined, eventId: string): boolean {
  return event?.event_type === 'VersionVoided' && event.correlation_id === eventId;
}

export function isEnvelope(value: unknown): value is EventEnvelope {
  const e = value as Partial<EventEnvelope> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.event_id === 'string' &&
    typeof e.event_type === 'string' &&
    typeof e.aggregate_type === 'string' &&
    typeof e.aggregate_id === 'string' &&
    Number.isSafeInteger(e.version) &&
    typeof e.occurred_at === 'string' &&
    typeof e.data === 'object'
  );
}
