/**
 * Rebuild: wipe a projection and replay the event store (the truth) into it, aggregate by
 * aggregate in version order, in bounded memory. Search fills a new generation and swaps it in
 * atomically (blue/green); the graph is cleared and refilled.
 */
import type { EventEnvelope } from '../core/event.js';
import type { EventStore } from '../ports/event-store.js';
import type { GraphStore } from '../ports/graph-store.js';
import type { SearchIndex, SearchRebuild } from '../ports/search-index.js';
import type { OntologyCache } from './ontology-cache.js';
import { type Progress, silentProgress } from './progress.js';
import type { GraphProjector } from './projectors/graph.js';
import type { SearchProjector } from './projectors/search.js';

export type ProjectionName = 'search' | 'graph';

export interface RebuildDeps {
  store: EventStore;
  graph: GraphStore;
  search: SearchIndex;
  ontology: OntologyCache;
  graphProjector: GraphProjector;
  searchProjector: SearchProjector;
}

export interface RebuildSummary {
  aggregates: number;
  events: number;
  ms: number;
}

const BATCH_EVENTS = 500;

export async function rebuild(
  deps: RebuildDeps,
  targets: ProjectionName[],
  progress: Progress = silentProgress,
): Promise<RebuildSummary> {
  const started = Date.now();
  const { ontology } = await deps.ontology.reload();
  let generation: SearchRebuild | undefined;
  if (targets.includes('graph')) await deps.graph.clear();
  if (targets.includes('search')) generation = await deps.search.beginRebuild(ontology);
  let aggregates = 0;
  let events = 0;
  let batch: EventEnvelope[] = [];
  const flush = async () => {
    if (targets.includes('graph')) await deps.graphProjector.project(batch);
    if (generation) await deps.searchProjector.project(batch, generation);
    events += batch.length;
    batch = [];
    progress.tick(aggregates);
  };
  try {
    for await (const ref of deps.store.listAggregates()) {
      if (ref.type === 'ontology') continue;
      aggregates++;
      for await (const e of deps.store.readStream(ref)) {
        batch.push(e);
        if (batch.length >= BATCH_EVENTS) await flush();
      }
    }
    await flush();
    await generation?.activate();
  } catch (e) {
    await generation?.abort().catch(() => undefined);
    throw e;
  }
  await deps.search.refresh();
  return { aggregates, events, ms: Date.now() - started };
}
