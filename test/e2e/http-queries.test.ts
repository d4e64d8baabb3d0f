/**
 * The read side through HTTP: graph traversal (search-around), search, and NDJSON event replay.
 * The data set is written once; projections are awaited with waitForIdle, never with sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/core/event.js';
import { testOntology } from '../support/fixtures.js';
import { type E2E, expectProblem, inject, ndjson, startE2E, violationPaths } from './http-harness.js';

let e2e: E2E;
/** Instants between writes, for asOf and replay windows. */
const at: Record<string, string> = {};

async function ok(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>) {
  const res = await inject(e2e.app, { method, url, ...(payload ? { payload } : {}) });
  expect(res.status, `${method} ${url}: ${res.text}`).toBe(202);
  return res.body as { event_id: string; version: number };
}

const city = (code: string, name: string, extra: Record<string, unknown> = {}) =>
  ok('POST', '/v1/objects/City', { properties: { code, name, ...extra } });
const link = (from: string, linkType: string, to: string) =>
  ok('POST', `/v1/objects/City/${encodeURIComponent(from)}/links/${linkType}`, { targetId: to });
const now = () => new Date().toISOString();

beforeAll(async () => {
  e2e = await startE2E();
  expect((await inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: testOntology })).status).toBe(
    202,
  );
  at.start = now();
  await ok('POST', '/v1/objects/Country', { properties: { code: 'FR', name: 'France' } });
  await ok('POST', '/v1/objects/Country', { properties: { code: 'DE', name: 'Germany' } });
  await city('PAR', 'Paris', {
    population: 2_100_000,
    kind: 'metropolis',
    capital: true,
    tags: ['river', 'museum'],
    founded: '0250-01-01',
    updated: '2024-05-01T10:00:00Z',
  });
  await city('LYO', 'Lyon', {
    population: 520_000,
    kind: 'metropolis',
    capital: false,
    tags: ['river', 'food'],
    updated: '2024-06-01T10:00:00+02:00',
  });
  await city('ANN', 'Annecy', { population: 130_000, kind: 'town', tags: ['lake'] });
  await city('GIV', 'Giverny', { population: 500, kind: 'village', tags: ['museum'] });
  await city('BER', 'Berlin', { population: 3_600_000, kind: 'metropolis', capital: true });
  await link('PAR', 'inCountry', 'FR');
  await link('LYO', 'inCountry', 'FR');
  await link('BER', 'inCountry', 'DE');
  await link('PAR', 'twinnedWith', 'BER');
  await link('LYO', 'twinnedWith', 'ANN');
  await e2e.strata.waitForIdle();
  at.beforeGiverny = now();
  await link('PAR', 'twinnedWith', 'GIV');
  await e2e.strata.waitForIdle();
  at.afterGiverny = now();
  await ok('DELETE', '/v1/objects/City/PAR/links/twinnedWith/GIV');
  await e2e.strata.waitForIdle();
  at.end = now();
});

afterAll(async () => {
  await e2e?.stop();
});

const traverse = (qs: string) => inject(e2e.app, { method: 'GET', url: `/v1/graph/traverse?${qs}` });
const ids = (res: { body: { nodes: { type: string; id: string; depth: number }[] } }) =>
  res.body.nodes.map((n) => `${n.type}/${n.id}@${n.depth}`).sort();

describe('GET /v1/graph/traverse', () => {
  it('depth 1 out (the default) returns the direct neighbours, their titles and the edges', async () => {
    const res = await traverse('type=City&id=PAR');
    expect(res.status).toBe(200);
    expect(res.body.start).toEqual({ type: 'City', id: 'PAR', title: 'Paris' });
    expect(ids(res)).toEqual(['City/BER@1', 'Country/FR@1']);
    expect(res.body.nodes.find((n: { id: string }) => n.id === 'FR').title).toBe('France');
    expect(res.body.edges).toEqual(
      expect.arrayContaining([
        { from: { type: 'City', id: 'PAR' }, linkType: 'inCountry', to: { type: 'Country', id: 'FR' } },
        { from: { type: 'City', id: 'PAR' }, linkType: 'twinnedWith', to: { type: 'City', id: 'BER' } },
      ]),
    );
    expect(res.body.truncated).toBe(false);
  });

  it('depth 2 reaches neighbours of neighbours with their shortest depth', async () => {
    expect(ids(await traverse('type=City&id=PAR&depth=2'))).toEqual([
      'City/BER@1',
      'Country/DE@2',
      'Country/FR@1',
    ]);
  });

  it('linkTypes restricts the walk to the named link types', async () => {
    expect(ids(await traverse('type=City&id=PAR&depth=3&linkTypes=twinnedWith'))).toEqual(['City/BER@1']);
    expect(ids(await traverse('type=City&id=PAR&depth=3&linkTypes=inCountry'))).toEqual(['Country/FR@1']);
    expect(ids(await traverse('type=City&id=PAR&depth=2&linkTypes=inCountry,twinnedWith'))).toEqual([
      'City/BER@1',
      'Country/DE@2',
      'Country/FR@1',
    ]);
  });

  it('direction in follows links backwards; both follows them either way', async () => {
    expect(ids(await traverse('type=Country&id=FR&direction=in'))).toEqual(['City/LYO@1', 'City/PAR@1']);
    expect(ids(await traverse('type=Country&id=FR&direction=out'))).toEqual([]);
    expect(ids(await traverse('type=City&id=LYO&direction=both&depth=2'))).toEqual([
      'City/ANN@1',
      'City/PAR@2',
      'Country/FR@1',
    ]);
  });

  it('asOf shows the graph as it was: a removed link is there in the past, absent now', async () => {
    const during = await traverse(
      `type=City&id=PAR&linkTypes=twinnedWith&asOf=${encodeURIComponent(at.afterGiverny!)}`,
    );
    expect(ids(during)).toEqual(['City/BER@1', 'City/GIV@1']);
    const before = await traverse(
      `type=City&id=PAR&linkTypes=twinnedWith&asOf=${encodeURIComponent(at.beforeGiverny!)}`,
    );
    expect(ids(before)).toEqual(['City/BER@1']);
    expect(ids(await traverse('type=City&id=PAR&linkTypes=twinnedWith'))).toEqual(['City/BER@1']);
  });

  it('asOf before the start existed is 404 STRATA_ERR_OBJECT_NOT_FOUND', async () => {
    const res = await traverse(`type=City&id=PAR&asOf=${encodeURIComponent(at.start!)}`);
    expect(expectProblem(res, 404, 'STRATA_ERR_OBJECT_NOT_FOUND').detail).toContain('as of');
  });

  it('limit truncates the result and says so', async () => {
    const res = await traverse('type=City&id=PAR&depth=2&limit=1');
    expect(res.body.nodes).toHaveLength(1);
    expect(res.body.truncated).toBe(true);
  });

  it('an unknown start object is 404; an unknown type or link type is 404 STRATA_ERR_TYPE_UNKNOWN', async () => {
    expectProblem(await traverse('type=City&id=NOWHERE'), 404, 'STRATA_ERR_OBJECT_NOT_FOUND');
    expectProblem(await traverse('type=Planet&id=PAR'), 404, 'STRATA_ERR_TYPE_UNKNOWN');
    expect(
      expectProblem(await traverse('type=City&id=PAR&linkTypes=orbits'), 404, 'STRATA_ERR_TYPE_UNKNOWN')
        .detail,
    ).toContain("'orbits'");
  });

  it('bad depth, direction, limit, asOf or missing parameters are 400 with violations', async () => {
    for (const [qs, path] of [
      ['type=City&id=PAR&depth=0', '/querystring/depth'],
      ['type=City&id=PAR&depth=7', '/querystring/depth'],
      ['type=City&id=PAR&depth=two', '/querystring/depth'],
      ['type=City&id=PAR&depth=1.5', '/querystring/depth'],
      ['type=City&id=PAR&direction=up', '/querystring/direction'],
      ['type=City&id=PAR&limit=0', '/querystring/limit'],
      ['type=City', '/querystring'],
      ['id=PAR', '/querystring'],
      ['type=City&id=PAR&colour=red', '/querystring'],
    ]) {
      const res = await traverse(qs!);
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
      expect(violationPaths(res), qs).toContain(path);
    }
    const asOf = await traverse('type=City&id=PAR&asOf=not-a-date');
    expect(expectProblem(asOf, 400, 'STRATA_ERR_REQUEST_INVALID').detail).toContain('asOf');
  });

  it('an asOf that is no calendar instant, or outside 1970…9999, is 400 naming asOf, never a 500', async () => {
    for (const [asOf, why] of [
      ['2026-02-31', 'is not a calendar date'],
      ['2026-01-01T24:00Z', 'is not a time of day'],
      ['0000-01-01', 'is outside the instants Strata keeps'],
      ['0001-01-01T00:00:00+01:00', 'is outside the instants Strata keeps'],
      ['9999-12-31T23:59:59.999-01:00', 'is outside the instants Strata keeps'],
    ]) {
      const res = await traverse(`type=City&id=PAR&asOf=${encodeURIComponent(asOf!)}`);
      expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').detail, asOf).toBe(
        `asOf '${asOf}' ${why}${why!.startsWith('is outside') ? ', 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z' : why === 'is not a time of day' ? ' (00:00:00 to 23:59:59)' : ''}`,
      );
    }
  });
});

const search = (payload: Record<string, unknown>) =>
  inject(e2e.app, { method: 'POST', url: '/v1/search', payload });
const hitIds = (res: { body: { hits: { id: string }[] } }) => res.body.hits.map((h) => h.id);

describe('POST /v1/search', () => {
  it('full text finds objects by title and property values, with a score', async () => {
    const res = await search({ type: 'City', text: 'lyon' });
    expect(res.status).toBe(200);
    expect(hitIds(res)).toEqual(['LYO']);
    expect(res.body.hits[0]).toMatchObject({ type: 'City', id: 'LYO', title: 'Lyon', version: 3 });
    expect(res.body.hits[0].links).toEqual({ inCountry: ['FR'], twinnedWith: ['ANN'] });
    expect(res.body.hits[0].score).toBeGreaterThan(0);
    expect(hitIds(await search({ text: 'germany' }))).toEqual(['DE']);
    expect(res.body.total).toBe(1);
  });

  it('filters: eq, in, range, exists, on arrays and links', async () => {
    expect(
      hitIds(
        await search({
          type: 'City',
          filters: [{ field: 'kind', eq: 'metropolis' }],
          sort: [{ field: 'id' }],
        }),
      ),
    ).toEqual(['BER', 'LYO', 'PAR']);
    expect(
      hitIds(
        await search({
          type: 'City',
          filters: [{ field: 'kind', in: ['town', 'village'] }],
          sort: [{ field: 'id' }],
        }),
      ),
    ).toEqual(['ANN', 'GIV']);
    expect(
      hitIds(
        await search({
          type: 'City',
          filters: [{ field: 'population', gte: 500_000, lt: 3_000_000 }],
          sort: [{ field: 'id' }],
        }),
      ),
    ).toEqual(['LYO', 'PAR']);
    expect(
      hitIds(
        await search({ type: 'City', filters: [{ field: 'capital', eq: true }], sort: [{ field: 'id' }] }),
      ),
    ).toEqual(['BER', 'PAR']);
    expect(
      hitIds(
        await search({ type: 'City', filters: [{ field: 'tags', eq: 'museum' }], sort: [{ field: 'id' }] }),
      ),
    ).toEqual(['GIV', 'PAR']);
    expect(
      hitIds(
        await search({
          type: 'City',
          filters: [{ field: 'links.inCountry', eq: 'FR' }],
          sort: [{ field: 'id' }],
        }),
      ),
    ).toEqual(['LYO', 'PAR']);
    expect(
      hitIds(
        await search({
          type: 'City',
          filters: [{ field: 'updated', exists: true }],
          sort: [{ field: 'id' }],
        }),
      ),
    ).toEqual(['LYO', 'PAR']);
    // timestamps compare as instants, whatever their offset (Lyon: 2024-06-01T08:00Z)
    expect(
      hitIds(await search({ type: 'City', filters: [{ field: 'updated', gt: '2024-05-31T23:00:00Z' }] })),
    ).toEqual(['LYO']);
  });

  it('sort, paging with a stable total, and terms aggregations', async () => {
    const page1 = await search({
      type: 'City',
      sort: [{ field: 'population', order: 'desc' }],
      page: { size: 2, from: 0 },
    });
    expect(hitIds(page1)).toEqual(['BER', 'PAR']);
    expect(page1.body.total).toBe(5);
    const page2 = await search({
      type: 'City',
      sort: [{ field: 'population', order: 'desc' }],
      page: { size: 2, from: 2 },
    });
    expect(hitIds(page2)).toEqual(['LYO', 'ANN']);
    const page3 = await search({
      type: 'City',
      sort: [{ field: 'population', order: 'desc' }],
      page: { size: 2, from: 4 },
    });
    expect(hitIds(page3)).toEqual(['GIV']);
    const aggs = await search({
      type: 'City',
      page: { size: 0 },
      aggregations: [
        { terms: 'kind' },
        { name: 'countries', terms: 'links.inCountry' },
        { terms: 'tags', size: 1 },
      ],
    });
    expect(aggs.body.hits).toEqual([]);
    expect(aggs.body.total).toBe(5);
    expect(aggs.body.aggregations.kind).toEqual([
      { key: 'metropolis', count: 3 },
      { key: 'town', count: 1 },
      { key: 'village', count: 1 },
    ]);
    expect(aggs.body.aggregations.countries).toEqual([
      { key: 'FR', count: 2 },
      { key: 'DE', count: 1 },
    ]);
    expect(aggs.body.aggregations.tags).toHaveLength(1);
  });

  it('every aggregation comes back under its name: duplicates are 400, __proto__ and constructor are names like any other', async () => {
    const dup = await search({
      type: 'City',
      aggregations: [
        { name: 'k', terms: 'kind' },
        { name: 'k', terms: 'tags' },
        { terms: 'kind' },
        { terms: 'kind' },
      ],
    });
    expect(expectProblem(dup, 400, 'STRATA_ERR_REQUEST_INVALID').violations).toEqual([
      { path: '/aggregations/1/name', message: "duplicate aggregation name 'k'" },
      {
        path: '/aggregations/3/name',
        message: "duplicate aggregation name 'kind' (the name defaults to terms)",
      },
    ]);
    const res = await search({
      type: 'City',
      page: { size: 0 },
      aggregations: [
        { name: '__proto__', terms: 'kind' },
        { name: 'constructor', terms: 'links.inCountry' },
      ],
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.aggregations).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(res.body.aggregations, '__proto__')?.value).toEqual([
      { key: 'metropolis', count: 3 },
      { key: 'town', count: 1 },
      { key: 'village', count: 1 },
    ]);
    expect(res.body.aggregations.constructor).toEqual([
      { key: 'FR', count: 2 },
      { key: 'DE', count: 1 },
    ]);
  });

  it('an unknown field is 400 STRATA_ERR_REQUEST_INVALID with a violation per bad field', async () => {
    const res = await search({
      type: 'City',
      filters: [
        { field: 'colour', eq: 'red' },
        { field: 'population', eq: 'many' },
        { field: 'links.orbits', eq: 'x' },
      ],
      sort: [{ field: 'altitude' }],
      aggregations: [{ terms: 'location' }],
    });
    expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    expect(violationPaths(res)).toEqual([
      '/aggregations/0/terms',
      '/filters/0/field',
      '/filters/1/eq',
      '/filters/2/field',
      '/sort/0/field',
    ]);
  });

  it('integer bounds beyond the integer range, and sorting by an array or links, are 400 — the same on every engine', async () => {
    const res = await search({
      type: 'City',
      filters: [
        { field: 'population', gte: 1e20 },
        { field: 'population', in: [1, -1e19] },
        { field: 'area', lt: 1e300 },
      ],
      sort: [{ field: 'tags' }, { field: 'links.inCountry' }, { field: 'name' }],
    });
    expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').violations).toEqual([
      {
        path: '/filters/0/gte',
        message: `is outside the range of integer properties (±${Number.MAX_SAFE_INTEGER})`,
      },
      {
        path: '/filters/1/in/1',
        message: `is outside the range of integer properties (±${Number.MAX_SAFE_INTEGER})`,
      },
      { path: '/sort/0/field', message: "cannot sort by 'tags', an array property" },
      { path: '/sort/1/field', message: 'cannot sort by links' },
    ]);
    // A double bound far out is fine: it simply matches every value below it.
    const doubles = await search({ type: 'City', filters: [{ field: 'area', lt: 1e300 }] });
    expect(doubles.status).toBe(200);
  });

  it('fields named like Object.prototype members are unknown fields (400), not silently accepted', async () => {
    const res = await search({
      type: 'City',
      filters: [{ field: 'constructor', eq: 'x' }],
      sort: [{ field: 'toString' }],
      aggregations: [{ terms: 'hasOwnProperty' }],
    });
    expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    expect(violationPaths(res)).toEqual(['/aggregations/0/terms', '/filters/0/field', '/sort/0/field']);
  });

  it('values the engine cannot compare are 400, never a 500: bad timestamps and dates, empty in', async () => {
    for (const [filter, path] of [
      [{ field: 'updated', eq: 'yesterday' }, '/filters/0/eq'],
      [{ field: 'updated', gte: '2024-02-30T00:00:00Z' }, '/filters/0/gte'],
      [{ field: 'founded', lt: 'abc' }, '/filters/0/lt'],
      [{ field: 'population', in: [] }, '/filters/0/in'],
      [{ field: 'population', gte: 1, eq: 2 }, '/filters/0'],
      [{ field: 'capital', gt: 1 }, '/filters/0'],
      // a boolean bound is not coerced to 1 by the body schema
      [{ field: 'capital', gt: true }, '/body/filters/0/gt'],
    ] as const) {
      const res = await search({ type: 'City', filters: [filter] });
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
      expect(violationPaths(res), JSON.stringify(filter)).toContain(path);
    }
  });

  it('a property field without a type, an unknown type, and schema violations are rejected', async () => {
    const untyped = await search({ filters: [{ field: 'population', gte: 1 }] });
    expect(violationPaths(untyped)).toEqual(['/filters/0/field']);
    expectProblem(untyped, 400, 'STRATA_ERR_REQUEST_INVALID');
    // title and id work without a type
    expect(
      hitIds(await search({ filters: [{ field: 'id', in: ['FR', 'PAR'] }], sort: [{ field: 'id' }] })),
    ).toEqual(['FR', 'PAR']);
    expectProblem(await search({ type: 'Planet' }), 404, 'STRATA_ERR_TYPE_UNKNOWN');
    for (const [payload, path] of [
      [{ page: { size: 1001 } }, '/body/page/size'],
      [{ page: { from: -1 } }, '/body/page/from'],
      [{ sort: [{ field: 'id', order: 'sideways' }] }, '/body/sort/0/order'],
      [{ filters: [{ eq: 1 }] }, '/body/filters/0'],
      [{ query: { match_all: {} } }, '/body'],
      [{ text: 'x'.repeat(1001) }, '/body/text'],
    ] as const) {
      const res = await search(payload);
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
      expect(violationPaths(res), JSON.stringify(payload)).toContain(path);
    }
  });

  it('operator characters in the text are searched for, not parsed (never a 500)', async () => {
    for (const text of [
      "'",
      '\\',
      '&',
      '|',
      '!',
      '(',
      ')',
      ':*',
      '<->',
      '"',
      '-',
      'or',
      '""',
      'a & (b | !c)',
      '\ud83d\ude00',
    ]) {
      const res = await search({ type: 'City', text });
      expect(res.status, text).toBe(200);
    }
  });
});

describe('GET /v1/events', () => {
  it('streams NDJSON (application/x-ndjson) of every event in [from, to], in time order', async () => {
    const res = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/events?from=${encodeURIComponent(at.start!)}&to=${encodeURIComponent(at.end!)}`,
    });
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/x-ndjson');
    const events = ndjson<EventEnvelope>(res.text);
    // 2 countries + 5 cities + 5 links + link and unlink of Giverny
    expect(events).toHaveLength(14);
    const times = events.map((e) => e.occurred_at);
    expect([...times].sort()).toEqual(times);
    expect(events.map((e) => e.event_type).filter((t) => t === 'LinkRemoved')).toHaveLength(1);
    expect(events.every((e) => e.occurred_at >= at.start! && e.occurred_at <= at.end!)).toBe(true);
    // per aggregate, versions ascend without gaps
    const paris = events
      .filter((e) => e.aggregate_type === 'City' && e.aggregate_id === 'PAR')
      .map((e) => e.version);
    expect(paris).toEqual([1, 2, 3, 4, 5]);
  });

  it('the window excludes events outside it, and a bare date as to means the whole day', async () => {
    const window = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/events?from=${encodeURIComponent(at.beforeGiverny!)}&to=${encodeURIComponent(at.afterGiverny!)}`,
    });
    const events = ndjson<EventEnvelope>(window.text);
    expect(events.map((e) => [e.event_type, e.aggregate_id])).toEqual([['LinkAdded', 'PAR']]);
    const today = at.end!.slice(0, 10);
    const day = await inject(e2e.app, { method: 'GET', url: `/v1/events?from=${today}&to=${today}` });
    expect(ndjson(day.text).length).toBeGreaterThanOrEqual(15); // the ontology event too
    const future = await inject(e2e.app, { method: 'GET', url: '/v1/events?from=2999-01-01' });
    expect(future.status).toBe(400); // to (now) is before from
    const past = await inject(e2e.app, { method: 'GET', url: '/v1/events?from=2001-01-01&to=2001-01-02' });
    expect(past.status).toBe(200);
    expect(past.text).toBe('');
  });

  it('bad dates, a reversed window and missing from are 400 problem+json', async () => {
    for (const qs of [
      'from=yesterday',
      `from=${at.start}&to=later`,
      `from=${at.end}&to=${at.start}`,
      '',
      'to=2024-01-01',
      'from=2024-01-01&extra=1',
    ]) {
      const res = await inject(e2e.app, { method: 'GET', url: `/v1/events?${qs}` });
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    }
  });

  it('a from or to that is no calendar instant, or outside 1970…9999, is 400 naming it', async () => {
    for (const [qs, detail] of [
      ['from=2026-02-31', "from '2026-02-31' is not a calendar date"],
      ['from=2026-01-01&to=2026-02-30', "to '2026-02-30' is not a calendar date"],
      ['from=2026-01-01T24:00Z', "from '2026-01-01T24:00Z' is not a time of day (00:00:00 to 23:59:59)"],
      ['from=0999-01-01', "from '0999-01-01' is outside the instants Strata keeps"],
      ['from=2026-01-01&to=10000-01-01', "to '10000-01-01' is not a date (YYYY-MM-DD, UTC)"],
    ]) {
      const res = await inject(e2e.app, { method: 'GET', url: `/v1/events?${qs}` });
      expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').detail, qs).toContain(detail);
    }
    const epoch = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/events?from=1970-01-01&to=${encodeURIComponent(at.end!)}`,
    });
    expect(epoch.status).toBe(200);
    expect(ndjson(epoch.text).length).toBeGreaterThanOrEqual(15);
    const farEnd = await inject(e2e.app, { method: 'GET', url: '/v1/events?from=9999-12-31&to=9999-12-31' });
    expect({ status: farEnd.status, text: farEnd.text }).toEqual({ status: 200, text: '' });
  });
});
