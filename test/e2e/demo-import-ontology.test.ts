/**
 * `strata import world-countries` on a server whose ontology the user has already extended: the
 * import leaves an ontology alone that holds everything the demo needs, and otherwise PUTs the
 * union (current + demo), so it never removes what the user added.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrataClient } from '../../src/client/index.js';
import type { Ontology } from '../../src/core/ontology.js';
import { ensureOntology } from '../../src/demo/importer.js';
import { worldOntology } from '../../src/demo/world-countries.js';
import { type E2E, startE2E } from './http-harness.js';

let e2e: E2E;
let client: StrataClient;

beforeAll(async () => {
  e2e = await startE2E();
  client = new StrataClient(e2e.url);
}, 120_000);
afterAll(async () => e2e?.stop());

const withoutVersion = ({ version: _, ...o }: Ontology & { version: number }): Ontology => o;

describe('ensureOntology (the ontology step of strata import world-countries)', () => {
  it('PUTs the union when the demo types are missing, keeping a type the user defined', async () => {
    await client.putOntology({
      objectTypes: [
        {
          apiName: 'Widget',
          primaryKey: 'sku',
          titleProperty: 'sku',
          properties: { sku: { type: 'string', required: true } },
        },
      ],
      linkTypes: [],
    });
    expect(await ensureOntology(client, worldOntology)).toBe('extended');
    const now = await client.getOntology();
    expect(now.objectTypes.map((t) => t.apiName).sort()).toEqual(
      ['Widget', ...worldOntology.objectTypes.map((t) => t.apiName)].sort(),
    );
    expect(now.linkTypes.map((l) => l.apiName).sort()).toEqual(
      worldOntology.linkTypes.map((l) => l.apiName).sort(),
    );
  });

  it('leaves alone an ontology where the user added an optional property to Country', async () => {
    const current = withoutVersion(await client.getOntology());
    const country = current.objectTypes.find((t) => t.apiName === 'Country')!;
    country.properties.motto = { type: 'string' };
    await client.putOntology(current);
    const before = await client.getOntology();

    expect(await ensureOntology(client, worldOntology)).toBe('unchanged');
    const after = await client.getOntology();
    expect(after.version).toBe(before.version);
    expect(after.objectTypes.find((t) => t.apiName === 'Country')!.properties.motto).toEqual({
      type: 'string',
    });
  });

  it('adds a demo property the user removed from a fresh type, keeping the user’s property', async () => {
    await e2e.stop();
    e2e = await startE2E();
    client = new StrataClient(e2e.url);
    const partial = structuredClone(worldOntology);
    const country = partial.objectTypes.find((t) => t.apiName === 'Country')!;
    delete country.properties.tld;
    country.properties.motto = { type: 'string' };
    partial.linkTypes = partial.linkTypes.filter((l) => l.apiName !== 'speaks');
    await client.putOntology(partial);

    expect(await ensureOntology(client, worldOntology)).toBe('extended');
    const now = await client.getOntology();
    const props = now.objectTypes.find((t) => t.apiName === 'Country')!.properties;
    expect(props.tld).toEqual({ type: 'string', array: true });
    expect(props.motto).toEqual({ type: 'string' });
    expect(now.linkTypes.some((l) => l.apiName === 'speaks')).toBe(true);
    expect(await ensureOntology(client, worldOntology)).toBe('unchanged');
  }, 120_000);
});
