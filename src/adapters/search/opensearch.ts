/**
 * Search on OpenSearch (or Elasticsearch): one document per object under explicit, strict mappings
 * built from the ontology, external versioning (version = aggregate version) on `_bulk` writes,
 * and generations for blue/green rebuilds. Physical indices are `<prefix>-objects-g<N>`; reads go
 * through the alias `<prefix>-objects`; a generation being built carries the alias
 * `<prefix>-building-g<N>`, so every process finds it and live writes reach it too.
 *
 * Document shape: properties of different object types may share a name with different types, so
 * each document is written as `p.<Type>.<property>` (one mapped field per type and property) and
 * `properties` is rebuilt from `p[type]` on read. Writing that shape (rather than keeping
 * `properties` and copying) stores every value once and needs no per-type copy rules.
 */
import { Client, errors } from '@opensearch-project/opensearch';
import { backoffDelay } from '../../core/backoff.js';
import { EngineUnavailable, StrataError } from '../../core/errors.js';
import type { AggregateRef } from '../../core/keys.js';
import type { Ontology, PropertyDef, ScalarType } from '../../core/ontology.js';
import type {
  FieldRef,
  SearchDocument,
  SearchFilter,
  SearchIndex,
  SearchQuery,
  SearchRebuild,
  SearchResult,
  SearchWriter,
  WriteOutcome,
} from '../../ports/search-index.js';
import { docKey } from '../../ports/search-index.js';

export interface OpenSearchOptions {
  url: string;
  indexPrefix: string;
}

/** The catch-all full-text field: title, id, string and enum properties are copied into it. */
const FULL_TEXT = 'fulltext';
/** Lucene refuses terms over 32766 bytes; longer strings stay searchable as text, not as keywords. */
const KEYWORD_LIMIT = 8191;
/** OpenSearch's default index.max_result_window. */
const MAX_WINDOW = 10_000;
const BULK_DOCS = 500;
const LIST_PAGE = 1000;
const RETRY_ATTEMPTS = 5;

type Json = Record<string, unknown>;

interface StoredDoc {
  type: string;
  id: string;
  version: number;
  deleted: boolean;
  title: string;
  updatedAt: string;
  p?: Record<string, Record<string, unknown>>;
  links?: Record<string, string[]>;
}

interface ErrorCause {
  type?: string;
  reason?: string;
  caused_by?: ErrorCause;
}

interface BulkItem {
  status: number;
  error?: ErrorCause;
}

interface SearchBody {
  hits: {
    total?: { value: number };
    hits: { _score: number | null; _source: StoredDoc; sort?: unknown[] }[];
  };
  aggregations?: Record<
    string,
    { buckets: { key: string | number; key_as_string?: string; doc_count: number }[] }
  >;
}

interface MgetBody {
  docs: { found?: boolean; _source?: StoredDoc }[];
}

/** One write destination: an alias, and whether its absence is an error or a finished rebuild. */
interface Target {
  alias: string;
  required: boolean;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function causeText(c: ErrorCause | undefined): string {
  if (!c) return 'unknown error';
  const own = `${c.type ?? 'error'}: ${c.reason ?? ''}`.trim();
  return c.caused_by ? `${own} (${causeText(c.caused_by)})` : own;
}

function propertyMapping(p: PropertyDef): Json {
  switch (p.type) {
    case 'string':
    case 'enum':
      return { type: 'keyword', ignore_above: KEYWORD_LIMIT, copy_to: [FULL_TEXT] };
    case 'integer':
      return { type: 'long' };
    case 'double':
      return { type: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
    case 'timestamp':
      return { type: 'date' };
    case 'geopoint':
      return { type: 'geo_point' };
    case 'json':
      return { type: 'object', enabled: false };
  }
}

/** The explicit mapping of one generation: nothing outside the ontology is accepted. */
export function mappingFor(ontology: Ontology): Json {
  const types: Json = {};
  for (const t of ontology.objectTypes) {
    const props: Json = {};
    for (const [name, p] of Object.entries(t.properties)) props[name] = propertyMapping(p);
    types[t.apiName] = { type: 'object', dynamic: 'strict', properties: props };
  }
  const links: Json = {};
  for (const l of ontology.linkTypes) links[l.apiName] = { type: 'keyword' };
  return {
    dynamic: 'strict',
    properties: {
      type: { type: 'keyword' },
      id: { type: 'keyword', copy_to: [FULL_TEXT] },
      version: { type: 'long' },
      deleted: { type: 'boolean' },
      updatedAt: { type: 'date' },
      title: {
        type: 'text',
        copy_to: [FULL_TEXT],
        fields: { keyword: { type: 'keyword', ignore_above: KEYWORD_LIMIT } },
      },
      [FULL_TEXT]: { type: 'text' },
      p: { type: 'object', dynamic: 'strict', properties: types },
      links: { type: 'object', dynamic: 'strict', properties: links },
    },
  };
}

function toStored(d: SearchDocument): StoredDoc {
  return {
    type: d.type,
    id: d.id,
    version: d.version,
    deleted: d.deleted,
    title: d.title,
    updatedAt: d.updatedAt,
    p: { [d.type]: d.properties },
    links: d.links,
  };
}

function fromStored(s: StoredDoc): SearchDocument {
  return {
    type: s.type,
    id: s.id,
    version: Number(s.version),
    deleted: s.deleted,
    title: s.title,
    properties: s.p?.[s.type] ?? {},
    links: s.links ?? {},
    updatedAt: s.updatedAt,
  };
}

/** The indexed field behind a resolved FieldRef (keyword, number, date or boolean). */
function fieldPath(type: string | undefined, f: FieldRef): string {
  if (f.field === 'title') return 'title.keyword';
  if (f.field === 'id') return 'id';
  if (f.valueType === 'link') return f.field;
  if (!type) {
    throw new StrataError('STRATA_ERR_REQUEST_INVALID', `'${f.field}' needs a type to resolve against`);
  }
  return `p.${type}.${f.field}`;
}

function unmappedType(t: ScalarType | 'link'): string {
  switch (t) {
    case 'integer':
      return 'long';
    case 'double':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'date':
    case 'timestamp':
      return 'date';
    default:
      return 'keyword';
  }
}

function filterClause(type: string | undefined, f: SearchFilter): Json {
  if (f.op === 'exists') {
    // Title and ID are always present, as in the Postgres adapter.
    if (f.field === 'title' || f.field === 'id') return { match_all: {} };
    return { exists: { field: fieldPath(type, f) } };
  }
  const field = fieldPath(type, f);
  if (f.op === 'eq') return { term: { [field]: f.value } };
  if (f.op === 'in') return f.values.length ? { terms: { [field]: f.values } } : { match_none: {} };
  const range: Json = {};
  for (const k of ['gte', 'gt', 'lte', 'lt'] as const) if (f[k] !== undefined) range[k] = f[k];
  return { range: { [field]: range } };
}

function bucketKey(b: { key: string | number; key_as_string?: string }): string {
  return b.key_as_string ?? String(b.key);
}

/**
 * Web-search syntax, as the Postgres adapter reads it (websearch_to_tsquery): words are AND-ed,
 * `or` between words, `-word` excludes, "quoted phrases"; every other character is plain text.
 */
function textQuery(text: string): Json {
  // `*` (a lone one matches everything) and `|` are plain text to websearch_to_tsquery: drop them
  // before `or` becomes the engine's `|`.
  const plain = text.replace(/[*|]/g, ' ');
  if (!/[\p{L}\p{N}]/u.test(plain)) return { match_none: {} };
  return {
    simple_query_string: {
      query: plain.replace(/(^|\s)or(?=\s|$)/gi, '$1|'),
      fields: [FULL_TEXT, 'title^2'],
      default_operator: 'and',
      flags: 'OR|NOT|PHRASE|WHITESPACE',
    },
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class OpenSearchIndex implements SearchIndex {
  readonly describe: string;
  /** The alias reads go through; it names the active generation. */
  readonly readAlias: string;
  private readonly client: Client;
  private readonly url: string;
  private readonly generationName: RegExp;
  private readonly buildingName: RegExp;
  private reachable = false;

  constructor(private readonly options: OpenSearchOptions) {
    this.url = redact(options.url);
    this.readAlias = `${options.indexPrefix}-objects`;
    this.describe = `opensearch ${this.url} (${this.readAlias})`;
    this.generationName = new RegExp(`^${escapeRegExp(options.indexPrefix)}-objects-g(\\d+)$`);
    this.buildingName = new RegExp(`^${escapeRegExp(options.indexPrefix)}-building-g(\\d+)$`);
    this.client = new Client({ node: options.url, requestTimeout: 60_000, maxRetries: 3 });
  }

  private generationIndex(n: number): string {
    return `${this.options.indexPrefix}-objects-g${n}`;
  }

  private buildingAlias(n: number): string {
    return `${this.options.indexPrefix}-building-g${n}`;
  }

  /** Runs one request, turning transport failures into EngineUnavailable and refusals into typed errors. */
  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (
        e instanceof errors.ConnectionError ||
        e instanceof errors.NoLivingConnectionsError ||
        e instanceof errors.TimeoutError
      ) {
        throw new EngineUnavailable(
          'opensearch',
          `${this.url} unreachable (STRATA_SEARCH_URL): ${e.message}`,
          e,
        );
      }
      if (e instanceof errors.ResponseError) {
        const reason = (e.body as { error?: ErrorCause } | undefined)?.error;
        const detail = `${what}: ${reason ? causeText(reason) : `HTTP ${e.statusCode}`}`;
        if (e.statusCode === 429 || e.statusCode >= 500) throw new EngineUnavailable('opensearch', detail, e);
        throw new StrataError('STRATA_ERR_INTERNAL', `opensearch: ${detail}`, { cause: e });
      }
      throw e;
    }
  }

  /** Fails fast (no retries, short timeout) when the URL does not answer. */
  private async ensureReachable(): Promise<void> {
    if (this.reachable) return;
    await this.ping();
    this.reachable = true;
  }

  /** Every generation index of this prefix with its aliases. */
  private async generations(): Promise<{ index: string; n: number; aliases: string[] }[]> {
    const r = await this.call('list generations', () =>
      this.client.indices.getAlias({ index: `${this.options.indexPrefix}-objects-g*` }, { ignore: [404] }),
    );
    const body = (r.body ?? {}) as Record<string, { aliases?: Record<string, unknown> }>;
    return Object.entries(body).flatMap(([index, v]) => {
      const m = this.generationName.exec(index);
      return m ? [{ index, n: Number(m[1]), aliases: Object.keys(v.aliases ?? {}) }] : [];
    });
  }

  /** Creates generation `n` with `alias`; false when that index already exists (a concurrent creator). */
  private async createGeneration(n: number, ontology: Ontology, alias: string): Promise<boolean> {
    try {
      await this.client.indices.create({
        index: this.generationIndex(n),
        body: {
          // Namespaced properties multiply fields (types × properties); the default limit is 1000.
          settings: { 'index.mapping.total_fields.limit': 10_000 },
          mappings: mappingFor(ontology),
          aliases: { [alias]: {} },
        },
      });
      return true;
    } catch (e) {
      if (
        e instanceof errors.ResponseError &&
        (e.body as { error?: ErrorCause })?.error?.type === 'resource_already_exists_exception'
      ) {
        return false;
      }
      return this.call('create index', () => Promise.reject(e));
    }
  }

  async configure(ontology: Ontology): Promise<void> {
    await this.ensureReachable();
    for (let attempt = 0; attempt < 5; attempt++) {
      const gens = await this.generations();
      if (gens.some((g) => g.aliases.includes(this.readAlias))) {
        // Additive: new types, properties and link types become new fields of every generation.
        const { properties, dynamic } = mappingFor(ontology);
        await this.call('put mapping', () =>
          this.client.indices.putMapping({
            index: gens.map((g) => g.index),
            body: { dynamic, properties } as Json,
          }),
        );
        return;
      }
      const next = Math.max(0, ...gens.map((g) => g.n)) + 1;
      if (await this.createGeneration(next, ontology, this.readAlias)) return;
    }
    throw new EngineUnavailable(
      'opensearch',
      `could not create ${this.readAlias}: generations keep appearing concurrently`,
    );
  }

  /** Aliases of generations being built, looked up on every write so other processes' rebuilds are seen. */
  private async buildingAliases(): Promise<string[]> {
    const r = await this.call('list rebuilds', () =>
      this.client.indices.getAlias({ name: `${this.options.indexPrefix}-building-g*` }, { ignore: [404] }),
    );
    const body = (r.body ?? {}) as Record<string, { aliases?: Record<string, unknown> }>;
    return Object.values(body).flatMap((v) =>
      Object.keys(v.aliases ?? {}).filter((a) => this.buildingName.test(a)),
    );
  }

  async upsert(docs: SearchDocument[]): Promise<WriteOutcome> {
    if (docs.length === 0) return { applied: 0, stale: 0, failed: [] };
    return this.write([{ alias: this.readAlias, required: true }], docs);
  }

  async building(): Promise<SearchWriter[]> {
    // Not required: a generation activated or dropped since the lookup just answers 404.
    return (await this.buildingAliases()).map((alias) => ({
      upsert: (docs) => this.write([{ alias, required: false }], docs),
      get: (refs) => this.mget(alias, refs),
    }));
  }

  /**
   * Bulk-indexes the newest version of each aggregate into every target with external versioning.
   * Per document: failed if any target refused it, else applied if any target took it, else stale.
   */
  private async write(targets: Target[], docs: SearchDocument[]): Promise<WriteOutcome> {
    const latest = new Map<string, SearchDocument>();
    for (const d of docs) {
      const k = docKey(d);
      if ((latest.get(k)?.version ?? -1) < d.version) latest.set(k, d);
    }
    const outcome: WriteOutcome = { applied: 0, stale: docs.length - latest.size, failed: [] };
    const all = [...latest.values()];
    for (let i = 0; i < all.length; i += BULK_DOCS) {
      const chunk = all.slice(i, i + BULK_DOCS);
      const results = await this.bulkWithRetry(chunk, targets);
      chunk.forEach((d, j) => {
        const items = results[j]!;
        const refused = items.find(
          (it, t) => it.error && it.status !== 409 && !(it.status === 404 && !targets[t]!.required),
        );
        if (refused) {
          outcome.failed.push({
            ref: { type: d.type, id: d.id },
            version: d.version,
            error: causeText(refused.error),
            // Load, engine faults and a mapping not yet updated for a new type pass; bad data does not.
            retryable:
              refused.status === 429 ||
              refused.status >= 500 ||
              refused.error?.type === 'strict_dynamic_mapping_exception',
          });
        } else if (items.some((it) => it.status === 200 || it.status === 201)) {
          outcome.applied++;
        } else {
          outcome.stale++;
        }
      });
    }
    return outcome;
  }

  /** One bulk request per attempt; items the engine rejected for load (429) are sent again with backoff. */
  private async bulkWithRetry(docs: SearchDocument[], targets: Target[]): Promise<BulkItem[][]> {
    const results: BulkItem[][] = docs.map(() => targets.map(() => ({ status: 0 })));
    let pending = docs.flatMap((_, d) => targets.map((_, t) => ({ d, t })));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const body = pending.flatMap(({ d, t }) => {
        const doc = docs[d]!;
        return [
          {
            index: {
              _index: targets[t]!.alias,
              _id: docKey(doc),
              version: doc.version,
              version_type: 'external',
            },
          },
          toStored(doc),
        ];
      });
      // require_alias: a target whose generation was just dropped must fail, never be auto-created.
      const r = await this.call('bulk write', () => this.client.bulk({ body, require_alias: true }));
      const items = (r.body.items ?? []).map((it) => (it.index ?? {}) as BulkItem);
      const again: typeof pending = [];
      for (const [i, p] of pending.entries()) {
        const item = items[i] ?? {
          status: 500,
          error: { type: 'missing_item', reason: 'no result for this item' },
        };
        const target = targets[p.t]!;
        if (item.status === 404 && target.required) {
          // The whole batch is retried by the caller once the alias exists again (e.g. mid-swap).
          throw new EngineUnavailable('opensearch', `${target.alias}: ${causeText(item.error)}`);
        }
        if (item.status === 429 && attempt < RETRY_ATTEMPTS) again.push(p);
        else results[p.d]![p.t] = item;
      }
      pending = again;
      if (pending.length) await delay(backoffDelay(attempt + 1, 100, 5_000));
    }
    return results;
  }

  private async mget(index: string, refs: AggregateRef[]): Promise<Map<string, SearchDocument>> {
    if (refs.length === 0) return new Map();
    const r = await this.call('get documents', () =>
      this.client.mget({ index, body: { ids: [...new Set(refs.map((x) => docKey(x)))] } }),
    );
    const found = (r.body as unknown as MgetBody).docs.filter((d) => d.found && d._source);
    return new Map(found.map((d) => [docKey(d._source!), fromStored(d._source!)]));
  }

  get(refs: AggregateRef[]): Promise<Map<string, SearchDocument>> {
    return this.mget(this.readAlias, refs);
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    if (q.from + q.size > MAX_WINDOW) {
      throw new StrataError(
        'STRATA_ERR_REQUEST_INVALID',
        `page.from + page.size must not exceed ${MAX_WINDOW}`,
      );
    }
    const filter: Json[] = [{ term: { deleted: false } }];
    if (q.type) filter.push({ term: { type: q.type } });
    for (const f of q.filters) filter.push(filterClause(q.type, f));
    const text = q.text?.trim() ? q.text : undefined;
    const must: Json[] = text ? [textQuery(text)] : [];
    const sort: Json[] = q.sort.map((s) => ({
      [fieldPath(q.type, s)]: { order: s.order, missing: '_last', unmapped_type: unmappedType(s.valueType) },
    }));
    if (text && sort.length === 0) sort.push({ _score: { order: 'desc' } });
    sort.push({ 'title.keyword': { order: 'asc' } }, { type: { order: 'asc' } }, { id: { order: 'asc' } });
    const aggs: Json = {};
    q.aggregations.forEach((a, i) => {
      if (a.size <= 0) return;
      aggs[`a${i}`] = {
        terms: {
          field: fieldPath(q.type, a),
          size: a.size,
          order: [{ _count: 'desc' }, { _key: 'asc' }],
          // Dates come back as written (YYYY-MM-DD), like the Postgres adapter's keys.
          ...(a.valueType === 'date' ? { format: 'yyyy-MM-dd' } : {}),
        },
      };
    });
    const r = await this.call('search', () =>
      this.client.search({
        index: this.readAlias,
        body: {
          query: { bool: { filter, must } },
          from: q.from,
          size: q.size,
          sort,
          track_total_hits: true,
          track_scores: Boolean(text),
          aggs,
        } as Json,
      }),
    );
    const body = r.body as unknown as SearchBody;
    // Built from entries, so a name such as __proto__ is an own key, not the prototype.
    const aggregations: SearchResult['aggregations'] = Object.fromEntries(
      q.aggregations.map((a, i) => {
        const buckets = body.aggregations?.[`a${i}`]?.buckets ?? [];
        // Ties in text order of the key (numbers too), as the Postgres adapter orders them.
        const sorted = buckets
          .map((b) => ({ key: bucketKey(b), count: b.doc_count }))
          .sort((x, y) => y.count - x.count || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
        return [a.name, sorted];
      }),
    );
    return {
      total: body.hits.total?.value ?? 0,
      hits: body.hits.hits.map((h) => {
        const d = fromStored(h._source);
        return {
          type: d.type,
          id: d.id,
          version: d.version,
          title: d.title,
          properties: d.properties,
          links: d.links,
          score: text && h._score !== null ? Number(h._score) : null,
        };
      }),
      aggregations,
    };
  }

  async *listDocuments(): AsyncGenerator<AggregateRef & { version: number; deleted: boolean }> {
    let after: unknown[] | undefined;
    for (;;) {
      const r = await this.call('list documents', () =>
        this.client.search({
          index: this.readAlias,
          body: {
            query: { match_all: {} },
            size: LIST_PAGE,
            sort: [{ type: { order: 'asc' } }, { id: { order: 'asc' } }],
            _source: ['type', 'id', 'version', 'deleted'],
            track_total_hits: false,
            ...(after ? { search_after: after } : {}),
          } as Json,
        }),
      );
      const hits = (r.body as unknown as SearchBody).hits.hits;
      for (const h of hits) {
        yield {
          type: h._source.type,
          id: h._source.id,
          version: Number(h._source.version),
          deleted: h._source.deleted,
        };
      }
      if (hits.length < LIST_PAGE) return;
      after = hits[hits.length - 1]!.sort;
    }
  }

  async beginRebuild(ontology: Ontology): Promise<SearchRebuild> {
    await this.configure(ontology);
    let n = 0;
    for (let attempt = 0; n === 0; attempt++) {
      if (attempt >= 5)
        throw new EngineUnavailable(
          'opensearch',
          'could not create a new generation: names keep being taken',
        );
      const next = Math.max(0, ...(await this.generations()).map((g) => g.n)) + 1;
      if (await this.createGeneration(next, ontology, this.buildingAlias(next))) n = next;
    }
    const index = this.generationIndex(n);
    const alias = this.buildingAlias(n);
    return {
      upsert: (docs) => this.write([{ alias, required: true }], docs),
      get: (refs) => this.mget(index, refs),
      activate: async () => {
        const old = (await this.generations()).filter(
          (g) => g.index !== index && g.aliases.includes(this.readAlias),
        );
        // One _aliases call: readers switch to this generation and the old one is gone, atomically.
        await this.call('activate generation', () =>
          this.client.indices.updateAliases({
            body: {
              actions: [
                { add: { index, alias: this.readAlias } },
                { remove: { index, alias } },
                ...old.map((g) => ({ remove_index: { index: g.index } })),
              ],
            },
          }),
        );
      },
      abort: async () => {
        await this.call('drop generation', () => this.client.indices.delete({ index }, { ignore: [404] }));
      },
    };
  }

  async refresh(): Promise<void> {
    await this.call('refresh', () =>
      this.client.indices.refresh({ index: [this.readAlias, `${this.options.indexPrefix}-building-g*`] }),
    );
  }

  async ping(): Promise<void> {
    try {
      await this.client.info({}, { requestTimeout: 5_000, maxRetries: 0 });
    } catch (e) {
      if (e instanceof errors.ResponseError) {
        // Something answered, but not as a usable OpenSearch (a proxy, a secured cluster, …).
        const reason = (e.body as { error?: ErrorCause } | undefined)?.error;
        const detail = `${this.url} refused the start-up check with HTTP ${e.statusCode}${reason ? ` (${causeText(reason)})` : ''}`;
        throw new EngineUnavailable('opensearch', `${detail} (STRATA_SEARCH_URL)`, e);
      }
      await this.call('ping', () => Promise.reject(e));
    }
  }

  /** Deletes every generation of this prefix, with its aliases (tests, uninstall). */
  async deleteAll(): Promise<void> {
    const gens = await this.generations();
    if (gens.length === 0) return;
    await this.call('delete indices', () =>
      this.client.indices.delete({ index: gens.map((g) => g.index) }, { ignore: [404] }),
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The OpenSearch search index for a URL and index prefix (no request is made until configure/ping). */
export function createOpenSearchIndex(options: OpenSearchOptions): OpenSearchIndex {
  return new OpenSearchIndex(options);
}
