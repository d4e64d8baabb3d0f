/**
 * The read side: objects and history folded from the event store (the truth, with time travel),
 * traversal on the graph, search on the index. Every field a client names is resolved against
 * the ontology here, so no adapter ever sees an unchecked name.
 */
import { StrataError, type Violation } from '../core/errors.js';
import type { EventEnvelope } from '../core/event.js';
import { parseInstant } from '../core/instant.js';
import { type AggregateRef, assertValidId } from '../core/keys.js';
import { evolveObject, initialObjectState, type ObjectState } from '../core/object-aggregate.js';
import { findLinkType, type Ontology, requireObjectType, scalarProblem } from '../core/ontology.js';
import { ownValue } from '../core/own.js';
import type { EventStore } from '../ports/event-store.js';
import type { Direction, GraphStore, TraverseResult } from '../ports/graph-store.js';
import type {
  FieldRef,
  SearchFilter,
  SearchIndex,
  SearchQuery,
  SearchResult,
} from '../ports/search-index.js';
import type { OntologyCache } from './ontology-cache.js';

export interface ObjectView {
  type: string;
  id: string;
  version: number;
  properties: Record<string, unknown>;
  links: Record<string, string[]>;
  createdAt: string | undefined;
  updatedAt: string | undefined;
}

export interface TraverseParams {
  type: string;
  id: string;
  linkTypes?: string[];
  direction?: Direction;
  depth?: number;
  asOf?: string;
  limit?: number;
}

/** The search request as clients send it (POST /v1/search). */
export interface SearchRequest {
  type?: string;
  text?: string;
  filters?: ({ field: string } & {
    eq?: string | number | boolean;
    in?: (string | number | boolean)[];
    gte?: string | number;
    gt?: string | number;
    lte?: string | number;
    lt?: string | number;
    exists?: boolean;
  })[];
  sort?: { field: string; order?: 'asc' | 'desc' }[];
  page?: { size?: number; from?: number };
  aggregations?: { name?: string; terms: string; size?: number }[];
}

export const MAX_DEPTH = 6;
export const MAX_PAGE = 1000;

function viewOf(state: ObjectState): ObjectView {
  return {
    type: state.type,
    id: state.id,
    version: state.version,
    properties: state.properties,
    links: state.links,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}

export class Queries {
  constructor(
    private readonly deps: {
      store: EventStore;
      graph: GraphStore;
      search: SearchIndex;
      ontology: OntologyCache;
    },
  ) {}

  /** The object folded from its events, optionally as of a past instant. */
  async getObject(type: string, id: string, asOf?: string): Promise<ObjectView> {
    assertValidId(id);
    const until = asOf === undefined ? undefined : parseInstant(asOf, 'asOf');
    requireObjectType((await this.deps.ontology.withType(type)).ontology, type);
    let state = initialObjectState(type, id);
    for await (const e of this.deps.store.readStream({ type, id })) {
      if (until !== undefined && Date.parse(e.occurred_at) > until) break;
      state = evolveObject(state, e);
    }
    if (!state.exists) {
      const when = asOf === undefined ? '' : ` as of ${asOf}`;
      throw new StrataError('STRATA_ERR_OBJECT_NOT_FOUND', `${type} '${id}' does not exist${when}`);
    }
    return viewOf(state);
  }

  /** The audit trail of one object: every event, oldest first, paged by version. */
  async history(
    type: string,
    id: string,
    opts: { fromVersion?: number; limit?: number } = {},
  ): Promise<EventEnvelope[]> {
    assertValidId(id);
    requireObjectType((await this.deps.ontology.withType(type)).ontology, type);
    const limit = Math.min(opts.limit ?? 100, MAX_PAGE);
    const events: EventEnvelope[] = [];
    for await (const e of this.deps.store.readStream({ type, id }, { fromVersion: opts.fromVersion ?? 1 })) {
      events.push(e);
      if (events.length >= limit) break;
    }
    // An empty page past the end of an existing stream is a page; no first event means no object.
    if (events.length === 0 && !(await this.deps.store.readVersion({ type, id }, 1))) {
      throw new StrataError('STRATA_ERR_OBJECT_NOT_FOUND', `${type} '${id}' has no history`);
    }
    return events;
  }

  async traverse(p: TraverseParams): Promise<TraverseResult & { start: AggregateRef & { title: string } }> {
    assertValidId(p.id);
    const asOf = p.asOf === undefined ? undefined : new Date(parseInstant(p.asOf, 'asOf')).toISOString();
    const { ontology } = await this.deps.ontology.withType(p.type);
    requireObjectType(ontology, p.type);
    for (const l of p.linkTypes ?? []) {
      if (!findLinkType(ontology, l))
        throw new StrataError('STRATA_ERR_TYPE_UNKNOWN', `link type '${l}' is not in the ontology`);
    }
    const depth = p.depth ?? 1;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
      throw new StrataError('STRATA_ERR_REQUEST_INVALID', `depth must be an integer from 1 to ${MAX_DEPTH}`);
    }
    const start = { type: p.type, id: p.id };
    const node = await this.deps.graph.node(start, asOf);
    if (!node) {
      throw new StrataError(
        'STRATA_ERR_OBJECT_NOT_FOUND',
        `${p.type} '${p.id}' is not in the graph${asOf ? ` as of ${asOf}` : ''} (it may not be projected yet)`,
      );
    }
    const result = await this.deps.graph.traverse({
      start,
      linkTypes: p.linkTypes,
      direction: p.direction ?? 'out',
      depth,
      asOf,
      limit: Math.min(p.limit ?? 1000, 10_000),
    });
    return { start: { ...start, title: node.title }, ...result };
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const { ontology } = request.type
      ? await this.deps.ontology.withType(request.type)
      : await this.deps.ontology.current();
    return this.deps.search.search(resolveSearch(ontology, request));
  }

  /** Events in [from, to]; a bare date as `to` means the end of that (UTC) day. */
  eventsByDate(from: string, to: string): AsyncIterable<EventEnvelope> {
    const f = parseInstant(from, 'from');
    const t = parseInstant(to, 'to', { bareDate: 'end' });
    if (t < f) throw new StrataError('STRATA_ERR_REQUEST_INVALID', 'to is before from');
    return this.deps.store.readByDate(new Date(f), new Date(t));
  }
}

/** Turns a client search request into a query whose every field is checked against the ontology. */
export function resolveSearch(ontology: Ontology, r: SearchRequest): SearchQuery {
  const violations: Violation[] = [];
  const type = r.type === undefined ? undefined : requireObjectType(ontology, r.type);
  const resolve = (field: string, path: string): FieldRef | undefined => {
    if (field === 'title' || field === 'id') return { field, valueType: 'string', array: false };
    if (!type) {
      violations.push({
        path,
        message: `'${field}' needs a type to resolve against (only title and id work without)`,
      });
      return undefined;
    }
    if (field.startsWith('links.')) {
      const link = findLinkType(ontology, field.slice('links.'.length));
      if (!link || link.from !== type.apiName) {
        violations.push({ path, message: `'${field}' is not a link type of ${type.apiName}` });
        return undefined;
      }
      return { field, valueType: 'link', array: true };
    }
    const p = ownValue(type.properties, field);
    if (!p) {
      violations.push({ path, message: `'${field}' is not a property of ${type.apiName}` });
      return undefined;
    }
    if (p.type === 'geopoint' || p.type === 'json') {
      violations.push({ path, message: `'${field}' (${p.type}) cannot be filtered, sorted or aggregated` });
      return undefined;
    }
    return { field, valueType: p.type, array: Boolean(p.array) };
  };
  const checkValue = (f: FieldRef, v: unknown, path: string) => {
    // The engines cast these values: one that cannot be cast must be a 400, not a failed query.
    if (f.valueType === 'date' || f.valueType === 'timestamp') {
      const problem = scalarProblem({ type: f.valueType }, v);
      if (problem) violations.push({ path, message: problem });
      return;
    }
    const numeric = f.valueType === 'integer' || f.valueType === 'double';
    // Integer values are safe integers: a bound beyond them would overflow the engine's long field.
    if (
      f.valueType === 'integer' &&
      typeof v === 'number' &&
      Number.isFinite(v) &&
      Math.abs(v) > Number.MAX_SAFE_INTEGER
    ) {
      violations.push({
        path,
        message: `is outside the range of integer properties (±${Number.MAX_SAFE_INTEGER})`,
      });
      return;
    }
    const ok = numeric
      ? typeof v === 'number' && Number.isFinite(v)
      : f.valueType === 'boolean'
        ? typeof v === 'boolean'
        : typeof v === 'string';
    if (!ok)
      violations.push({
        path,
        message: `must be a ${numeric ? 'number' : f.valueType === 'boolean' ? 'boolean' : 'string'}`,
      });
  };

  const filters: SearchFilter[] = [];
  (r.filters ?? []).forEach((f, i) => {
    const path = `/filters/${i}`;
    const ref = resolve(f.field, `${path}/field`);
    if (!ref) return;
    const ops = ['eq', 'in', 'exists', 'range'].filter((op) =>
      op === 'range'
        ? [f.gte, f.gt, f.lte, f.lt].some((x) => x !== undefined)
        : f[op as 'eq' | 'in' | 'exists'] !== undefined,
    );
    if (ops.length !== 1) {
      violations.push({ path, message: 'give exactly one of eq, in, exists, or a range (gte/gt/lte/lt)' });
      return;
    }
    if (f.eq !== undefined) {
      checkValue(ref, f.eq, `${path}/eq`);
      filters.push({ ...ref, op: 'eq', value: f.eq });
    } else if (f.in !== undefined) {
      if (f.in.length === 0) violations.push({ path: `${path}/in`, message: 'needs at least one value' });
      for (const [j, v] of f.in.entries()) checkValue(ref, v, `${path}/in/${j}`);
      filters.push({ ...ref, op: 'in', values: f.in });
    } else if (f.exists !== undefined) {
      if (f.exists !== true)
        violations.push({ path: `${path}/exists`, message: 'only exists: true is supported' });
      filters.push({ ...ref, op: 'exists' });
    } else {
      if (ref.valueType === 'boolean' || ref.valueType === 'link') {
        violations.push({ path, message: `a range does not apply to ${ref.valueType} fields` });
      }
      for (const k of ['gte', 'gt', 'lte', 'lt'] as const)
        if (f[k] !== undefined) checkValue(ref, f[k], `${path}/${k}`);
      filters.push({ ...ref, op: 'range', gte: f.gte, gt: f.gt, lte: f.lte, lt: f.lt });
    }
  });
  const sort = (r.sort ?? []).flatMap((s, i) => {
    const ref = resolve(s.field, `/sort/${i}/field`);
    if (ref?.valueType === 'link')
      violations.push({ path: `/sort/${i}/field`, message: 'cannot sort by links' });
    else if (ref?.array)
      // An array has no one value to order by (the engines would each pick their own).
      violations.push({
        path: `/sort/${i}/field`,
        message: `cannot sort by '${s.field}', an array property`,
      });
    return ref ? [{ ...ref, order: s.order ?? ('asc' as const) }] : [];
  });
  // Results are keyed by name: a second aggregation of one name would overwrite the first.
  const names = new Set<string>();
  const aggregations = (r.aggregations ?? []).flatMap((a, i) => {
    const name = a.name ?? a.terms;
    if (names.has(name)) {
      violations.push({
        path: `/aggregations/${i}/name`,
        message: `duplicate aggregation name '${name}'${a.name === undefined ? ' (the name defaults to terms)' : ''}`,
      });
    }
    names.add(name);
    const ref = resolve(a.terms, `/aggregations/${i}/terms`);
    return ref ? [{ ...ref, name, size: Math.min(a.size ?? 10, MAX_PAGE) }] : [];
  });
  if (violations.length) {
    throw new StrataError('STRATA_ERR_REQUEST_INVALID', 'the search request is invalid (see violations)', {
      violations,
    });
  }
  return {
    type: type?.apiName,
    text: r.text,
    filters,
    sort,
    from: r.page?.from ?? 0,
    size: Math.min(r.page?.size ?? 20, MAX_PAGE),
    aggregations,
  };
}
