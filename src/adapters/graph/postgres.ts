/**
 * The graph on PostgreSQL (or PGlite): temporal node intervals (one per title, so the past shows
 * the titles of the past) and edges with valid_from/valid_to in event time, a head row per
 * aggregate for idempotency, traversal by a
 * recursive CTE that is bounded by nodes × depth (it dedups per level instead of tracking paths).
 */
import { type AggregateRef, aggregateKey } from '../../core/keys.js';
import type {
  GraphApplyOutcome,
  GraphMutation,
  GraphNodeState,
  GraphStore,
  TraverseQuery,
  TraverseResult,
} from '../../ports/graph-store.js';
import type { SqlClient, SqlExecutor } from '../../ports/sql.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS strata_graph_heads (
  type text NOT NULL,
  id text NOT NULL,
  version bigint NOT NULL,
  present boolean NOT NULL,
  title text NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE TABLE IF NOT EXISTS strata_graph_nodes (
  type text NOT NULL,
  id text NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz
);
-- The title during the interval; NULL in rows written before titles were kept (the head's then).
-- Checked first: ADD COLUMN IF NOT EXISTS takes an exclusive lock on the table even when it exists.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'strata_graph_nodes'
                   AND column_name = 'title') THEN
    ALTER TABLE strata_graph_nodes ADD COLUMN title text;
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS strata_graph_nodes_ref ON strata_graph_nodes (type, id);
CREATE TABLE IF NOT EXISTS strata_graph_edges (
  from_type text NOT NULL,
  from_id text NOT NULL,
  link_type text NOT NULL,
  to_type text NOT NULL,
  to_id text NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz
);
CREATE INDEX IF NOT EXISTS strata_graph_edges_from ON strata_graph_edges (from_type, from_id);
CREATE INDEX IF NOT EXISTS strata_graph_edges_to ON strata_graph_edges (to_type, to_id);
CREATE UNIQUE INDEX IF NOT EXISTS strata_graph_edges_open
  ON strata_graph_edges (from_type, from_id, link_type, to_type, to_id) WHERE valid_to IS NULL;
`;

interface Head {
  version: number;
  present: boolean;
}

/** SQL: the interval of the node or edge row `alias` holds at the instant bound as $3. */
const heldAt = (alias: string) =>
  `${alias}.valid_from <= $3::timestamptz AND (${alias}.valid_to IS NULL OR ${alias}.valid_to > $3::timestamptz)`;

export class PostgresGraphStore implements GraphStore {
  readonly describe: string;

  constructor(private readonly sql: SqlClient) {
    this.describe = `graph tables on ${sql.describe}`;
  }

  async migrate(): Promise<void> {
    await this.sql.exec(SCHEMA);
  }

  async versions(refs: AggregateRef[]): Promise<Map<string, number>> {
    const heads = await readHeads(this.sql, refs);
    return new Map([...heads].map(([k, h]) => [k, h.version]));
  }

  async apply(mutations: GraphMutation[]): Promise<GraphApplyOutcome> {
    if (mutations.length === 0) return { applied: 0, skipped: 0, needsReset: [] };
    return this.sql.transaction(async (tx) => {
      const heads = await readHeads(tx, mutations, true);
      let applied = 0;
      const needsReset = new Map<string, AggregateRef & { version: number }>();
      for (const m of mutations) {
        const key = aggregateKey(m);
        const head = heads.get(key) ?? { version: 0, present: false };
        if (m.version <= head.version) continue;
        // A delta only applies onto the version right before it (the caller read the head outside
        // this transaction; a rebuild or another worker may have moved it since).
        if (needsReset.has(key) || (m.change.kind !== 'reset' && m.version !== head.version + 1)) {
          needsReset.set(key, {
            type: m.type,
            id: m.id,
            version: Math.max(m.version, needsReset.get(key)?.version ?? 0),
          });
          continue;
        }
        const present = await applyChange(tx, m, head.present);
        const title = m.change.kind === 'node' || m.change.kind === 'reset' ? m.change.title : null;
        await tx.query(
          `INSERT INTO strata_graph_heads (type, id, version, present, title) VALUES ($1, $2, $3, $4, coalesce($5, $2))
           ON CONFLICT (type, id) DO UPDATE SET version = EXCLUDED.version, present = EXCLUDED.present,
             title = coalesce($5, strata_graph_heads.title)
           WHERE strata_graph_heads.version < EXCLUDED.version`,
          [m.type, m.id, m.version, present, title],
        );
        heads.set(key, { version: m.version, present });
        applied++;
      }
      const resets = [...needsReset.values()];
      return { applied, skipped: mutations.length - applied - resets.length, needsReset: resets };
    });
  }

  async node(ref: AggregateRef, asOf?: string): Promise<{ title: string } | undefined> {
    const r = await this.sql.query<{ title: string }>(
      `SELECT coalesce(n.title, h.title) AS title FROM strata_graph_nodes n JOIN strata_graph_heads h USING (type, id)
       WHERE n.type = $1 AND n.id = $2 AND ${heldAt('n')}
       ORDER BY n.valid_from DESC LIMIT 1`,
      [ref.type, ref.id, asOf ?? 'infinity'],
    );
    return r.rows[0];
  }

  async traverse(q: TraverseQuery): Promise<TraverseResult> {
    const at = q.asOf ?? 'infinity';
    const linkTypes = q.linkTypes && q.linkTypes.length > 0 ? q.linkTypes : null;
    const out = q.direction !== 'in';
    const inward = q.direction !== 'out';
    const live = (alias: string) =>
      `${heldAt(alias)} AND ($4::text[] IS NULL OR ${alias}.link_type = ANY($4::text[]))`;
    const nodeLive = (type: string, id: string) =>
      `EXISTS (SELECT 1 FROM strata_graph_nodes n WHERE n.type = ${type} AND n.id = ${id} AND ${heldAt('n')})`;
    const steps = [
      out
        ? `SELECT e.to_type AS type, e.to_id AS id FROM strata_graph_edges e
           WHERE e.from_type = w.type AND e.from_id = w.id AND ${live('e')}`
        : null,
      inward
        ? `SELECT e.from_type AS type, e.from_id AS id FROM strata_graph_edges e
           WHERE e.to_type = w.type AND e.to_id = w.id AND ${live('e')}`
        : null,
    ].filter(Boolean);
    const nodes = await this.sql.query<{ type: string; id: string; depth: number; title: string }>(
      `WITH RECURSIVE walk(type, id, depth) AS (
         SELECT $1::text, $2::text, 0
         UNION
         SELECT s.type, s.id, w.depth + 1
         FROM walk w CROSS JOIN LATERAL (${steps.join(' UNION ALL ')}) s
         WHERE w.depth < $5 AND ${nodeLive('s.type', 's.id')}
       )
       SELECT f.type, f.id, f.depth, coalesce(n.title, h.title) AS title
       FROM (SELECT type, id, min(depth)::int AS depth FROM walk
             WHERE NOT (type = $1 AND id = $2) GROUP BY type, id) f
         JOIN strata_graph_heads h USING (type, id)
         CROSS JOIN LATERAL (
           SELECT n.title FROM strata_graph_nodes n
           WHERE n.type = f.type AND n.id = f.id AND ${heldAt('n')}
           ORDER BY n.valid_from DESC LIMIT 1) n
       ORDER BY f.depth, title, f.type, f.id
       LIMIT $6`,
      [q.start.type, q.start.id, at, linkTypes, q.depth, q.limit + 1],
    );
    const truncated = nodes.rows.length > q.limit;
    const found = nodes.rows.slice(0, q.limit);
    const members = [q.start, ...found];
    const edges = await this.sql.query<{
      from_type: string;
      from_id: string;
      link_type: string;
      to_type: string;
      to_id: string;
    }>(
      `WITH m AS (SELECT * FROM unnest($1::text[], $2::text[]) AS m(type, id))
       SELECT e.from_type, e.from_id, e.link_type, e.to_type, e.to_id FROM strata_graph_edges e
       WHERE (e.from_type, e.from_id) IN (SELECT type, id FROM m) AND (e.to_type, e.to_id) IN (SELECT type, id FROM m)
         AND ${live('e')}
       ORDER BY e.from_type, e.from_id, e.link_type, e.to_type, e.to_id`,
      [members.map((n) => n.type), members.map((n) => n.id), at, linkTypes],
    );
    return {
      nodes: found.map((n) => ({ type: n.type, id: n.id, title: n.title, depth: n.depth })),
      edges: edges.rows.map((e) => ({
        from: { type: e.from_type, id: e.from_id },
        linkType: e.link_type,
        to: { type: e.to_type, id: e.to_id },
      })),
      truncated,
    };
  }

  async state(ref: AggregateRef): Promise<GraphNodeState | undefined> {
    const head = await this.sql.query<{ version: number; present: boolean; title: string; open: number }>(
      `SELECT h.version, h.present,
         coalesce((SELECT n.title FROM strata_graph_nodes n WHERE n.type = h.type AND n.id = h.id
                   AND n.valid_to IS NULL ORDER BY n.valid_from DESC LIMIT 1), h.title) AS title,
         (SELECT count(*) FROM strata_graph_nodes n WHERE n.type = h.type AND n.id = h.id
           AND n.valid_to IS NULL)::int AS open
       FROM strata_graph_heads h WHERE h.type = $1 AND h.id = $2`,
      [ref.type, ref.id],
    );
    const h = head.rows[0];
    if (!h) return undefined;
    const edges = await openEdges(this.sql, ref);
    return {
      ...ref,
      version: Number(h.version),
      exists: h.present,
      title: h.title,
      openIntervals: Number(h.open),
      edges,
    };
  }

  async *listAggregates(): AsyncGenerator<AggregateRef & { version: number }> {
    let after: [string, string] = ['', ''];
    for (;;) {
      const r = await this.sql.query<{ type: string; id: string; version: number }>(
        `SELECT type, id, version FROM strata_graph_heads WHERE (type, id) > ($1, $2) ORDER BY type, id LIMIT 1000`,
        after,
      );
      for (const row of r.rows) yield { type: row.type, id: row.id, version: Number(row.version) };
      if (r.rows.length < 1000) return;
      const last = r.rows[r.rows.length - 1]!;
      after = [last.type, last.id];
    }
  }

  async countIncoming(to: AggregateRef, linkType: string): Promise<number> {
    const r = await this.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM strata_graph_edges
       WHERE to_type = $1 AND to_id = $2 AND link_type = $3 AND valid_to IS NULL`,
      [to.type, to.id, linkType],
    );
    return r.rows[0]?.n ?? 0;
  }

  async clear(): Promise<void> {
    await this.sql.exec('TRUNCATE strata_graph_heads, strata_graph_nodes, strata_graph_edges');
  }

  async ping(): Promise<void> {
    await this.sql.query('SELECT 1');
  }

  async close(): Promise<void> {}
}

async function readHeads(sql: SqlExecutor, refs: AggregateRef[], lock = false): Promise<Map<string, Head>> {
  const unique = [...new Map(refs.map((r) => [aggregateKey(r), r])).values()];
  const r = await sql.query<{ type: string; id: string; version: number; present: boolean }>(
    `SELECT h.type, h.id, h.version, h.present FROM strata_graph_heads h
     JOIN unnest($1::text[], $2::text[]) AS r(type, id) USING (type, id)${lock ? ' FOR UPDATE OF h' : ''}`,
    [unique.map((u) => u.type), unique.map((u) => u.id)],
  );
  return new Map(r.rows.map((h) => [aggregateKey(h), { version: Number(h.version), present: h.present }]));
}

async function openEdges(
  sql: SqlExecutor,
  ref: AggregateRef,
): Promise<{ linkType: string; to: AggregateRef }[]> {
  const r = await sql.query<{ link_type: string; to_type: string; to_id: string }>(
    `SELECT link_type, to_type, to_id FROM strata_graph_edges
     WHERE from_type = $1 AND from_id = $2 AND valid_to IS NULL ORDER BY link_type, to_type, to_id`,
    [ref.type, ref.id],
  );
  return r.rows.map((e) => ({ linkType: e.link_type, to: { type: e.to_type, id: e.to_id } }));
}

async function openNode(tx: SqlExecutor, m: GraphMutation, title: string): Promise<void> {
  await tx.query('INSERT INTO strata_graph_nodes (type, id, valid_from, title) VALUES ($1, $2, $3, $4)', [
    m.type,
    m.id,
    m.at,
    title,
  ]);
}

/**
 * Ending an interval keeps its title: a row from before titles were kept takes the head's, which
 * is still the previous title here (the head is updated after the change is applied).
 */
const END_INTERVAL = `UPDATE strata_graph_nodes SET valid_to = $3,
       title = coalesce(title, (SELECT h.title FROM strata_graph_heads h WHERE h.type = $1 AND h.id = $2))
     WHERE type = $1 AND id = $2 AND valid_to IS NULL`;

/**
 * A new title ends the node's open interval and starts another, so earlier instants keep the old
 * one; a present node that lost its open interval (drift) gets one back.
 */
async function retitleNode(tx: SqlExecutor, m: GraphMutation, title: string): Promise<void> {
  await tx.query(`${END_INTERVAL} AND title IS DISTINCT FROM $4`, [m.type, m.id, m.at, title]);
  await tx.query(
    `INSERT INTO strata_graph_nodes (type, id, valid_from, title)
     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (
       SELECT 1 FROM strata_graph_nodes WHERE type = $1 AND id = $2 AND valid_to IS NULL)`,
    [m.type, m.id, m.at, title],
  );
}

/** The node exists from `m` on with `title`: opened if it was absent, retitled if present. */
async function showNode(tx: SqlExecutor, m: GraphMutation, present: boolean, title: string): Promise<void> {
  if (present) await retitleNode(tx, m, title);
  else await openNode(tx, m, title);
}

async function closeNode(tx: SqlExecutor, m: GraphMutation): Promise<void> {
  await tx.query(END_INTERVAL, [m.type, m.id, m.at]);
  await tx.query(
    'UPDATE strata_graph_edges SET valid_to = $3 WHERE from_type = $1 AND from_id = $2 AND valid_to IS NULL',
    [m.type, m.id, m.at],
  );
}

async function addEdge(tx: SqlExecutor, m: GraphMutation, linkType: string, to: AggregateRef): Promise<void> {
  await tx.query(
    `INSERT INTO strata_graph_edges (from_type, from_id, link_type, to_type, to_id, valid_from)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (from_type, from_id, link_type, to_type, to_id) WHERE valid_to IS NULL DO NOTHING`,
    [m.type, m.id, linkType, to.type, to.id, m.at],
  );
}

async function removeEdge(
  tx: SqlExecutor,
  m: GraphMutation,
  linkType: string,
  to: AggregateRef,
): Promise<void> {
  await tx.query(
    `UPDATE strata_graph_edges SET valid_to = $6
     WHERE from_type = $1 AND from_id = $2 AND link_type = $3 AND to_type = $4 AND to_id = $5 AND valid_to IS NULL`,
    [m.type, m.id, linkType, to.type, to.id, m.at],
  );
}

/** Applies one change; returns whether the node exists afterwards. */
async function applyChange(tx: SqlExecutor, m: GraphMutation, present: boolean): Promise<boolean> {
  const c = m.change;
  switch (c.kind) {
    case 'node':
      await showNode(tx, m, present, c.title);
      return true;
    case 'deleted':
      if (present) await closeNode(tx, m);
      return false;
    case 'edgeAdded':
      await addEdge(tx, m, c.linkType, c.to);
      return present;
    case 'edgeRemoved':
      await removeEdge(tx, m, c.linkType, c.to);
      return present;
    case 'none':
      return present;
    case 'reset': {
      if (!c.exists) {
        if (present) await closeNode(tx, m);
        return false;
      }
      await showNode(tx, m, present, c.title);
      const key = (e: { linkType: string; to: AggregateRef }) => `${e.linkType} ${aggregateKey(e.to)}`;
      const wanted = new Map(c.edges.map((e) => [key(e), e]));
      for (const e of await openEdges(tx, m)) {
        if (wanted.has(key(e))) wanted.delete(key(e));
        else await removeEdge(tx, m, e.linkType, e.to);
      }
      for (const e of wanted.values()) await addEdge(tx, m, e.linkType, e.to);
      return true;
    }
  }
}
