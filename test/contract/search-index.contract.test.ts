import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSearch, type SearchRequest } from '../../src/app/queries.js';
import type { Ontology } from '../../src/core/ontology.js';
import type { SearchDocument, SearchIndex } from '../../src/ports/search-index.js';
import { type Opened, searchFactories } from '../support/adapters.js';
import { testOntology as baseOntology } from '../support/fixtures.js';

/** The test ontology with arrays of numbers and instants, which compare as their type, not as text. */
const testOntology: Ontology = {
  ...baseOntology,
  objectTypes: baseOntology.objectTypes.map((t) =>
    t.apiName === 'City'
      ? {
          ...t,
          properties: {
            ...t.properties,
            scores: { type: 'integer', array: true },
            visits: { type: 'timestamp', array: true },
          },
        }
      : t,
  ),
};

function city(
  id: string,
  version: number,
  properties: Record<string, unknown>,
  links: Record<string, string[]> = {},
  deleted = false,
): SearchDocument {
  return {
    type: 'City',
    id,
    version,
    deleted,
    title: String(properties.name ?? id),
    properties: { code: id, ...properties },
    links,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

const docs = [
  city(
    'PAR',
    3,
    {
      name: 'Paris',
      population: 2100000,
      area: 105.4,
      capital: true,
      kind: 'metropolis',
      tags: ['seine', 'lights'],
      founded: '0250-01-01',
      updated: '2026-01-02T00:00:00Z',
      scores: [3, 10],
      visits: ['2026-03-01T10:00:00+01:00', '2026-05-01T00:00:00Z'],
    },
    { inCountry: ['FRA'], twinnedWith: ['ROM'] },
  ),
  city(
    'LYS',
    1,
    {
      name: 'Lyon',
      population: 520000,
      area: 47.9,
      capital: false,
      kind: 'metropolis',
      tags: ['rhone', 'food'],
      scores: [7],
      visits: ['2026-03-01T09:45:00Z'],
    },
    { inCountry: ['FRA'] },
  ),
  city(
    'ROM',
    2,
    { name: 'Rome', population: 2800000, area: 1285, capital: true, kind: 'metropolis', tags: ['tiber'] },
    { twinnedWith: ['PAR'] },
  ),
  city(
    'GRD',
    1,
    { name: 'Giverny Rouge Dorée', population: 500, capital: false, kind: 'village', tags: [] },
    { inCountry: ['FRA'] },
  ),
  {
    type: 'Country',
    id: 'FRA',
    version: 1,
    deleted: false,
    title: 'France',
    properties: { code: 'FRA', name: 'France' },
    links: {},
    updatedAt: '2026-01-01T00:00:00.000Z',
  },
];

describe.each(searchFactories())('SearchIndex contract: $name', (factory) => {
  let opened: Opened<SearchIndex>;
  let index: SearchIndex;
  const q = (r: SearchRequest) => index.search(resolveSearch(testOntology, r));
  const ids = async (r: SearchRequest) => (await q(r)).hits.map((h) => h.id);

  beforeEach(async () => {
    opened = await factory.open();
    index = opened.port;
    await index.configure(testOntology);
    const outcome = await index.upsert(docs);
    expect(outcome).toEqual({ applied: 5, stale: 0, failed: [] });
    await index.refresh();
  });
  afterEach(async () => {
    await opened.close();
  });

  it('finds documents by full text over title and string properties', async () => {
    expect(await ids({ text: 'paris' })).toEqual(['PAR']);
    expect(await ids({ type: 'City', text: 'rhone' })).toEqual(['LYS']);
    expect(await ids({ text: 'France' })).toEqual(['FRA']);
    expect((await q({ text: 'nothing-matches-this' })).total).toBe(0);
  });

  it('filters by type, equality, sets, ranges and existence', async () => {
    expect(
      await ids({ type: 'City', filters: [{ field: 'capital', eq: true }], sort: [{ field: 'name' }] }),
    ).toEqual(['PAR', 'ROM']);
    expect(await ids({ type: 'City', filters: [{ field: 'kind', in: ['village', 'town'] }] })).toEqual([
      'GRD',
    ]);
    expect(
      await ids({
        type: 'City',
        filters: [{ field: 'population', gte: 520000, lt: 2800000 }],
        sort: [{ field: 'population' }],
      }),
    ).toEqual(['LYS', 'PAR']);
    expect(
      await ids({
        type: 'City',
        filters: [{ field: 'area', gt: 100 }],
        sort: [{ field: 'area', order: 'desc' }],
      }),
    ).toEqual(['ROM', 'PAR']);
    expect(
      await ids({ type: 'City', filters: [{ field: 'area', exists: true }], sort: [{ field: 'name' }] }),
    ).toEqual(['LYS', 'PAR', 'ROM']);
    expect(await ids({ type: 'City', filters: [{ field: 'updated', gte: '2026-01-01T00:00:00Z' }] })).toEqual(
      ['PAR'],
    );
    expect(await ids({ type: 'City', filters: [{ field: 'name', eq: 'Lyon' }] })).toEqual(['LYS']);
    expect(await ids({ type: 'Country' })).toEqual(['FRA']);
  });

  it('filters array properties and link summaries by membership', async () => {
    expect(await ids({ type: 'City', filters: [{ field: 'tags', eq: 'tiber' }] })).toEqual(['ROM']);
    expect(
      await ids({
        type: 'City',
        filters: [{ field: 'tags', in: ['food', 'seine'] }],
        sort: [{ field: 'name' }],
      }),
    ).toEqual(['LYS', 'PAR']);
    expect(
      await ids({
        type: 'City',
        filters: [{ field: 'links.inCountry', eq: 'FRA' }],
        sort: [{ field: 'name' }],
      }),
    ).toEqual(['GRD', 'LYS', 'PAR']);
    expect(
      await ids({
        type: 'City',
        filters: [{ field: 'links.twinnedWith', exists: true }],
        sort: [{ field: 'name' }],
      }),
    ).toEqual(['PAR', 'ROM']);
  });

  it('compares array elements as their type: numbers as numbers, instants as instants', async () => {
    // As text, '10' < '9' and '2026-03-01T10:00:00+01:00' > '2026-03-01T09:30:00Z'.
    expect(await ids({ type: 'City', filters: [{ field: 'scores', gte: 9 }] })).toEqual(['PAR']);
    expect(await ids({ type: 'City', filters: [{ field: 'scores', eq: 10 }] })).toEqual(['PAR']);
    expect(
      await ids({ type: 'City', filters: [{ field: 'scores', in: [7, 3] }], sort: [{ field: 'name' }] }),
    ).toEqual(['LYS', 'PAR']);
    expect(await ids({ type: 'City', filters: [{ field: 'visits', lt: '2026-03-01T09:30:00Z' }] })).toEqual([
      'PAR',
    ]);
    expect(await ids({ type: 'City', filters: [{ field: 'visits', eq: '2026-03-01T09:00:00Z' }] })).toEqual([
      'PAR',
    ]);
  });

  it('reads *, | and other punctuation in text as plain text, never as match-all or an operator', async () => {
    for (const text of ['*', 'pari*', '|', 'paris | lyon', '* | *', '!!!']) {
      expect({ text, total: (await q({ text })).total }).toEqual({ text, total: 0 });
    }
    expect(await ids({ text: 'paris or lyon', sort: [{ field: 'title' }] })).toEqual(['LYS', 'PAR']);
  });

  it('aggregates terms over scalar, array and link fields, with totals', async () => {
    const r = await q({
      type: 'City',
      aggregations: [
        { terms: 'kind' },
        { name: 'tags', terms: 'tags', size: 2 },
        { terms: 'links.inCountry' },
        { terms: 'capital' },
      ],
    });
    expect(r.total).toBe(4);
    expect(r.aggregations.kind).toEqual([
      { key: 'metropolis', count: 3 },
      { key: 'village', count: 1 },
    ]);
    expect(r.aggregations.tags).toHaveLength(2);
    expect(r.aggregations['links.inCountry']).toEqual([{ key: 'FRA', count: 3 }]);
    expect(r.aggregations.capital).toEqual([
      { key: 'false', count: 2 },
      { key: 'true', count: 2 },
    ]);
  });

  it('returns aggregations named __proto__ or constructor as own entries', async () => {
    const r = await q({
      type: 'City',
      aggregations: [
        { name: '__proto__', terms: 'kind' },
        { name: 'constructor', terms: 'links.inCountry' },
      ],
    });
    expect(Object.keys(r.aggregations).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(r.aggregations, '__proto__')?.value).toEqual([
      { key: 'metropolis', count: 3 },
      { key: 'village', count: 1 },
    ]);
    expect(Object.getOwnPropertyDescriptor(r.aggregations, 'constructor')?.value).toEqual([
      { key: 'FRA', count: 3 },
    ]);
  });

  it('sorts and pages with a stable total', async () => {
    const page1 = await q({
      type: 'City',
      sort: [{ field: 'population', order: 'desc' }],
      page: { size: 2, from: 0 },
    });
    const page2 = await q({
      type: 'City',
      sort: [{ field: 'population', order: 'desc' }],
      page: { size: 2, from: 2 },
    });
    expect(page1.total).toBe(4);
    expect(page1.hits.map((h) => h.id)).toEqual(['ROM', 'PAR']);
    expect(page2.hits.map((h) => h.id)).toEqual(['LYS', 'GRD']);
    expect(page1.hits[0]).toMatchObject({
      type: 'City',
      id: 'ROM',
      version: 2,
      title: 'Rome',
      links: { twinnedWith: ['PAR'] },
    });
    expect(page1.hits[0]!.properties).toMatchObject({ name: 'Rome', tags: ['tiber'] });
  });

  it('applies only newer versions (idempotent, out-of-order safe)', async () => {
    const stale = await index.upsert([
      city('PAR', 2, { name: 'Old Paris' }),
      city('PAR', 3, { name: 'Same Paris' }),
    ]);
    expect(stale.applied).toBe(0);
    expect(stale.stale).toBe(2);
    const newer = await index.upsert([city('PAR', 4, { name: 'Lutèce' })]);
    expect(newer.applied).toBe(1);
    await index.refresh();
    expect(await ids({ text: 'Lutèce' })).toEqual(['PAR']);
    const got = await index.get([
      { type: 'City', id: 'PAR' },
      { type: 'City', id: 'NONE' },
    ]);
    expect(got.get('City/PAR')?.version).toBe(4);
    expect(got.has('City/NONE')).toBe(false);
  });

  it('hides deleted documents but keeps their version', async () => {
    await index.upsert([city('LYS', 2, { name: 'Lyon' }, {}, true)]);
    await index.refresh();
    expect(await ids({ type: 'City', filters: [{ field: 'name', eq: 'Lyon' }] })).toEqual([]);
    expect((await index.upsert([city('LYS', 1, { name: 'Lyon' })])).applied).toBe(0);
    expect((await index.get([{ type: 'City', id: 'LYS' }])).get('City/LYS')).toMatchObject({
      version: 2,
      deleted: true,
    });
  });

  it('lists every document with its version', async () => {
    const listed = [];
    for await (const d of index.listDocuments()) listed.push(`${d.type}/${d.id}@${d.version}`);
    expect(listed.sort()).toEqual(['City/GRD@1', 'City/LYS@1', 'City/PAR@3', 'City/ROM@2', 'Country/FRA@1']);
  });

  it('rebuilds into a new generation that reads see only once activated (blue/green)', async () => {
    const gen = await index.beginRebuild(testOntology);
    await gen.upsert([city('PAR', 3, { name: 'Paris' }), city('NEW', 1, { name: 'Newtown' })]);
    await index.refresh();
    expect(await ids({ text: 'Newtown' })).toEqual([]);
    expect((await q({ type: 'City' })).total).toBe(4);
    // A live write during the rebuild goes to every building generation (found by any process)
    // and to the active one, and survives the swap.
    const building = await index.building();
    expect(building).toHaveLength(1);
    for (const w of [...building, index]) await w.upsert([city('ROM', 3, { name: 'Roma' })]);
    expect((await building[0]!.get([{ type: 'City', id: 'ROM' }])).get('City/ROM')?.version).toBe(3);
    await gen.activate();
    expect(await index.building()).toEqual([]);
    await index.refresh();
    expect(await ids({ text: 'Newtown' })).toEqual(['NEW']);
    expect(await ids({ text: 'Roma' })).toEqual(['ROM']);
    expect((await q({ type: 'City' })).hits.map((h) => h.id).sort()).toEqual(['NEW', 'PAR', 'ROM']);
  });

  it('drops an aborted rebuild without touching the live documents', async () => {
    const gen = await index.beginRebuild(testOntology);
    await gen.upsert([city('ZZZ', 1, { name: 'Zed' })]);
    await gen.abort();
    expect(await index.building()).toEqual([]);
    await index.refresh();
    expect(await ids({ text: 'Zed' })).toEqual([]);
    expect((await q({ type: 'City' })).total).toBe(4);
  });
});
