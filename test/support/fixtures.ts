/** Small shared fixtures: an ontology, envelopes, polling with a deadline. */
import type { EventEnvelope } from '../../src/core/event.js';
import type { Ontology } from '../../src/core/ontology.js';

export const testOntology: Ontology = {
  objectTypes: [
    {
      apiName: 'City',
      primaryKey: 'code',
      titleProperty: 'name',
      properties: {
        code: { type: 'string', required: true },
        name: { type: 'string', required: true },
        population: { type: 'integer' },
        area: { type: 'double' },
        capital: { type: 'boolean' },
        founded: { type: 'date' },
        updated: { type: 'timestamp' },
        kind: { type: 'enum', values: ['metropolis', 'town', 'village'] },
        tags: { type: 'string', array: true },
        location: { type: 'geopoint' },
        extra: { type: 'json' },
      },
    },
    {
      apiName: 'Country',
      primaryKey: 'code',
      titleProperty: 'name',
      properties: { code: { type: 'string', required: true }, name: { type: 'string', required: true } },
    },
  ],
  linkTypes: [
    { apiName: 'inCountry', from: 'City', to: 'Country', cardinality: 'one' },
    { apiName: 'twinnedWith', from: 'City', to: 'City', cardinality: 'many' },
    { apiName: 'capitalOf', from: 'City', to: 'Country', cardinality: 'one', inverseCardinality: 'one' },
  ],
};

let seq = 0;

export function envelope(
  partial: Partial<EventEnvelope> & Pick<EventEnvelope, 'aggregate_type' | 'aggregate_id' | 'version'>,
): EventEnvelope {
  seq++;
  const at = partial.occurred_at ?? new Date(Date.UTC(2026, 0, 1, 12) + seq).toISOString();
  const id = partial.event_id ?? `01TEST${String(seq).padStart(20, '0')}`;
  return {
    event_id: id,
    event_type: 'ObjectCreated',
    occurred_at: at,
    actor: 'test',
    command_id: id,
    correlation_id: id,
    causation_id: id,
    schema_version: 1,
    data: { properties: {} },
    ...partial,
  };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
