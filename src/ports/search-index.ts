/**
 * The search index: one denormalised document per object, full text, filters, aggregations.
 * Writes are idempotent by version (external versioning); reads go through the active
 * generation so a rebuild fills a new one and swaps atomically (blue/green). While a rebuild
 * runs, live writers also write into it (see `building`), each generation folded on its own.
 */
import type { AggregateRef } from '../core/keys.js';
import type { Ontology, ScalarType } from '../core/ontology.js';

export interface SearchDocument extends AggregateRef {
  version: number;
  /** Soft delete: kept so an older version can never resurrect the object. */
  deleted: boolean;
  title: string;
  properties: Record<string, unknown>;
  /** Link summaries: link type → target IDs. */
  links: Record<string, string[]>;
  updatedAt: string;
}

/** A field of a type: `title`, `id`, a property name, or `links.<linkType>`. */
export interface FieldRef {
  field: string;
  /** Resolved from the ontology by the caller; `link` for `links.*`, `string` for title/id. */
  valueType: ScalarType | 'link';
  /** The field holds several values: an array property, or a link summary. */
  array: boolean;
}

export type SearchFilter = FieldRef &
  (
    | { op: 'eq'; value: string | number | boolean }
    | { op: 'in'; values: (string | number | boolean)[] }
    | {
        op: 'range';
        gte?: string | number;
        lte?: string | number;
        gt?: string | number;
        lt?: string | number;
      }
    | { op: 'exists' }
  );

export interface SearchQuery {
  type?: string;
  text?: string;
  filters: SearchFilter[];
  sort: (FieldRef & { order: 'asc' | 'desc' })[];
  from: number;
  size: number;
  aggregations: (FieldRef & { name: string; size: number })[];
}

export interface SearchHit extends AggregateRef {
  version: number;
  title: string;
  properties: Record<string, unknown>;
  links: Record<string, string[]>;
  score: number | null;
}

export interface SearchResult {
  total: number;
  hits: SearchHit[];
  aggregations: Record<string, { key: string; count: number }[]>;
}

export interface WriteOutcome {
  applied: number;
  /** Documents not newer than the stored version. */
  stale: number;
  /** Documents the engine refused, item by item; `retryable` when a later attempt may succeed. */
  failed: { ref: AggregateRef; version: number; error: string; retryable?: boolean }[];
}

/** A target for writes: the live index, or a generation being rebuilt. */
export interface SearchWriter {
  /** Writes documents; each only if its version is above the stored one. */
  upsert(docs: SearchDocument[]): Promise<WriteOutcome>;
  /** Current documents (deleted ones included) of the given aggregates, by `type/id`. */
  get(refs: AggregateRef[]): Promise<Map<string, SearchDocument>>;
}

export interface SearchRebuild extends SearchWriter {
  /** Makes this generation the one reads see, and drops the old one. */
  activate(): Promise<void>;
  /** Drops this generation. */
  abort(): Promise<void>;
}

export interface SearchIndex extends SearchWriter {
  readonly describe: string;
  /** `upsert` and `get` act on the active generation only. */
  /** Creates storage and explicit mappings from the ontology (idempotent; additive changes only). */
  configure(ontology: Ontology): Promise<void>;
  search(query: SearchQuery): Promise<SearchResult>;
  /** Every document of the active generation, with its version (verify). */
  listDocuments(): AsyncIterable<AggregateRef & { version: number; deleted: boolean }>;
  /** Starts a new empty generation configured for `ontology`. */
  beginRebuild(ontology: Ontology): Promise<SearchRebuild>;
  /**
   * Writers for the generations being rebuilt right now, by any process. A write to one that was
   * activated or dropped meanwhile is harmless.
   */
  building(): Promise<SearchWriter[]>;
  /** Makes written documents visible to search (no-op where writes are visible at once). */
  refresh(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function docKey(ref: AggregateRef): string {
  return `${ref.type}/${ref.id}`;
}
