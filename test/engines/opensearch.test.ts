/**
 * What the OpenSearch index must do on a real engine beyond the shared contract: a clear start-up
 * message when the URL does not answer, explicit (strict) mappings from the ontology with
 * per-type namespaces, partial bulk failures reported item by item, and rebuilds another process
 * can see. Collected only by vitest.engines.config.ts (npm run test:all).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenSearchIndex, type OpenSearchIndex } from '../../src/adapters/search/opensearch.js';
import { openStrata } from '../../src/app/runtime.js';
import { loadConfig } from '../../src/config.js';
import { EngineUnavailable } from '../../src/core/errors.js';
import type { Ontology } from '../../src/core/ontology.js';
import type { SearchDocument } from '../../src/ports/search-index.js';
import { requireEnv, uniqueName } from '../support/engines.js';
import { testOntology } from '../support/fixtures.js';

/** testOntology plus a type whose `population` is a string, where City's is an integer. */
const ontology: Ontology = {
  objectTypes: [
    ...testOntology.objectTypes,
    {
      apiName: 'Survey',
      primaryKey: 'code',
      titleProperty: 'code',
      properties: { code: { type: 'string', required: true }, population: { type: 'string' } },
    },
  ],
  linkTypes: testOntology.linkTypes,
};

function doc(type: string, id: string, version: number, properties: Record<string, unknown>): SearchDocument {
  return {
    type,
    id,
    version,
    deleted: false,
    title: id,
    properties: { code: id, ...properties },
    links: {},
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** The part of GET _mapping the assertions read. */
interface FieldMapping {
  type?: string;
  dynamic?: string;
  enabled?: boolean;
  properties?: Record<string, FieldMapping>;
  fields?: Record<string, FieldMapping>;
}
type MappingResponse = Record<string, { mappings: FieldMapping }>;

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('OpenSearch index on a real engine', () => {
  let prefix: string;
  let index: OpenSearchIndex;
  let raw: Client;
  const opened: OpenSearchIndex[] = [];

  beforeEach(() => {
    prefix = uniqueName('t').toLowerCase();
    index = createOpenSearchIndex({ url: requireEnv('STRATA_SEARCH_URL'), indexPrefix: prefix });
    raw = new Client({ node: requireEnv('STRATA_SEARCH_URL') });
  });
  afterEach(async () => {
    await index.deleteAll();
    for (const o of [index, ...opened.splice(0)]) await o.close();
    await raw.close();
  });

  it('names opensearch and STRATA_SEARCH_URL when the URL does not answer at start-up', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = createOpenSearchIndex({ url, indexPrefix: 'strata' });
    opened.push(unreachable);
    const error = await unreachable.configure(ontology).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailable);
    expect((error as EngineUnavailable).message).toMatch(
      new RegExp(`^opensearch: ${url} unreachable \\(STRATA_SEARCH_URL\\): `),
    );
    expect((error as EngineUnavailable).code).toBe('STRATA_ERR_ENGINE_UNAVAILABLE');

    // The same message through the runtime's wiring (embedded everything else).
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-os-'));
    try {
      const started = await openStrata(
        loadConfig({ STRATA_DATA_DIR: dataDir, STRATA_SEARCH_URL: url }),
      ).catch((e: unknown) => e);
      expect(started).toBeInstanceOf(EngineUnavailable);
      expect((started as EngineUnavailable).message).toContain(
        `opensearch: ${url} unreachable (STRATA_SEARCH_URL)`,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('maps the ontology explicitly and strictly, namespaced per type, and adds new fields in place', async () => {
    await index.configure(ontology);
    const r = await raw.indices.getMapping({ index: `${prefix}-objects` });
    const [physical] = Object.keys(r.body);
    expect(physical).toBe(`${prefix}-objects-g1`);
    const mapping = (r.body as MappingResponse)[physical!]!.mappings;
    expect(mapping).toMatchObject({
      dynamic: 'strict',
      properties: {
        type: { type: 'keyword' },
        id: { type: 'keyword' },
        version: { type: 'long' },
        deleted: { type: 'boolean' },
        title: { type: 'text', fields: { keyword: { type: 'keyword' } } },
        links: {
          properties: {
            inCountry: { type: 'keyword' },
            twinnedWith: { type: 'keyword' },
            capitalOf: { type: 'keyword' },
          },
        },
        p: { properties: { Survey: { properties: { population: { type: 'keyword' } } } } },
      },
    });
    const city = mapping.properties?.p?.properties?.City?.properties ?? {};
    expect(Object.fromEntries(Object.entries(city).map(([k, v]) => [k, v.type]))).toEqual({
      code: 'keyword',
      name: 'keyword',
      population: 'long',
      area: 'double',
      capital: 'boolean',
      founded: 'date',
      updated: 'date',
      kind: 'keyword',
      tags: 'keyword',
      location: 'geo_point',
      extra: 'object',
    });
    expect(city.extra?.enabled).toBe(false);

    // The same property name with different types in two object types: both index and filter.
    const outcome = await index.upsert([
      doc('City', 'PAR', 1, { name: 'Paris', population: 2100000 }),
      doc('Survey', 'S1', 1, { population: 'large' }),
    ]);
    expect(outcome).toEqual({ applied: 2, stale: 0, failed: [] });
    // json accepts any JSON value, unindexed.
    expect(
      await index.upsert([
        doc('City', 'J1', 1, { extra: 5 }),
        doc('City', 'J2', 1, { extra: [{ a: { b: 'x' } }, 'y'] }),
      ]),
    ).toEqual({
      applied: 2,
      stale: 0,
      failed: [],
    });
    await index.refresh();
    const survey = await index.search({
      type: 'Survey',
      filters: [{ field: 'population', valueType: 'string', array: false, op: 'eq', value: 'large' }],
      sort: [],
      from: 0,
      size: 10,
      aggregations: [],
    });
    expect(survey.hits.map((h) => h.properties)).toEqual([{ code: 'S1', population: 'large' }]);
    expect((await index.get([{ type: 'City', id: 'J2' }])).get('City/J2')?.properties.extra).toEqual([
      { a: { b: 'x' } },
      'y',
    ]);

    // Additive and idempotent: a new property becomes a field of the existing index.
    const wider: Ontology = {
      ...ontology,
      objectTypes: ontology.objectTypes.map((t) =>
        t.apiName === 'Country' ? { ...t, properties: { ...t.properties, gdp: { type: 'double' } } } : t,
      ),
    };
    await index.configure(wider);
    await index.configure(wider);
    const after = await raw.indices.getMapping({ index: `${prefix}-objects` });
    expect(Object.keys(after.body)).toEqual([physical]);
    expect((after.body as MappingResponse)[physical!]!.mappings).toMatchObject({
      properties: { p: { properties: { Country: { properties: { gdp: { type: 'double' } } } } } },
    });
    expect((await index.get([{ type: 'City', id: 'PAR' }])).get('City/PAR')?.version).toBe(1);
  });

  it('reports refused items one by one and applies the rest of the bulk', async () => {
    await index.configure(ontology);
    const outcome = await index.upsert([
      doc('City', 'OK1', 1, { name: 'Fine', population: 10 }),
      doc('City', 'BAD', 3, { name: 'Broken', population: 'not a number' }),
      doc('City', 'UNK', 1, { name: 'Unknown property', notInOntology: 1 }),
      doc('City', 'OK2', 2, { name: 'Also fine' }),
    ]);
    expect(outcome.applied).toBe(2);
    expect(outcome.stale).toBe(0);
    expect(outcome.failed.map((f) => [f.ref, f.version])).toEqual([
      [{ type: 'City', id: 'BAD' }, 3],
      [{ type: 'City', id: 'UNK' }, 1],
    ]);
    expect(outcome.failed[0]!.error).toMatch(/mapper_parsing_exception.*population/);
    expect(outcome.failed[1]!.error).toMatch(/strict_dynamic_mapping_exception.*notInOntology/);
    const got = await index.get(['OK1', 'BAD', 'UNK', 'OK2'].map((id) => ({ type: 'City', id })));
    expect([...got.keys()].sort()).toEqual(['City/OK1', 'City/OK2']);
  });

  it('lets another process find a running rebuild, so its live writes reach the new generation', async () => {
    const other = createOpenSearchIndex({ url: requireEnv('STRATA_SEARCH_URL'), indexPrefix: prefix });
    opened.push(other);
    await index.configure(ontology);
    const gen = await index.beginRebuild(ontology);
    await other.configure(ontology);
    const [found] = await other.building();
    expect(await found!.upsert([doc('City', 'LIVE', 1, { name: 'Live' })])).toEqual({
      applied: 1,
      stale: 0,
      failed: [],
    });
    expect((await gen.get([{ type: 'City', id: 'LIVE' }])).get('City/LIVE')?.version).toBe(1);
    await gen.activate();
    const aliases = await raw.indices.getAlias({ index: `${prefix}-*` });
    expect(aliases.body).toEqual({ [`${prefix}-objects-g2`]: { aliases: { [`${prefix}-objects`]: {} } } });
    expect((await other.get([{ type: 'City', id: 'LIVE' }])).get('City/LIVE')?.version).toBe(1);
  });
});
