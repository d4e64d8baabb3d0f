/** Projects object events into the graph: nodes, typed edges, event-time validity. */
import type { EventData, EventEnvelope } from '../../core/event.js';
import { aggregateKey } from '../../core/keys.js';
import { titleOf } from '../../core/object-aggregate.js';
import { findLinkType, findObjectType, type Ontology } from '../../core/ontology.js';
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
      const title = type ? d.properties[type.titleProperty] : undefined;
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
        let change: GraphChange;
        if (e.version === current + 1) {
          change = changeOf(e, await this.ontologyFor(e.aggregate_type, ontology));
        } else {
          resets++;
          const state = await stateFromStore(this.deps.store, g, e.version);
          const known = await this.ontologyFor(g.type, ontology);
          change = {
            kind: 'reset',
            exists: state.exists,
            title: titleOf(findObjectType(known, g.type), state),
            edges: Object.entries(state.links).flatMap(([linkType, ids]) =>
              ids.map((id) => ({ linkType, to: { type: findLinkType(known, linkType)?.to ?? '', id } })),
            ),
          };
        }
        mutations.push({ type: g.type, id: g.id, version: e.version, at: e.occurred_at, change });
        current = e.version;
      }
    }
    const r = await graph.apply(mutations);
    return { applied: r.applied, skipped: skipped + r.skipped, resets };
  }

  private async ontologyFor(type: string, cached: Ontology): Promise<Ontology> {
    return findObjectType(cached, type) ? cached : (await this.deps.ontology.withType(type)).ontology;
  }
}
