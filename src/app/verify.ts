/**
 * Verify: compare every projection with the event store (the truth) and report drift, naming
 * each aggregate and what differs. Streams the store; holds one batch at a time.
 */
import { type AggregateRef, aggregateKey } from '../core/keys.js';
import { foldObject, type ObjectState, titleOf } from '../core/object-aggregate.js';
import { findLinkType, findObjectType, type Ontology } from '../core/ontology.js';
import { canonicalJson } from '../core/storable.js';
import type { EventStore } from '../ports/event-store.js';
import type { GraphNodeState, GraphStore } from '../ports/graph-store.js';
import type { SearchDocument, SearchIndex } from '../ports/search-index.js';
import type { OntologyCache } from './ontology-cache.js';
import { type Progress, silentProgress } from './progress.js';
import { toSearchDocument } from './projectors/search.js';

export interface Drift extends AggregateRef {
  projection: 'graph' | 'search';
  problem: string;
}

export interface VerifyReport {
  aggregates: number;
  drift: Drift[];
}

function sortedLinks(links: Record<string, string[]>): string {
  return canonicalJson(Object.fromEntries(Object.entries(links).map(([k, v]) => [k, [...v].sort()])));
}

function graphProblems(
  expected: ObjectState,
  actual: GraphNodeState | undefined,
  ontology: Ontology,
): string[] {
  if (!actual) return expected.version > 0 ? ['missing from the graph'] : [];
  const problems: string[] = [];
  if (actual.version !== expected.version)
    problems.push(`version ${actual.version}, store has ${expected.version}`);
  if (actual.exists !== expected.exists)
    problems.push(`exists=${actual.exists}, store says ${expected.exists}`);
  const intervals = expected.exists ? 1 : 0;
  if (actual.openIntervals !== intervals)
    problems.push(`${actual.openIntervals} open node intervals, ${intervals} expected`);
  if (expected.exists) {
    const title = titleOf(findObjectType(ontology, expected.type), expected);
    if (actual.title !== title)
      problems.push(`title ${JSON.stringify(actual.title)}, store has ${JSON.stringify(title)}`);
  }
  const want = Object.entries(expected.links)
    .flatMap(([lt, ids]) => ids.map((id) => `${lt}->${findLinkType(ontology, lt)?.to ?? '?'}/${id}`))
    .sort();
  const have = actual.edges.map((e) => `${e.linkType}->${aggregateKey(e.to)}`).sort();
  const missing = want.filter((x) => !have.includes(x));
  const extra = have.filter((x) => !want.includes(x));
  if (missing.length) problems.push(`missing edges ${missing.join(', ')}`);
  if (extra.length) problems.push(`extra edges ${extra.join(', ')}`);
  return problems;
}

function searchProblems(
  expected: ObjectState,
  actual: SearchDocument | undefined,
  ontology: Ontology,
): string[] {
  const shouldExist = expected.exists || expected.deleted;
  if (!actual) return shouldExist ? ['missing from the search index'] : [];
  if (!shouldExist) return ['has a document for an object that never existed'];
  const want = toSearchDocument(expected, ontology);
  const problems: string[] = [];
  if (actual.version !== want.version) problems.push(`version ${actual.version}, store has ${want.version}`);
  if (actual.deleted !== want.deleted) problems.push(`deleted=${actual.deleted}, store says ${want.deleted}`);
  if (actual.title !== want.title) problems.push(`title '${actual.title}', store has '${want.title}'`);
  if (canonicalJson(actual.properties) !== canonicalJson(want.properties))
    problems.push('properties differ from the store');
  if (sortedLinks(actual.links) !== sortedLinks(want.links))
    problems.push('link summaries differ from the store');
  return problems;
}

const BATCH = 200;

export async function verify(
  deps: { store: EventStore; graph: GraphStore; search: SearchIndex; ontology: OntologyCache },
  progress: Progress = silentProgress,
): Promise<VerifyReport> {
  const { ontology } = await deps.ontology.reload();
  const drift: Drift[] = [];
  let aggregates = 0;
  let batch: ObjectState[] = [];
  const check = async () => {
    const docs = await deps.search.get(batch);
    for (const expected of batch) {
      const ref = { type: expected.type, id: expected.id };
      for (const problem of graphProblems(expected, await deps.graph.state(ref), ontology)) {
        drift.push({ projection: 'graph', ...ref, problem });
      }
      for (const problem of searchProblems(expected, docs.get(aggregateKey(ref)), ontology)) {
        drift.push({ projection: 'search', ...ref, problem });
      }
    }
    batch = [];
    progress.tick(aggregates);
  };
  for await (const ref of deps.store.listAggregates()) {
    if (ref.type === 'ontology') continue;
    const events = [];
    for await (const e of deps.store.readStream(ref)) events.push(e);
    batch.push(foldObject(ref.type, ref.id, events));
    aggregates++;
    if (batch.length >= BATCH) await check();
  }
  await check();
  // What the projections hold that the store does not.
  for await (const node of deps.graph.listAggregates()) {
    if (!(await deps.store.readVersion(node, 1))) {
      drift.push({ projection: 'graph', type: node.type, id: node.id, problem: 'not in the event store' });
    }
  }
  for await (const doc of deps.search.listDocuments()) {
    if (!(await deps.store.readVersion(doc, 1))) {
      drift.push({ projection: 'search', type: doc.type, id: doc.id, problem: 'not in the event store' });
    }
  }
  return { aggregates, drift };
}
