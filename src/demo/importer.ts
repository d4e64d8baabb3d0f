/**
 * Imports a data set through the public HTTP API (the same command path users take), in
 * parallel across aggregates and in order within one, with deterministic Idempotency-Keys so a
 * re-run after a crash never writes an event twice (and an object whose data changed since its
 * import is refused, 422, instead of being skipped silently: import creates, PATCH changes).
 */
import type { StrataClient } from '../client/index.js';
import { StrataApiError } from '../client/index.js';
import type { LinkTypeDef, ObjectTypeDef, Ontology, PropertyDef } from '../core/ontology.js';
import { ownValue } from '../core/own.js';
import type { DataSet } from './world-countries.js';

export interface ImportSummary {
  /** Objects this run created (not those already there). */
  objects: number;
  /** Links this run added (not those already there). */
  links: number;
  /** Commands the server recognised as already done (same Idempotency-Key). */
  deduplicated: number;
  ms: number;
}

/**
 * The current property holds every value the wanted one does. Whether it is required is the
 * user's to decide: a required property the data lacks fails those creates with a clear 422.
 */
function propertyCovers(current: PropertyDef | undefined, wanted: PropertyDef): boolean {
  return (
    current !== undefined &&
    current.type === wanted.type &&
    Boolean(current.array) === Boolean(wanted.array) &&
    (wanted.values ?? []).every((v) => (current.values ?? []).includes(v))
  );
}

type Cardinality = LinkTypeDef['cardinality'];
/** `many` takes whatever `one` does. */
const cardinalityCovers = (current: Cardinality | undefined, wanted: Cardinality | undefined) =>
  (current ?? 'many') === 'many' || (wanted ?? 'many') === 'one';
const wider = (a: Cardinality | undefined, b: Cardinality | undefined): Cardinality =>
  (a ?? 'many') === 'many' || (b ?? 'many') === 'many' ? 'many' : 'one';

function objectTypeCovers(current: ObjectTypeDef | undefined, wanted: ObjectTypeDef): boolean {
  return (
    current !== undefined &&
    current.primaryKey === wanted.primaryKey &&
    current.titleProperty === wanted.titleProperty &&
    Object.entries(wanted.properties).every(([name, p]) =>
      propertyCovers(ownValue(current.properties, name), p),
    )
  );
}

function linkTypeCovers(current: LinkTypeDef | undefined, wanted: LinkTypeDef): boolean {
  return (
    current !== undefined &&
    current.from === wanted.from &&
    current.to === wanted.to &&
    cardinalityCovers(current.cardinality, wanted.cardinality) &&
    cardinalityCovers(current.inverseCardinality, wanted.inverseCardinality)
  );
}

/**
 * The current ontology plus what `wanted` needs and it lacks: what is there stays (the server
 * refuses a removal); where a wanted definition differs, the wanted one is sent and the server
 * says whether that change is allowed.
 */
export function ontologyUnion(current: Ontology, wanted: Ontology): Ontology {
  const objectTypes = current.objectTypes.map((t) => {
    const w = wanted.objectTypes.find((x) => x.apiName === t.apiName);
    if (!w || objectTypeCovers(t, w)) return t;
    const properties = { ...t.properties };
    for (const [name, p] of Object.entries(w.properties)) {
      const have = ownValue(t.properties, name);
      if (!propertyCovers(have, p)) {
        const values = [...new Set([...(have?.values ?? []), ...(p.values ?? [])])];
        // The user's own settings (required, description) stay; type and array are the data's.
        properties[name] = {
          ...have,
          ...p,
          ...(have ? { required: have.required } : {}),
          ...(p.values ? { values } : {}),
        };
      }
    }
    return { ...t, primaryKey: w.primaryKey, titleProperty: w.titleProperty, properties };
  });
  for (const w of wanted.objectTypes) {
    if (!objectTypes.some((t) => t.apiName === w.apiName)) objectTypes.push(w);
  }
  const linkTypes = current.linkTypes.map((l) => {
    const w = wanted.linkTypes.find((x) => x.apiName === l.apiName);
    if (!w || linkTypeCovers(l, w)) return l;
    return {
      ...l,
      from: w.from,
      to: w.to,
      cardinality: wider(l.cardinality, w.cardinality),
      inverseCardinality: wider(l.inverseCardinality, w.inverseCardinality),
    };
  });
  for (const w of wanted.linkTypes) {
    if (!linkTypes.some((l) => l.apiName === w.apiName)) linkTypes.push(w);
  }
  return { objectTypes, linkTypes };
}

/** Whether `current` already holds every object type (with its properties) and link type of `wanted`. */
export function ontologyCovers(current: Ontology, wanted: Ontology): boolean {
  return (
    wanted.objectTypes.every((w) =>
      objectTypeCovers(
        current.objectTypes.find((t) => t.apiName === w.apiName),
        w,
      ),
    ) &&
    wanted.linkTypes.every((w) =>
      linkTypeCovers(
        current.linkTypes.find((l) => l.apiName === w.apiName),
        w,
      ),
    )
  );
}

/**
 * Makes the server's ontology hold what an import needs without removing anything a user added
 * since: unchanged when it already does, else the union is PUT with the version it was read at.
 */
export async function ensureOntology(
  client: StrataClient,
  wanted: Ontology,
): Promise<'unchanged' | 'extended'> {
  const { version, ...current } = await client.getOntology();
  if (ontologyCovers(current, wanted)) return 'unchanged';
  await client.putOntology({ ...ontologyUnion(current, wanted), version });
  return 'extended';
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function importDataSet(
  client: StrataClient,
  data: DataSet,
  primaryKeys: Record<string, string>,
  onProgress: (done: number, total: number) => void = () => undefined,
  concurrency = 8,
): Promise<ImportSummary> {
  const started = Date.now();
  const total = data.objects.length + data.links.length;
  let done = 0;
  let deduplicated = 0;
  const written = { objects: 0, links: 0 };
  const tick = (what: keyof typeof written, r: { deduplicated: boolean }) => {
    if (r.deduplicated) deduplicated++;
    else written[what]++;
    onProgress(++done, total);
  };
  await pool(data.objects, concurrency, async (o) => {
    const id = String(o.properties[primaryKeys[o.type]!]);
    try {
      tick(
        'objects',
        await client.createObject(o.type, o.properties, { idempotencyKey: `import:${o.type}:${id}:create` }),
      );
    } catch (e) {
      throw e instanceof StrataApiError ? new Error(`${o.type} ${id}: ${e.message}`) : e;
    }
  });
  const bySource = new Map<string, DataSet['links']>();
  for (const l of data.links) {
    const key = `${l.type}/${l.id}`;
    bySource.set(key, [...(bySource.get(key) ?? []), l]);
  }
  await pool([...bySource.values()], concurrency, async (links) => {
    for (const l of links) {
      try {
        tick(
          'links',
          await client.addLink(l.type, l.id, l.linkType, l.targetId, {
            idempotencyKey: `import:${l.type}:${l.id}:${l.linkType}:${l.targetId}`,
          }),
        );
      } catch (e) {
        throw e instanceof StrataApiError
          ? new Error(`${l.type} ${l.id} ${l.linkType} ${l.targetId}: ${e.message}`)
          : e;
      }
    }
  });
  return { ...written, deduplicated, ms: Date.now() - started };
}
