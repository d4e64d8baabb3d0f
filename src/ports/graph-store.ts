/**
 * The graph: object IDs and typed relationships, temporal (valid_from/valid_to in event time),
 * so "the graph as of T" is a query. Idempotent by (aggregate, version).
 */
import type { AggregateRef } from '../core/keys.js';

export type GraphChange =
  /** The object exists from `at` on (created) or its title changed. */
  | { kind: 'node'; title: string }
  /** The object is gone from `at` on; its outgoing edges end too. */
  | { kind: 'deleted' }
  | { kind: 'edgeAdded'; linkType: string; to: AggregateRef }
  | { kind: 'edgeRemoved'; linkType: string; to: AggregateRef }
  /** Only the version advances. */
  | { kind: 'none' }
  /** Replaces the node's current state wholesale (used after a version gap). */
  | { kind: 'reset'; exists: boolean; title: string; edges: { linkType: string; to: AggregateRef }[] };

export interface GraphMutation extends AggregateRef {
  version: number;
  /** Event time (occurred_at) of the change. */
  at: string;
  change: GraphChange;
}

export type Direction = 'out' | 'in' | 'both';

export interface TraverseQuery {
  start: AggregateRef;
  /** Link types to follow; all when empty or absent. */
  linkTypes?: string[];
  direction: Direction;
  /** 1.. max depth. */
  depth: number;
  /** ISO timestamp: traverse the graph as it was then; now when absent. */
  asOf?: string;
  /** Most nodes returned (the start excluded). */
  limit: number;
}

export interface GraphNode extends AggregateRef {
  title: string;
  /** Shortest distance from the start. */
  depth: number;
}

export interface GraphEdge {
  from: AggregateRef;
  linkType: string;
  to: AggregateRef;
}

export interface TraverseResult {
  nodes: GraphNode[];
  edges: GraphEdge[];
  truncated: boolean;
}

/** What the graph holds now for one aggregate; used by `verify`. */
export interface GraphNodeState extends AggregateRef {
  version: number;
  exists: boolean;
  /** The title of the node's current interval (its head's when it has none). */
  title: string;
  /** How many intervals of the node are open now: 1 while it exists, 0 otherwise. */
  openIntervals: number;
  edges: { linkType: string; to: AggregateRef }[];
}

export interface GraphApplyOutcome {
  applied: number;
  skipped: number;
  needsReset: (AggregateRef & { version: number })[];
}

export interface GraphStore {
  readonly describe: string;
  /** Creates the schema if missing. */
  migrate(): Promise<void>;
  /** The last applied version per aggregate (0 when unknown). */
  versions(refs: AggregateRef[]): Promise<Map<string, number>>;
  /**
   * Applies mutations in order, atomically per call; a mutation whose version is not above the
   * stored one is skipped. A delta (anything but `reset`) applies only onto the version right
   * before it; otherwise its aggregate is returned in `needsReset` with the highest version seen,
   * for the caller to send a `reset` built from the event store.
   */
  apply(mutations: GraphMutation[]): Promise<GraphApplyOutcome>;
  /** Whether the object exists at `asOf` (now when absent), with its title. */
  node(ref: AggregateRef, asOf?: string): Promise<{ title: string } | undefined>;
  traverse(query: TraverseQuery): Promise<TraverseResult>;
  /** Current state of one aggregate (undefined when never seen). */
  state(ref: AggregateRef): Promise<GraphNodeState | undefined>;
  /** Every aggregate the graph has seen, with its version. */
  listAggregates(): AsyncIterable<AggregateRef & { version: number }>;
  /** Number of sources linking to `to` now by `linkType` (for inverse cardinality). */
  countIncoming(to: AggregateRef, linkType: string): Promise<number>;
  /** Deletes everything (rebuild). */
  clear(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
