/**
 * Imports a data set through the public HTTP API (the same command path users take), in
 * parallel across aggregates and in order within one, with deterministic Idempotency-Keys so a
 * re-run after a crash never writes an event twice (and an object whose data changed since its
 * import is refused, 422, instead of being skipped silently: import creates, PATCH changes).
 */
import type { StrataClient } from '../client/index.js';
import { StrataApiError } from '../client/index.js';
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
