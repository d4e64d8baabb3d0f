/**
 * Acceptance: never a 500. Hundreds of random and garbage requests over a real socket — odd
 * methods, paths with broken percent-encoding, NULs and huge segments, odd JSON bodies, wrong types
 * in every field, odd headers — and every answer is < 500, every error is problem+json with a
 * code, and afterwards the store and its projections still agree. Seeded, so a failure replays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testOntology } from '../support/fixtures.js';
import { type E2E, type Res, raw, startE2E } from './http-harness.js';

let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E();
  const put = await raw(e2e.url, 'PUT', '/v1/ontology', {
    body: JSON.stringify(testOntology),
    headers: { 'content-type': 'application/json' },
  });
  expect(put.status).toBe(202);
  for (const code of ['FUZZ-1', 'FUZZ-2']) {
    const res = await raw(e2e.url, 'POST', '/v1/objects/City', {
      body: JSON.stringify({ properties: { code, name: code } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(202);
  }
});

afterAll(async () => {
  await e2e?.stop();
});

/** mulberry32: a small seeded PRNG, so every run sends the same requests. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const METHODS = [
  'GET',
  'GET',
  'POST',
  'POST',
  'PUT',
  'PATCH',
  'PATCH',
  'DELETE',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'BREW',
];

const SEGMENTS = [
  'City',
  'Country',
  'Planet',
  'FUZZ-1',
  'FUZZ-2',
  'twinnedWith',
  'inCountry',
  'outbox',
  'dead-letters',
  'lag',
  'verify',
  'rebuild',
  'history',
  'links',
  '%ZZ',
  '%00',
  'a%00b',
  '%',
  '%2',
  '%C3%28',
  '%FF',
  '%ED%A0%80',
  '%EF%BF%BF',
  '%2E%2E',
  '..',
  '.',
  '%2F',
  '%2F%2F',
  '%20',
  '+',
  '%2B',
  '%F0%9F%98%80',
  '%E6%9D%B1%E4%BA%AC',
  'constructor',
  '__proto__',
  'toString',
  '0',
  '-1',
  '1e3',
  '99999999999999999999',
  "'",
  '(',
  '*',
  '~',
  '%7B%7D',
  'x'.repeat(300),
  'y'.repeat(5000),
  '',
];

const TEMPLATES = [
  '/v1/ontology',
  '/v1/objects/{}',
  '/v1/objects/{}/{}',
  '/v1/objects/City/{}',
  '/v1/objects/{}/{}/history',
  '/v1/objects/City/{}/history',
  '/v1/objects/{}/{}/links/{}',
  '/v1/objects/City/FUZZ-1/links/{}',
  '/v1/objects/{}/{}/links/{}/{}',
  '/v1/graph/traverse',
  '/v1/search',
  '/v1/events',
  '/v1/admin/{}',
  '/v1/admin/dead-letters/{}/retry',
  '/healthz',
  '/readyz',
  '/metrics',
  '/docs/json',
  '/docs/{}',
  '/{}',
  '/v1/{}/{}',
  '//v1//objects//City',
  '/v1/objects/City/FUZZ-1/{}/{}/{}/{}',
];

const QUERY_KEYS = [
  'asOf',
  'from',
  'to',
  'type',
  'id',
  'depth',
  'direction',
  'linkTypes',
  'limit',
  'fromVersion',
  'x',
  'asOf',
];
const QUERY_VALUES = [
  '',
  '0',
  '-1',
  '1',
  '7',
  '1.5',
  'abc',
  'now',
  '%ZZ',
  '%00',
  '%C3%28',
  '2024-02-30',
  '2024-01-01',
  '2024-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '9'.repeat(30),
  'City',
  'FUZZ-1',
  'twinnedWith',
  'in',
  'both',
  'out',
  'a,b,,c',
  'constructor',
  '%2E%2E',
];

/** Any JSON value, with the awkward ones over-represented. */
function anyJson(r: Rng, depth = 0): unknown {
  const scalars: unknown[] = [
    null,
    true,
    false,
    0,
    -0,
    -1,
    1.5,
    1e308,
    -1e308,
    2 ** 53 + 1,
    '',
    'x',
    'City',
    '2024-02-30',
    '2024-01-01T00:00:00Z',
    '\u0000',
    '\ud800',
    '\u202e',
    '😀',
    'a'.repeat(2000),
    '<script>',
    "'; DROP TABLE strata_search_docs; --",
  ];
  if (depth > 3 || r.chance(0.5)) return r.pick(scalars);
  if (r.chance(0.5)) return Array.from({ length: r.int(4) }, () => anyJson(r, depth + 1));
  const keys = [
    'properties',
    'targetId',
    'code',
    'name',
    'population',
    'type',
    'text',
    'filters',
    'field',
    'eq',
    'in',
    'targets',
    'objectTypes',
    'linkTypes',
    '__proto__',
    'constructor',
    '',
  ];
  return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(keys), anyJson(r, depth + 1)]));
}

/** Valid-ish bodies of each route, to be broken one field at a time. */
function templateBody(r: Rng, index?: number): unknown {
  const bodies = [
    {
      properties: {
        code: `FZ-${r.int(20)}`,
        name: 'n',
        population: 1,
        tags: ['a'],
        updated: '2024-01-01T00:00:00Z',
        location: { lat: 1, lon: 2 },
        extra: {},
      },
    },
    { properties: { population: 2, kind: 'town' } },
    { targetId: 'FUZZ-2' },
    {
      type: 'City',
      text: 'a',
      filters: [{ field: 'population', gte: 1 }],
      sort: [{ field: 'name', order: 'asc' }],
      page: { size: 5, from: 0 },
      aggregations: [{ terms: 'kind', size: 3 }],
    },
    testOntology,
    { targets: ['graph'] },
  ];
  return structuredClone(index === undefined ? r.pick(bodies) : bodies[index]);
}

/** Replaces, deletes or adds one field somewhere in `value` (wrong types in every field, over the runs). */
function mutate(r: Rng, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return anyJson(r);
  const container = value as Record<string, unknown>;
  const keys = Object.keys(container);
  if (keys.length === 0 || r.chance(0.15)) {
    container[r.pick(['unexpected', 'constructor', '0', 'properties'])] = anyJson(r);
    return value;
  }
  const key = r.pick(keys);
  if (r.chance(0.5) && typeof container[key] === 'object' && container[key] !== null) {
    container[key] = mutate(r, container[key]);
  } else if (r.chance(0.2)) {
    delete container[key];
  } else {
    container[key] = anyJson(r);
  }
  return value;
}

function body(r: Rng): { body?: string | Buffer; contentType?: string } {
  const kind = r.int(10);
  const contentType = r.pick([
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    '',
  ]);
  switch (kind) {
    case 0:
      return {};
    case 1:
      return {
        contentType,
        body: r.pick([
          '',
          '{',
          '}',
          '[]',
          'null',
          '"x"',
          '{"a":1}{',
          '\uFEFF{}',
          '{"properties":',
          "{'a':1}",
          'NaN',
          '1e999',
          '{"a":"\\u0000"}',
          '{"a":"\\ud800"}',
        ]),
      };
    case 2:
      return { contentType, body: Buffer.from(Array.from({ length: 1 + r.int(64) }, () => r.int(256))) };
    case 3:
      return { contentType, body: `${'['.repeat(3000)}${']'.repeat(3000)}` };
    case 4:
      return {
        contentType: 'application/json',
        body: JSON.stringify({ properties: { code: 'big', name: 'x'.repeat(1_100_000) } }),
      };
    case 5:
    case 6:
      return { contentType, body: JSON.stringify(anyJson(r)) };
    default:
      return { contentType, body: JSON.stringify(mutate(r, templateBody(r))) };
  }
}

/** Routes with plausible segments and bodies, so the garbage also reaches validation, commands and queries. */
const ROUTES: [string, string, number | undefined][] = [
  ['PUT', '/v1/ontology', 4],
  ['POST', '/v1/objects/{type}', 0],
  ['PATCH', '/v1/objects/{type}/{id}', 1],
  ['DELETE', '/v1/objects/{type}/{id}', undefined],
  ['GET', '/v1/objects/{type}/{id}', undefined],
  ['GET', '/v1/objects/{type}/{id}/history', undefined],
  ['POST', '/v1/objects/{type}/{id}/links/{link}', 2],
  ['DELETE', '/v1/objects/{type}/{id}/links/{link}/{id}', undefined],
  ['GET', '/v1/graph/traverse', undefined],
  ['POST', '/v1/search', 3],
  ['GET', '/v1/events', undefined],
  ['POST', '/v1/admin/rebuild', 5],
];

function plausible(r: Rng): { method: string; path: string; body?: string; headers: Record<string, string> } {
  const [method, template, bodyIndex] = r.pick(ROUTES);
  const odd = () => r.chance(0.25);
  const path = template
    .replace('{type}', () => (odd() ? r.pick(SEGMENTS) : r.pick(['City', 'City', 'Country'])))
    .replace(/\{id\}/g, () => (odd() ? r.pick(SEGMENTS) : r.pick(['FUZZ-1', 'FUZZ-2', `FZ-${r.int(20)}`])))
    .replace('{link}', () => (odd() ? r.pick(SEGMENTS) : r.pick(['twinnedWith', 'inCountry', 'capitalOf'])));
  const query = template.startsWith('/v1/graph')
    ? `?type=City&id=${r.pick(['FUZZ-1', 'FUZZ-2', 'nobody'])}&${r.pick(QUERY_KEYS)}=${r.pick(QUERY_VALUES)}`
    : template === '/v1/events'
      ? `?from=${r.pick(QUERY_VALUES)}${r.chance(0.5) ? `&to=${r.pick(QUERY_VALUES)}` : ''}`
      : '';
  const headers: Record<string, string> = {};
  if (r.chance(0.15)) headers['if-match'] = r.pick(['"1"', '"2"', '1', 'garbage', '"0"']);
  if (r.chance(0.15)) headers['idempotency-key'] = `key-${r.int(5)}`;
  if (bodyIndex === undefined) return { method, path: path + query, headers };
  headers['content-type'] = r.chance(0.9)
    ? 'application/json'
    : r.pick(['text/plain', 'application/xml', '']);
  const valid = templateBody(r, bodyIndex);
  return {
    method,
    path: path + query,
    headers,
    body: JSON.stringify(r.chance(0.7) ? mutate(r, valid) : valid),
  };
}

function request(r: Rng): {
  method: string;
  path: string;
  body?: string | Buffer;
  headers: Record<string, string>;
} {
  if (r.chance(0.6)) return plausible(r);
  let path = r.pick(TEMPLATES).replace(/\{\}/g, () => r.pick(SEGMENTS));
  if (r.chance(0.02)) path = `/v1/objects/City/${'z'.repeat(20_000)}`; // beyond the header size limit
  if (r.chance(0.4)) {
    const params = Array.from(
      { length: 1 + r.int(4) },
      () => `${r.pick(QUERY_KEYS)}=${r.pick(QUERY_VALUES)}`,
    );
    path += `?${params.join('&')}`;
  }
  const headers: Record<string, string> = {};
  const b = body(r);
  if (b.contentType !== undefined && b.body !== undefined) headers['content-type'] = b.contentType;
  if (r.chance(0.2))
    headers['if-match'] = r.pick(['garbage', '"1"', '1', '', 'W/"x"', '*', '"99999999999999999999"', '"0"']);
  if (r.chance(0.2)) headers['idempotency-key'] = r.pick(['', 'k', 'x'.repeat(300), `key-${r.int(5)}`]);
  if (r.chance(0.1)) headers.authorization = r.pick(['Bearer nope', 'Basic xyz', '']);
  if (r.chance(0.05)) headers['x-correlation-id'] = 'c'.repeat(r.int(5000));
  return { method: r.pick(METHODS), path, headers, ...(b.body !== undefined ? { body: b.body } : {}) };
}

function describeRequest(q: ReturnType<typeof request>): string {
  const body = q.body === undefined ? '' : ` body=${String(q.body).slice(0, 200)}`;
  return `${q.method} ${q.path.slice(0, 200)} ${JSON.stringify(q.headers).slice(0, 200)}${body}`;
}

function expectWellFormed(res: Res, q: ReturnType<typeof request>): void {
  const what = describeRequest(q);
  expect(res.status, what).toBeLessThan(500);
  if (res.status < 400) return;
  expect(res.type, what).toBe('application/problem+json');
  if (q.method === 'HEAD') return; // no body
  expect(res.body?.code, what).toMatch(/^STRATA_ERR_[A-Z_]+$/);
  expect(res.body?.status, what).toBe(res.status);
  expect(typeof res.body?.detail, what).toBe('string');
}

describe('acceptance: never a 500', () => {
  it('~250 random and garbage requests over a real socket: every status < 500, every error problem+json with a code', async () => {
    // STRATA_FUZZ_SEED / STRATA_FUZZ_REQUESTS replay or extend a run locally.
    const r = prng(Number(process.env.STRATA_FUZZ_SEED ?? 20261203));
    const statuses = new Map<number, number>();
    for (let i = 0; i < Number(process.env.STRATA_FUZZ_REQUESTS ?? 250); i++) {
      const q = request(r);
      const res = await raw(e2e.url, q.method, q.path, {
        headers: q.headers,
        ...(q.body !== undefined ? { body: q.body } : {}),
      });
      expectWellFormed(res, q);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    // the run exercised the whole range of refusals, not one error path 250 times
    for (const status of [400, 404, 413, 415])
      expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    expect(statuses.size).toBeGreaterThanOrEqual(6);

    // nothing half-written: everything committed is delivered and the projections match the store
    await e2e.strata.waitForIdle();
    expect(await e2e.strata.outbox.stats()).toMatchObject({ pending: 0, ready: 0, deadLetters: 0 });
    const verify = await raw(e2e.url, 'POST', '/v1/admin/verify');
    expect(verify.body.drift).toEqual([]);
  });

  it('targeted framework-level garbage: bad percent-encoding, NUL, over-long segments and headers, unknown methods', async () => {
    const cases: [string, string, number, string, Record<string, string>?][] = [
      ['GET', '/v1/objects/City/%ZZ', 400, 'STRATA_ERR_REQUEST_INVALID'],
      ['GET', '/v1/objects/City/%C3%28', 400, 'STRATA_ERR_REQUEST_INVALID'],
      ['PATCH', '/v1/objects/%ZZ/x', 400, 'STRATA_ERR_REQUEST_INVALID'],
      ['GET', '/v1/objects/City/%00', 400, 'STRATA_ERR_ID_INVALID'],
      ['GET', `/v1/objects/City/${'y'.repeat(5000)}`, 414, 'STRATA_ERR_URI_TOO_LONG'],
      ['GET', `/v1/objects/City/${'z'.repeat(20_000)}`, 431, 'STRATA_ERR_HEADERS_TOO_LARGE'],
      ['GET', '/healthz', 431, 'STRATA_ERR_HEADERS_TOO_LARGE', { 'x-big': 'b'.repeat(20_000) }],
      ['BREW', '/v1/objects/City', 400, 'STRATA_ERR_REQUEST_INVALID'],
      // in a query string a broken escape stays literal: '%ZZ' is an ID like any other
      ['GET', '/v1/graph/traverse?type=City&id=%ZZ', 404, 'STRATA_ERR_OBJECT_NOT_FOUND'],
      ['GET', '/v1/objects/City/FUZZ-1?asOf=%C3%28', 400, 'STRATA_ERR_REQUEST_INVALID'],
    ];
    for (const [method, path, status, code, headers] of cases) {
      const res = await raw(e2e.url, method, path, { headers: headers ?? {} });
      const what = `${method} ${path.slice(0, 80)}`;
      expect([res.status, res.type, res.body?.code, res.body?.status], what).toEqual([
        status,
        'application/problem+json',
        code,
        status,
      ]);
    }
  });
});
