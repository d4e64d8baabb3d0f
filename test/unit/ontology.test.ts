import { describe, expect, it } from 'vitest';
import {
  breakingChanges,
  type Ontology,
  validateOntology,
  validateProperties,
} from '../../src/core/ontology.js';
import { testOntology } from '../support/fixtures.js';

const city = testOntology.objectTypes[0]!;

describe('validateProperties', () => {
  it('accepts a complete, well-typed object', () => {
    expect(
      validateProperties(
        city,
        {
          code: 'PAR',
          name: 'Paris',
          population: 2100000,
          area: 105.4,
          capital: true,
          founded: '0250-01-01',
          updated: '2026-01-02T10:00:00.123+01:00',
          kind: 'metropolis',
          tags: ['a', 'b'],
          location: { lat: 48.85, lon: 2.35 },
          extra: { anything: [1, 'x'] },
        },
        'full',
      ),
    ).toEqual([]);
  });

  it('reports every violation with its JSON pointer', () => {
    const v = validateProperties(
      city,
      {
        code: 'X',
        population: 1.5,
        area: 'big',
        capital: 'yes',
        founded: '2026-13-45',
        updated: '2026-01-02',
        kind: 'megacity',
        tags: ['ok', 3],
        location: { lat: 91, lon: 0 },
        color: 'red',
      },
      'full',
    );
    expect(v).toEqual([
      { path: '/properties/population', message: 'must be an integer' },
      { path: '/properties/area', message: 'must be a finite number' },
      { path: '/properties/capital', message: 'must be a boolean' },
      { path: '/properties/founded', message: 'must be a date (YYYY-MM-DD)' },
      { path: '/properties/updated', message: 'must be an ISO-8601 timestamp with a time zone' },
      { path: '/properties/kind', message: 'must be one of ["metropolis","town","village"]' },
      { path: '/properties/tags/1', message: 'must be a string' },
      { path: '/properties/location', message: 'must be {"lat": -90..90, "lon": -180..180}' },
      { path: '/properties/color', message: 'unknown property of City' },
      { path: '/properties/name', message: 'is required' },
    ]);
  });

  it('lets a patch remove optional properties with null but not required ones or the key', () => {
    expect(validateProperties(city, { population: null }, 'patch')).toEqual([]);
    expect(validateProperties(city, { name: null, code: 'Y' }, 'patch')).toEqual([
      { path: '/properties/name', message: 'is required and cannot be null' },
      { path: '/properties/code', message: 'the primary key cannot change' },
    ]);
  });
});

describe('validateProperties: values the engines do not store as sent', () => {
  it('refuses string values (and string array items, enum values) that begin with a byte-order mark', () => {
    const bom = 'begins with a byte-order mark (U+FEFF), which is not stored reliably';
    expect(
      validateProperties(city, { code: 'B', name: '\ufeffTitle', tags: ['ok', '\ufeffx'] }, 'full'),
    ).toEqual([
      { path: '/properties/name', message: bom },
      { path: '/properties/tags/1', message: bom },
    ]);
    expect(validateProperties(city, { name: '\ufeffTitle' }, 'patch')).toEqual([
      { path: '/properties/name', message: bom },
    ]);
    // a mark after the first character is kept and returned like any other character
    expect(validateProperties(city, { code: 'B', name: 'T\ufeff' }, 'full')).toEqual([]);
  });
});

describe('validateOntology', () => {
  it('accepts the test ontology', () => {
    expect(validateOntology(testOntology)).toEqual([]);
  });

  it('rejects bad names, keys, references and duplicates', () => {
    const bad: Ontology = {
      objectTypes: [
        {
          apiName: 'lower',
          primaryKey: 'id',
          titleProperty: 'nope',
          properties: { id: { type: 'double', required: true } },
        },
        {
          apiName: 'Dup',
          primaryKey: 'id',
          titleProperty: 'id',
          properties: { id: { type: 'string' }, 'Bad-Name': { type: 'string' } },
        },
        {
          apiName: 'Dup',
          primaryKey: 'k',
          titleProperty: 'k',
          properties: { k: { type: 'enum', required: true } },
        },
      ],
      linkTypes: [{ apiName: 'x', from: 'Dup', to: 'Ghost', cardinality: 'many' }],
    };
    expect(validateOntology(bad).map((v) => v.path)).toEqual([
      '/objectTypes/0/apiName',
      '/objectTypes/0/primaryKey',
      '/objectTypes/0/titleProperty',
      '/objectTypes/1/properties/Bad-Name',
      '/objectTypes/1/primaryKey',
      '/objectTypes/2/apiName',
      '/objectTypes/2/properties/k/values',
      '/objectTypes/2/primaryKey',
      '/linkTypes/0/to',
    ]);
  });
});

describe('validateOntology: enum values', () => {
  const withProperties = (properties: Ontology['objectTypes'][number]['properties']): Ontology => ({
    objectTypes: [
      {
        apiName: 'Thing',
        primaryKey: 'id',
        titleProperty: 'id',
        properties: { id: { type: 'string', required: true }, ...properties },
      },
    ],
    linkTypes: [],
  });

  it('refuses values on a non-enum property, an enum without values, duplicate and empty values', () => {
    expect(
      validateOntology(
        withProperties({
          name: { type: 'string', values: ['a'] },
          none: { type: 'enum' },
          empty: { type: 'enum', values: [] },
          twice: { type: 'enum', values: ['a', 'b', 'a'] },
          blank: { type: 'enum', values: ['a', ''] },
        }),
      ),
    ).toEqual([
      {
        path: '/objectTypes/0/properties/name/values',
        message: "only an enum property has values (this one is 'string')",
      },
      {
        path: '/objectTypes/0/properties/none/values',
        message: 'an enum property needs a non-empty values list',
      },
      {
        path: '/objectTypes/0/properties/empty/values',
        message: 'an enum property needs a non-empty values list',
      },
      { path: '/objectTypes/0/properties/twice/values/2', message: "duplicate enum value 'a'" },
      { path: '/objectTypes/0/properties/blank/values/1', message: 'an enum value cannot be empty' },
    ]);
  });

  it('accepts distinct non-empty values on an enum', () => {
    expect(validateOntology(withProperties({ kind: { type: 'enum', values: ['a', 'b'] } }))).toEqual([]);
  });
});

describe('breakingChanges', () => {
  it('allows additive changes', () => {
    const next: Ontology = {
      objectTypes: [
        { ...city, properties: { ...city.properties, motto: { type: 'string' } } },
        ...testOntology.objectTypes.slice(1),
        {
          apiName: 'River',
          primaryKey: 'id',
          titleProperty: 'id',
          properties: { id: { type: 'string', required: true } },
        },
      ],
      linkTypes: [
        ...testOntology.linkTypes,
        { apiName: 'crosses', from: 'River', to: 'City', cardinality: 'many' },
      ],
    };
    expect(breakingChanges(testOntology, next)).toEqual([]);
  });

  it('treats a new title property as breaking (titles are denormalised into the projections)', () => {
    const next: Ontology = {
      ...testOntology,
      objectTypes: [{ ...city, titleProperty: 'code' }, ...testOntology.objectTypes.slice(1)],
    };
    expect(breakingChanges(testOntology, next)).toEqual([
      { path: '/objectTypes/City/titleProperty', message: 'title property changed' },
    ]);
  });

  it('treats narrowing inverseCardinality to one (from many or unset) as breaking, widening as additive', () => {
    const withInverse = (inverseCardinality: 'one' | 'many' | undefined): Ontology => ({
      ...testOntology,
      linkTypes: testOntology.linkTypes.map((l) =>
        l.apiName === 'twinnedWith' ? { ...l, inverseCardinality } : l,
      ),
    });
    const narrowed = [{ path: '/linkTypes/twinnedWith/inverseCardinality', message: 'narrowed to one' }];
    expect(breakingChanges(withInverse('many'), withInverse('one'))).toEqual(narrowed);
    expect(breakingChanges(withInverse(undefined), withInverse('one'))).toEqual(narrowed);
    expect(breakingChanges(withInverse('one'), withInverse('many'))).toEqual([]);
    expect(breakingChanges(withInverse('one'), withInverse(undefined))).toEqual([]);
    expect(breakingChanges(withInverse('one'), withInverse('one'))).toEqual([]);
  });

  it('names removed types and properties, type changes, new required properties and narrowed links', () => {
    const next: Ontology = {
      objectTypes: [
        {
          ...city,
          properties: {
            ...Object.fromEntries(Object.entries(city.properties).filter(([k]) => k !== 'area')),
            population: { type: 'string' },
            motto: { type: 'string', required: true },
          },
        },
      ],
      linkTypes: [{ ...testOntology.linkTypes[1]!, cardinality: 'one' }],
    };
    expect(breakingChanges(testOntology, next)).toEqual([
      { path: '/objectTypes/City/properties/population', message: 'type changed' },
      { path: '/objectTypes/City/properties/area', message: 'property removed' },
      { path: '/objectTypes/City/properties/motto', message: 'new property is required' },
      { path: '/objectTypes/Country', message: 'object type removed' },
      { path: '/linkTypes/inCountry', message: 'link type removed' },
      { path: '/linkTypes/twinnedWith/cardinality', message: 'narrowed to one' },
      { path: '/linkTypes/capitalOf', message: 'link type removed' },
    ]);
  });
});

/** Names that a plain object answers from Object.prototype unless the lookup asks for own properties. */
const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'] as const;

describe('property names that are Object.prototype members', () => {
  const typeWith = (name: string): Ontology['objectTypes'][number] => ({
    apiName: 'Thing',
    primaryKey: 'code',
    titleProperty: 'code',
    properties: { code: { type: 'string', required: true }, [name]: { type: 'string', required: true } },
  });

  it('enforces a required property named like an Object.prototype member on create', () => {
    for (const name of PROTOTYPE_NAMES) {
      expect(validateProperties(typeWith(name), { code: 'A' }, 'full'), name).toEqual([
        { path: `/properties/${name}`, message: 'is required' },
      ]);
      expect(validateProperties(typeWith(name), { code: 'A', [name]: 'x' }, 'full'), name).toEqual([]);
    }
  });

  it('treats a new required property named like an Object.prototype member as breaking', () => {
    for (const name of PROTOTYPE_NAMES) {
      const before: Ontology = {
        objectTypes: [{ ...typeWith(name), properties: { code: { type: 'string', required: true } } }],
        linkTypes: [],
      };
      const after: Ontology = { objectTypes: [typeWith(name)], linkTypes: [] };
      expect(breakingChanges(before, after), name).toEqual([
        { path: `/objectTypes/Thing/properties/${name}`, message: 'new property is required' },
      ]);
      // and removing it again is a removal, not a no-op
      expect(breakingChanges(after, before), name).toEqual([
        { path: `/objectTypes/Thing/properties/${name}`, message: 'property removed' },
      ]);
    }
  });

  it('refuses __proto__ as a property name (it does not match the member-name pattern)', () => {
    const t = typeWith('x');
    const properties = JSON.parse('{"code":{"type":"string","required":true},"__proto__":{"type":"string"}}');
    expect(
      validateOntology({ objectTypes: [{ ...t, properties }], linkTypes: [] }).map((v) => v.path),
    ).toEqual(['/objectTypes/0/properties/__proto__']);
  });
});
