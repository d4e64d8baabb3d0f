/** Projects object events into the graph: nodes, typed edges, event-time validity. */
import type { EventData, EventEnvelope } from '../../core/event.js';
import { type AggregateRef, aggregateKey } from '../../core/keys.js';
import { titleOf } from '../../core/object-aggregate.js';
import { findLinkType, findObjectType, type Ontology } from '../../core/ontology.js';
import { ownValue } from '../../core/own.js';
import type { EventStore } from '../../ports/event-store.js';
import type { GraphChange, GraphMutation, GraphStore } from '../../ports/graph-store.js';
import type { OntologyCache } from '../ontology-cache.js';
import { groupByAggregate, stateFromStore } from './fold-batch.js';

export interface ProjectionOutcome {
  applied: number;
  skipped: number;
  /** Aggregates rebuilt from the store after a version gap. */
  resets: number;
}

function changeOf(e: EventEnvelope, ontology: Ontology): GraphChange {
  switch (e.event_type) {
    case 'ObjectCreated': {
      const d = e.data as EventData['ObjectCreated'];
      const type = findObjectType(ontology, e.aggregate_type);
      return { kind: 'node', title: titleOf(type, { id: e.aggregate_id, properties: d.properties }) };
    }
    case 'ObjectUpdated': {
      const d = e.data as EventData['ObjectUpdated'];
      const type = findObjectType(ontology, e.aggregate_type);
      const title = type ? ownValue(d.properties, type.titleProperty) : undefined;
      return title === undefined
        ? { kind: 'none' }
        : { kind: 'node', title: title === null ? e.aggregate_id : String(title) };
    }
    case 'ObjectDeleted':
      return { kind: 'deleted' };
    case 'LinkAdded': {
      const d = e.data as EventData['LinkAdded'];
      return { kind: 'edgeAdded', linkType: d.linkType, to: d.to };
    }
    case 'LinkRemoved': {
      const d = e.data as EventData['LinkRemoved'];
      return { kind: 'edgeRemoved', linkType: d.linkType, to: d.to };
    }
    default:
      return { kind: 'none' };
  }
}

export class GraphProjector {
  constructor(private readonly deps: { graph: GraphStore; store: EventStore; ontology: OntologyCache }) {}

  /** Applies a batch idempotently: events at or below the stored version change nothing. */
  async project(events: EventEnvelope[], graph: GraphStore = this.deps.graph): Promise<ProjectionOutcome> {
    const groups = groupByAggregate(events);
    if (groups.length === 0) return { applied: 0, skipped: events.length, resets: 0 };
    const { ontology } = await this.deps.ontology.current();
    const versions = await graph.versions(groups);
    const mutations: GraphMutation[] = [];
    let resets = 0;
    let skipped = events.length - groups.reduce((n, g) => n + g.events.length, 0);
    for (const g of groups) {
      let current = versions.get(aggregateKey(g)) ?? 0;
      for (const e of g.events) {
        if (e.version <= current) {
          skipped++;
          continue;
        }
        if (e.version === current + 1) {
          const change = changeOf(e, await this.ontologyFor(e.aggregate_type, ontology));
          mutations.push({ type: g.type, id: g.id, version: e.version, at: e.occurred_at, change });
        } else {
          resets++;
          mutations.push(await this.reset(g, e.version, e.occurred_at, ontology));
        }
        current = e.version;
      }
    }
    const r = await graph.apply(mutations);
    // The head moved between our read and the write (a rebuild, another worker): rebuild those
    // aggregates from the store instead of applying deltas onto the wrong state.
    const again: GraphMutation[] = [];
    for (const ref of r.needsReset) {
      const last = groups.find((g) => aggregateKey(g) === aggregateKey(ref))?.events.at(-1);
      again.push(await this.reset(ref, ref.version, last?.occurred_at ?? new Date().toISOString(), ontology));
    }
    const retried = again.length ? await graph.apply(again) : { applied: 0, skipped: 0, needsReset: [] };
    return {
      applied: r.applied + retried.applied,
      skipped: skipped + r.skipped + retried.skipped,
      resets: resets + again.length,
    };
  }

  /** The whole state of one aggregate at `version`, folded from the event store. */
  private async reset(
    ref: AggregateRef,
    version: number,
    at: string,
    ontology: Ontology,
  ): Promise<GraphMutation> {
    const state = await stateFromStore(this.deps.store, ref, version);
    const known = await this.ontologyFor(ref.type, ontology);
    const change: GraphChange = {
      kind: 'reset',
      exists: state.exists,
      title: titleOf(findObjectType(known, ref.type), state),
      edges: Object.entries(state.links).flatMap(([linkType, ids]) =>
        ids.map((id) => ({ linkType, to: { type: findLinkType(known, linkType)?.to ?? '', id } })),
      ),
    };
    return { type: ref.type, id: ref.id, version, at, change };
  }

  private async ontologyFor(type: string, cached: Ontology): Promise<Ontology> {
    return findObjectType(cached, type) ? cached : (await this.deps.ontology.withType(type)).ontology;
  }
}
