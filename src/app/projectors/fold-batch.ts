/**
 * What both projectors share: group a batch by aggregate, drop what the projection already has,
 * and notice a version gap (an event never seen) so the projector can rebuild that aggregate
 * from the event store instead of applying a delta onto the wrong state.
 */
import type { EventEnvelope } from '../../core/event.js';
import { type AggregateRef, aggregateKey } from '../../core/keys.js';
import { evolveObject, initialObjectState, type ObjectState } from '../../core/object-aggregate.js';
import type { EventStore } from '../../ports/event-store.js';

export interface AggregateBatch extends AggregateRef {
  events: EventEnvelope[];
}

/** Object events grouped by aggregate, each group in version order (ontology events left out). */
export function groupByAggregate(events: EventEnvelope[]): AggregateBatch[] {
  const groups = new Map<string, AggregateBatch>();
  for (const e of events) {
    if (e.aggregate_type === 'ontology') continue;
    const ref = { type: e.aggregate_type, id: e.aggregate_id };
    const key = aggregateKey(ref);
    let g = groups.get(key);
    if (!g) {
      g = { ...ref, events: [] };
      groups.set(key, g);
    }
    g.events.push(e);
  }
  for (const g of groups.values()) g.events.sort((a, b) => a.version - b.version);
  return [...groups.values()];
}

/** The object's state at `version`, folded from the event store. */
export async function stateFromStore(
  store: EventStore,
  ref: AggregateRef,
  version: number,
): Promise<ObjectState> {
  let state = initialObjectState(ref.type, ref.id);
  for await (const e of store.readStream(ref, { toVersion: version })) state = evolveObject(state, e);
  return state;
}
