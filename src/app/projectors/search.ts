/** Projects object events into search documents: full current state plus link summaries. */
import { EngineUnavailable } from '../../core/errors.js';
import type { EventData, EventEnvelope } from '../../core/event.js';
import { aggregateKey } from '../../core/keys.js';
import { evolveObject, initialObjectState, type ObjectState, titleOf } from '../../core/object-aggregate.js';
import { findObjectType, type Ontology } from '../../core/ontology.js';
import type { EventStore } from '../../ports/event-store.js';
import type { Outbox } from '../../ports/outbox.js';
import type { SearchDocument, SearchIndex, SearchWriter, WriteOutcome } from '../../ports/search-index.js';
import type { OntologyCache } from '../ontology-cache.js';
import { type AggregateBatch, groupByAggregate, stateFromStore } from './fold-batch.js';
import type { ProjectionOutcome } from './graph.js';

export function toSearchDocument(state: ObjectState, ontology: Ontology): SearchDocument {
  return {
    type: state.type,
    id: state.id,
    version: state.version,
    deleted: !state.exists,
    title: titleOf(findObjectType(ontology, state.type), state),
    properties: state.properties,
    links: state.links,
    updatedAt: state.updatedAt ?? new Date(0).toISOString(),
  };
}

function stateOf(doc: SearchDocument): ObjectState {
  return {
    type: doc.type,
    id: doc.id,
    version: doc.version,
    exists: !doc.deleted,
    deleted: doc.deleted,
    properties: doc.properties,
    links: doc.links,
    updatedAt: doc.updatedAt,
  };
}

/** The name search failures are kept under (Outbox.recordProjectionFailures). */
export const SEARCH_PROJECTION = 'search';

export class SearchProjector {
  constructor(
    private readonly deps: {
      search: SearchIndex;
      store: EventStore;
      ontology: OntologyCache;
      /** Where documents the engine refuses are kept (DESIGN §6: bad items to dead-letter). */
      failures: Pick<Outbox, 'recordProjectionFailures' | 'clearProjectionFailures'>;
    },
  ) {}

  /**
   * Projects a batch into `writer` (a rebuild's generation), or — the live path — into every
   * generation being rebuilt and then into the active one. Each target folds from its own
   * documents, so a drifted active document never leaks into a rebuild; building generations go
   * first, so a swap in between can never lose the batch.
   */
  async project(events: EventEnvelope[], writer?: SearchWriter): Promise<ProjectionOutcome> {
    for (const e of events) {
      if (e.event_type === 'OntologyChanged') {
        await this.deps.search.configure((e.data as EventData['OntologyChanged']).ontology);
      }
    }
    const groups = groupByAggregate(events);
    if (groups.length === 0) return { applied: 0, skipped: events.length, resets: 0 };
    let { ontology } = await this.deps.ontology.current();
    if (groups.some((g) => !findObjectType(ontology, g.type))) {
      // The OntologyChanged event travels on another partition and may arrive later than the
      // first objects of a new type: map the new type before writing them.
      ontology = (await this.deps.ontology.reload()).ontology;
      await this.deps.search.configure(ontology);
    }
    const ignored = events.length - groups.reduce((n, g) => n + g.events.length, 0);
    if (writer) {
      // A rebuild's pass: what the new generation refuses is kept; nothing is cleared, since the
      // live index, which the failures describe until the swap, did not change.
      const { outcome, written } = await this.projectInto(writer, groups, ontology, ignored);
      await this.deps.failures.recordProjectionFailures(SEARCH_PROJECTION, written.failed);
      return outcome;
    }
    const refused: WriteOutcome['failed'] = [];
    for (const building of await this.deps.search.building())
      refused.push(...(await this.projectInto(building, groups, ontology, 0)).written.failed);
    const { outcome, written } = await this.projectInto(this.deps.search, groups, ontology, ignored);
    refused.push(...written.failed);
    // Refused for what they hold: kept as projection failures (verify reports the drift too), the
    // rest of the batch applied. A document every target took, or held at a later version
    // (stale), clears the failures of that aggregate up to its version.
    const failedKeys = new Set(refused.map((f) => aggregateKey(f.ref)));
    await this.deps.failures.recordProjectionFailures(SEARCH_PROJECTION, refused);
    await this.deps.failures.clearProjectionFailures(
      SEARCH_PROJECTION,
      written.docs
        .filter((d) => !failedKeys.has(aggregateKey(d)))
        .map((d) => ({ ref: { type: d.type, id: d.id }, version: d.version })),
    );
    return outcome;
  }

  private async projectInto(
    writer: SearchWriter,
    groups: AggregateBatch[],
    ontology: Ontology,
    ignored: number,
  ): Promise<{
    outcome: ProjectionOutcome;
    written: { docs: SearchDocument[]; failed: WriteOutcome['failed'] };
  }> {
    const existing = await writer.get(groups);
    const docs: SearchDocument[] = [];
    let resets = 0;
    let skipped = ignored;
    for (const g of groups) {
      const doc = existing.get(aggregateKey(g));
      let state = doc ? stateOf(doc) : initialObjectState(g.type, g.id);
      const start = state.version;
      for (const e of g.events) {
        if (e.version <= state.version) {
          skipped++;
          continue;
        }
        if (e.version === state.version + 1) {
          state = evolveObject(state, e);
        } else {
          resets++;
          state = await stateFromStore(this.deps.store, g, e.version);
        }
      }
      // An aggregate that never existed (only void markers) has no document.
      if (state.version > start && (state.exists || state.deleted))
        docs.push(toSearchDocument(state, ontology));
    }
    const outcome = await writer.upsert(docs);
    const retry = outcome.failed.filter((f) => f.retryable);
    if (retry.length) {
      // Redeliver the batch (the offsets stay uncommitted): version guards make the documents
      // already written a no-op the second time.
      await this.deps.search.configure((await this.deps.ontology.reload()).ontology);
      throw new EngineUnavailable('search', `${retry.length} documents refused for now: ${retry[0]!.error}`);
    }
    return {
      outcome: { applied: outcome.applied, skipped: skipped + outcome.stale, resets },
      written: { docs, failed: outcome.failed },
    };
  }
}
