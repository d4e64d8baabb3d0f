/**
 * Ontology changes against existing data, through HTTP: a change existing events could violate is
 * refused with 422 STRATA_ERR_ONTOLOGY_BREAKING_CHANGE and writes nothing; what the ontology
 * requires is enforced whatever the property is called.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ontology, PropertyDef } from '../../src/core/ontology.js';
import { testOntology } from '../support/fixtures.js';
import {
  type E2E,
  expectNothingWritten,
  expectProblem,
  inject,
  type Res,
  startE2E,
  uid,
} from './http-harness.js';

let e2e: E2E;

// Typed once: in an object literal TypeScript reads `constructor` and `toString` as Object's members.
const requiredString: PropertyDef = { type: 'string', required: true };

/** The test ontology plus a type whose required property is named like an Object.prototype member. */
const ontology: Ontology = structuredClone(testOntology);
ontology.objectTypes.push({
  apiName: 'Gadget',
  primaryKey: 'code',
  titleProperty: 'code',
  properties: { code: requiredString, constructor: requiredString },
});

const put = (payload: unknown) =>
  inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: payload as Record<string, unknown> });
const post = (url: string, payload: unknown) =>
  inject(e2e.app, { method: 'POST', url, payload: payload as Record<string, unknown> });
const rejected = (act: () => Promise<Res>) => expectNothingWritten(e2e.strata, act);

beforeAll(async () => {
  e2e = await startE2E();
  expect((await put(ontology)).status).toBe(202);
});

afterAll(async () => {
  await e2e?.stop();
});

describe('enum values in the definition', () => {
  it('values on a non-enum property, an enum without values, duplicate or empty values → 422 at their pointers', async () => {
    const cases: [PropertyDef, string][] = [
      [{ type: 'string', values: ['a'] }, '/objectTypes/0/properties/odd/values'],
      [{ type: 'enum', values: [] }, '/objectTypes/0/properties/odd/values'],
      [{ type: 'enum', values: ['a', 'a'] }, '/objectTypes/0/properties/odd/values/1'],
      [{ type: 'enum', values: [''] }, '/objectTypes/0/properties/odd/values/0'],
    ];
    for (const [property, path] of cases) {
      const next = structuredClone(ontology);
      next.objectTypes[0]!.properties.odd = property;
      const res = await rejected(() => put(next));
      expect(
        expectProblem(res, 422, 'STRATA_ERR_ONTOLOGY_INVALID').violations?.map((v) => v.path),
        JSON.stringify(property),
      ).toEqual([path]);
    }
  });
});

describe('ontology changes against existing data', () => {
  it('a required property named constructor is enforced on create', async () => {
    const missing = await rejected(() => post('/v1/objects/Gadget', { properties: { code: uid('G') } }));
    expect(expectProblem(missing, 422, 'STRATA_ERR_VALIDATION_FAILED').violations).toEqual([
      { path: '/properties/constructor', message: 'is required' },
    ]);
    const ok = await post('/v1/objects/Gadget', { properties: { code: uid('G'), constructor: 'ACME' } });
    expect(ok.status).toBe(202);
  });

  it('adding a required property named constructor (or toString) to a type with objects → 422', async () => {
    expect(
      (await post('/v1/objects/City', { properties: { code: uid('C'), name: 'Existing' } })).status,
    ).toBe(202);
    const next = structuredClone(ontology);
    Object.assign(next.objectTypes[0]!.properties, { constructor: requiredString, toString: requiredString });
    const res = await rejected(() => put(next));
    expect(expectProblem(res, 422, 'STRATA_ERR_ONTOLOGY_BREAKING_CHANGE').violations).toEqual([
      { path: '/objectTypes/City/properties/constructor', message: 'new property is required' },
      { path: '/objectTypes/City/properties/toString', message: 'new property is required' },
    ]);
  });

  it("narrowing a link type's inverseCardinality from many to one → 422 at its pointer", async () => {
    const [paris, lyon, france] = [uid('P'), uid('L'), uid('F')];
    for (const code of [paris, lyon])
      expect((await post('/v1/objects/City', { properties: { code, name: code } })).status).toBe(202);
    expect((await post('/v1/objects/Country', { properties: { code: france, name: 'F' } })).status).toBe(202);
    // two cities in one country: data that inverseCardinality 'one' would forbid
    for (const city of [paris, lyon])
      expect((await post(`/v1/objects/City/${city}/links/inCountry`, { targetId: france })).status).toBe(202);
    for (const before of [undefined, 'many'] as const) {
      const from = structuredClone(ontology);
      const link = from.linkTypes.find((l) => l.apiName === 'inCountry')!;
      if (before) link.inverseCardinality = before;
      if (before) expect((await put(from)).status).toBe(202);
      const next = structuredClone(from);
      next.linkTypes.find((l) => l.apiName === 'inCountry')!.inverseCardinality = 'one';
      const res = await rejected(() => put(next));
      expect(expectProblem(res, 422, 'STRATA_ERR_ONTOLOGY_BREAKING_CHANGE').violations).toEqual([
        { path: '/linkTypes/inCountry/inverseCardinality', message: 'narrowed to one' },
      ]);
    }
  });
});
