import { describe, expect, it } from 'vitest';
import type { Ontology } from '../../src/core/ontology.js';
import { ontologyCovers, ontologyUnion } from '../../src/demo/importer.js';

const demo: Ontology = {
  objectTypes: [
    {
      apiName: 'Country',
      primaryKey: 'cca3',
      titleProperty: 'name',
      properties: {
        cca3: { type: 'string', required: true },
        name: { type: 'string', required: true },
        region: { type: 'enum', values: ['Africa', 'Europe'] },
      },
    },
    {
      apiName: 'Subregion',
      primaryKey: 'name',
      titleProperty: 'name',
      properties: { name: { type: 'string', required: true } },
    },
  ],
  linkTypes: [{ apiName: 'inSubregion', from: 'Country', to: 'Subregion', cardinality: 'one' }],
};

describe('the import ontology: what the user has is kept', () => {
  it("a user's looser link and required or described properties cover the demo's: nothing to PUT", () => {
    const user: Ontology = structuredClone(demo);
    user.linkTypes[0] = { ...user.linkTypes[0]!, cardinality: 'many', inverseName: 'countries' };
    user.objectTypes[0]!.properties.region = {
      type: 'enum',
      values: ['Africa', 'Europe', 'Oceania'],
      required: true,
    };
    user.objectTypes[0]!.properties.population = { type: 'integer' };
    expect(ontologyCovers(user, demo)).toBe(true);
  });

  it('the union adds what is missing and widens, never narrows or drops what the user set', () => {
    const user: Ontology = structuredClone(demo);
    user.objectTypes[0]!.properties.region = { type: 'enum', values: ['Asia'], required: true };
    user.objectTypes[0]!.properties.population = { type: 'integer' };
    user.linkTypes = [];
    const union = ontologyUnion(user, demo);
    expect(union.objectTypes[0]!.properties.region).toEqual({
      type: 'enum',
      values: ['Asia', 'Africa', 'Europe'],
      required: true,
    });
    expect(union.objectTypes[0]!.properties.population).toEqual({ type: 'integer' });
    expect(union.linkTypes).toEqual(demo.linkTypes);
    expect(ontologyCovers(union, demo)).toBe(true);
  });
});
