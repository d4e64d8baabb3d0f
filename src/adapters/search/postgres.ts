/**
 * Search on PostgreSQL (or PGlite): one JSONB document per object with a tsvector for full text,
 * typed filters and terms aggregations built from ontology-resolved fields (never raw SQL), and
 * generations for blue/green rebuilds: reads and live writes use the active one; `building()`
 * hands the projector the generations being rebuilt so it writes them too, each folded on its own.
 */
import type { AggregateRef } from '../../core/keys.js';
import type { Ontology } from '../../core/ontology.js';
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
import type { SqlClient } from '../../ports/sql.js';

/** The PostgreSQL type a property type is compared as (the rest compare as text: ISO dates sort as text). */
const SQL_TYPES: Partial<Record<string, string>> = {
  integer: 'numeric',
  double: 'numeric',
  boolean: 'boolean',
  timestamp: 'timestamptz',
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS strata_search_generations (
  generation int PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('active', 'building'))
);
CREATE UNIQUE INDEX IF NOT EXISTS strata_search_one_active ON strata_search_generations (state) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS strata_search_docs (
  generation int NOT NULL,
  type text NOT NULL,
  id text NOT NULL,
  version bigint NOT NULL,
  deleted boolean NOT NULL,
  title text NOT NULL,
  properties jsonb NOT NULL,
  links jsonb NOT NULL,
  updated_at timestamptz NOT NULL,
  tsv tsvector NOT NULL,
  PRIMARY KEY (generation, type, id)
);
CREATE INDEX IF NOT EXISTS strata_search_docs_tsv ON strata_search_docs USING gin (tsv);
CREATE INDEX IF NOT EXISTS strata_search_docs_props ON strata_search_docs USING gin (properties jsonb_path_ops);
INSERT INTO strata_search_generations (generation, state)
  SELECT 1, 'active' WHERE NOT EXISTS (SELECT 1 FROM strata_search_generations WHERE state = 'active');
`;

const ACTIVE = `(SELECT generation FROM strata_search_generations WHERE state = 'active')`;

interface DocRow {
  type: string;
  id: string;
  version: number;
  deleted: boolean;
  title: string;
  properties: Record<string, unknown>;
  links: Record<string, string[]>;
  updated_at: Date;
}

function toDoc(r: DocRow): SearchDocument {
  return {
    type: r.type,
    id: r.id,
    version: Number(r.version),
    deleted: r.deleted,
    title: r.title,
    properties: r.properties,
    links: r.links,
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** Writes into the generations selected by `target` (an SQL expression yielding generation ids). */
async function upsertInto(sql: SqlClient, target: string, docs: SearchDocument[]): Promise<WriteOutcome> {
  if (docs.length === 0) return { applied: 0, stale: 0, failed: [] };
  // The newest version per aggregate wins within one call too.
  const latest = new Map<string, SearchDocument>();
  for (const d of docs) {
    const k = docKey(d);
    if ((latest.get(k)?.version ?? -1) < d.version) latest.set(k, d);
  }
  const rows = [...latest.values()];
  const r = await sql.query(
    `INSERT INTO strata_search_docs (generation, type, id, version, deleted, title, properties, links, updated_at, tsv)
     SELECT g.generation, d.type, d.id, d.version, d.deleted, d.title, d.properties, d.links, d."updatedAt",
       to_tsvector('simple', d.title || ' ' || d.id || ' ' ||
         coalesce((SELECT string_agg(value, ' ') FROM jsonb_each_text(d.properties)), ''))
     FROM jsonb_to_recordset($1::jsonb) AS d(type text, id text, version bigint, deleted boolean, title text,
       properties jsonb, links jsonb, "updatedAt" timestamptz)
     CROSS JOIN (${target}) AS g(generation)
     ON CONFLICT (generation, type, id) DO UPDATE SET
       version = EXCLUDED.version, deleted = EXCLUDED.deleted, title = EXCLUDED.title,
       properties = EXCLUDED.properties, links = EXCLUDED.links, updated_at = EXCLUDED.updated_at, tsv = EXCLUDED.tsv
     WHERE strata_search_docs.version < EXCLUDED.version
     RETURNING generation, type, id`,
    [JSON.stringify(rows)],
  );
  const applied = new Set((r.rows as { type: string; id: string }[]).map((x) => docKey(x))).size;
  return { applied, stale: docs.length - applied, failed: [] };
}

async function getFrom(
  sql: SqlClient,
  generation: string,
  refs: AggregateRef[],
): Promise<Map<string, SearchDocument>> {
  if (refs.length === 0) return new Map();
  const r = await sql.query<DocRow>(
    `SELECT d.type, d.id, d.version, d.deleted, d.title, d.properties, d.links, d.updated_at
     FROM strata_search_docs d JOIN unnest($1::text[], $2::text[]) AS r(type, id) USING (type, id)
     WHERE d.generation = ${generation}`,
    [refs.map((x) => x.type), refs.map((x) => x.id)],
  );
  return new Map(r.rows.map((row) => [docKey(row), toDoc(row)]));
}

/** Whether a field holds several values (an array property or a link summary). */
function isMulti(f: FieldRef): boolean {
  return f.valueType === 'link' || f.array;
}

/** Builds WHERE clauses with every value (field names included) bound as a parameter. */
class QueryBuilder {
  readonly params: unknown[] = [];

  bind(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** The SQL expression of a field as a scalar, cast for comparison. */
  scalar(f: FieldRef): string {
    if (f.field === 'title') return 'd.title';
    if (f.field === 'id') return 'd.id';
    const text = `(d.properties->>${this.bind(f.field)})`;
    const sqlType = SQL_TYPES[f.valueType];
    return sqlType ? `${text}::${sqlType}` : text;
  }

  /** The JSONB array behind a multi-valued field (an array property or links.*). */
  array(f: FieldRef): string {
    if (f.valueType === 'link')
      return `coalesce(d.links->${this.bind(f.field.slice('links.'.length))}, '[]'::jsonb)`;
    return `coalesce(d.properties->${this.bind(f.field)}, '[]'::jsonb)`;
  }

  cast(f: FieldRef, value: unknown): string {
    return `${this.bind(value)}::${SQL_TYPES[f.valueType] ?? 'text'}`;
  }

  filter(f: SearchFilter, multi: boolean): string {
    if (f.op === 'exists') {
      if (multi) return `jsonb_array_length(${this.array(f)}) > 0`;
      return f.field === 'title' || f.field === 'id' ? 'true' : `d.properties ? ${this.bind(f.field)}`;
    }
    if (multi) {
      // Each element compared as its type, like a scalar (numbers as numbers, instants as instants).
      const sqlType = SQL_TYPES[f.valueType] ?? 'text';
      const element = `x::${sqlType}`;
      const values = f.op === 'eq' ? [f.value] : f.op === 'in' ? f.values : undefined;
      if (values) {
        return `EXISTS (SELECT 1 FROM jsonb_array_elements_text(${this.array(f)}) x
                WHERE ${element} = ANY(${this.bind(values.map(String))}::${sqlType}[]))`;
      }
      const parts = this.rangeParts(f, element, f as Extract<SearchFilter, { op: 'range' }>);
      return `EXISTS (SELECT 1 FROM jsonb_array_elements_text(${this.array(f)}) x WHERE ${parts})`;
    }
    const expr = this.scalar(f);
    if (f.op === 'eq') return `${expr} = ${this.cast(f, f.value)}`;
    if (f.op === 'in')
      return `(${f.values.map((v) => `${expr} = ${this.cast(f, v)}`).join(' OR ') || 'false'})`;
    return this.rangeParts(f, expr, f);
  }

  private rangeParts(f: FieldRef, expr: string, r: Extract<SearchFilter, { op: 'range' }>): string {
    const parts: string[] = [];
    if (r.gte !== undefined) parts.push(`${expr} >= ${this.cast(f, r.gte)}`);
    if (r.gt !== undefined) parts.push(`${expr} > ${this.cast(f, r.gt)}`);
    if (r.lte !== undefined) parts.push(`${expr} <= ${this.cast(f, r.lte)}`);
    if (r.lt !== undefined) parts.push(`${expr} < ${this.cast(f, r.lt)}`);
    return parts.length ? parts.join(' AND ') : 'true';
  }
}

export class PostgresSearchIndex implements SearchIndex {
  readonly describe: string;
  constructor(private readonly sql: SqlClient) {
    this.describe = `search tables on ${sql.describe}`;
  }

  async configure(_ontology: Ontology): Promise<void> {
    // Documents are schema-less JSONB: only the tables need to exist.
    await this.sql.exec(SCHEMA);
  }

  upsert(docs: SearchDocument[]): Promise<WriteOutcome> {
    return upsertInto(this.sql, ACTIVE, docs);
  }

  async building(): Promise<SearchWriter[]> {
    const r = await this.sql.query<{ generation: number }>(
      `SELECT generation FROM strata_search_generations WHERE state = 'building' ORDER BY generation`,
    );
    return r.rows.map(({ generation }) => this.generationWriter(Number(generation)));
  }

  /** Writes into one generation while it exists (building, or active once swapped in). */
  private generationWriter(gen: number): SearchWriter {
    return {
      upsert: (docs) =>
        upsertInto(
          this.sql,
          `SELECT generation FROM strata_search_generations WHERE generation = ${gen}`,
          docs,
        ),
      get: (refs) => getFrom(this.sql, String(gen), refs),
    };
  }

  get(refs: AggregateRef[]): Promise<Map<string, SearchDocument>> {
    return getFrom(this.sql, ACTIVE, refs);
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    const b = new QueryBuilder();
    const where = [`d.generation = ${ACTIVE}`, 'NOT d.deleted'];
    if (q.type) where.push(`d.type = ${b.bind(q.type)}`);
    let rank = 'NULL::real';
    if (q.text?.trim()) {
      const tsq = `websearch_to_tsquery('simple', ${b.bind(q.text)})`;
      where.push(`d.tsv @@ ${tsq}`);
      rank = `ts_rank(d.tsv, ${tsq})`;
    }
    for (const f of q.filters) where.push(b.filter(f, isMulti(f)));
    const whereSql = where.join(' AND ');
    const baseParams = [...b.params];

    const order = q.sort.map((s) => `${b.scalar(s)} ${s.order === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`);
    if (q.text?.trim() && order.length === 0) order.push('score DESC');
    order.push('d.title ASC', 'd.type ASC', 'd.id ASC');
    const hits = await this.sql.query<DocRow & { score: number | null }>(
      `SELECT d.type, d.id, d.version, d.deleted, d.title, d.properties, d.links, d.updated_at, ${rank} AS score
       FROM strata_search_docs d WHERE ${whereSql}
       ORDER BY ${order.join(', ')} LIMIT ${b.bind(q.size)} OFFSET ${b.bind(q.from)}`,
      b.params,
    );
    const total = await this.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM strata_search_docs d WHERE ${whereSql}`,
      baseParams,
    );
    // Built from entries, so a name such as __proto__ is an own key, not the prototype.
    const buckets: [string, { key: string; count: number }[]][] = [];
    for (const agg of q.aggregations) {
      const a = new QueryBuilder();
      a.params.push(...baseParams);
      const key = isMulti(agg)
        ? `jsonb_array_elements_text(${a.array(agg)})`
        : agg.field === 'title' || agg.field === 'id'
          ? `d.${agg.field}`
          : `(d.properties->>${a.bind(agg.field)})`;
      const r = await this.sql.query<{ key: string; count: number }>(
        `SELECT k.key, count(*)::int AS count
         FROM (SELECT ${key} AS key FROM strata_search_docs d WHERE ${whereSql}) k
         WHERE k.key IS NOT NULL GROUP BY k.key ORDER BY count DESC, k.key ASC LIMIT ${a.bind(agg.size)}`,
        a.params,
      );
      buckets.push([agg.name, r.rows]);
    }
    const aggregations: SearchResult['aggregations'] = Object.fromEntries(buckets);
    return {
      total: total.rows[0]?.n ?? 0,
      hits: hits.rows.map((h) => ({
        type: h.type,
        id: h.id,
        version: Number(h.version),
        title: h.title,
        properties: h.properties,
        links: h.links,
        score: h.score === null ? null : Number(h.score),
      })),
      aggregations,
    };
  }

  async *listDocuments(): AsyncGenerator<AggregateRef & { version: number; deleted: boolean }> {
    let after = ['', ''];
    for (;;) {
      const r = await this.sql.query<{ type: string; id: string; version: number; deleted: boolean }>(
        `SELECT type, id, version, deleted FROM strata_search_docs
         WHERE generation = ${ACTIVE} AND (type, id) > ($1, $2) ORDER BY type, id LIMIT 1000`,
        after,
      );
      for (const row of r.rows)
        yield { type: row.type, id: row.id, version: Number(row.version), deleted: row.deleted };
      if (r.rows.length < 1000) return;
      const last = r.rows[r.rows.length - 1]!;
      after = [last.type, last.id];
    }
  }

  async beginRebuild(ontology: Ontology): Promise<SearchRebuild> {
    await this.configure(ontology);
    const r = await this.sql.query<{ generation: number }>(
      `INSERT INTO strata_search_generations (generation, state)
       SELECT coalesce(max(generation), 0) + 1, 'building' FROM strata_search_generations RETURNING generation`,
    );
    const gen = Number(r.rows[0]!.generation);
    const sql = this.sql;
    const writer = this.generationWriter(gen);
    return {
      ...writer,
      activate: async () => {
        await sql.transaction(async (tx) => {
          const old = await tx.query<{ generation: number }>(
            `DELETE FROM strata_search_generations WHERE state = 'active' RETURNING generation`,
          );
          await tx.query(`UPDATE strata_search_generations SET state = 'active' WHERE generation = $1`, [
            gen,
          ]);
          for (const o of old.rows)
            await tx.query('DELETE FROM strata_search_docs WHERE generation = $1', [o.generation]);
        });
      },
      abort: async () => {
        await sql.query(
          `DELETE FROM strata_search_generations WHERE generation = $1 AND state = 'building'`,
          [gen],
        );
        await sql.query('DELETE FROM strata_search_docs WHERE generation = $1', [gen]);
      },
    };
  }

  async refresh(): Promise<void> {}

  async ping(): Promise<void> {
    await this.sql.query('SELECT 1');
  }

  async close(): Promise<void> {}
}
