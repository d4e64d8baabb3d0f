/**
 * Acceptance: bad input is rejected with a clear 4xx application/problem+json and NOTHING is
 * written — no key in the event store, no outbox row (each case wrapped in expectNothingWritten).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testOntology } from '../support/fixtures.js';
import {
  type E2E,
  expectNothingWritten,
  expectProblem,
  inject,
  json,
  type Res,
  raw,
  startE2E,
  uid,
  violationPaths,
} from './http-harness.js';

let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E();
  expect((await inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: testOntology })).status).toBe(
    202,
  );
});

afterAll(async () => {
  await e2e?.stop();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  inject(e2e.app, { method: 'POST', url, payload: payload as Record<string, unknown>, headers });

async function create(type: 'City' | 'Country', code: string, extra: Record<string, unknown> = {}) {
  const res = await post(`/v1/objects/${type}`, { properties: { code, name: `${type} ${code}`, ...extra } });
  expect(res.status).toBe(202);
  return res;
}

/** Sends a request that must be rejected, and proves nothing was written. */
function rejected(act: () => Promise<Res>): Promise<Res> {
  return expectNothingWritten(e2e.strata, act);
}

describe('acceptance: bad input is rejected and nothing is written', () => {
  it('two Idempotency-Key headers → 400 (Node would join them into one key "a, b")', async () => {
    const res = await rejected(() =>
      raw(e2e.url, 'POST', '/v1/objects/City', {
        body: JSON.stringify({ properties: { code: uid('twokeys'), name: 'Two keys' } }),
        // Node sends each array item as a header line of its own.
        headers: { 'content-type': 'application/json', 'idempotency-key': ['a', 'b'] as unknown as string },
      }),
    );
    expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').detail).toBe(
      'send one Idempotency-Key header, not 2',
    );
  });

  it('unknown object type → 404 STRATA_ERR_TYPE_UNKNOWN', async () => {
    const res = await rejected(() => post('/v1/objects/Planet', { properties: { code: 'earth' } }));
    expect(expectProblem(res, 404, 'STRATA_ERR_TYPE_UNKNOWN').detail).toContain("'Planet'");
  });

  it('wrong property type → 422 with violation path /properties/x', async () => {
    const res = await rejected(() =>
      post('/v1/objects/City', {
        properties: { code: uid('T'), name: 'T', population: 'many', capital: 'yes' },
      }),
    );
    expectProblem(res, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(violationPaths(res)).toEqual(['/properties/capital', '/properties/population']);
  });

  it('wrong item type inside an array property → 422 with the item path', async () => {
    const res = await rejected(() =>
      post('/v1/objects/City', { properties: { code: uid('T'), name: 'T', tags: ['ok', 3] } }),
    );
    expectProblem(res, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(violationPaths(res)).toEqual(['/properties/tags/1']);
  });

  it('missing required property → 422 naming it', async () => {
    const res = await rejected(() => post('/v1/objects/City', { properties: { code: uid('T') } }));
    expectProblem(res, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(res.body.violations).toEqual([{ path: '/properties/name', message: 'is required' }]);
  });

  it('missing primary key → 422 naming it', async () => {
    const res = await rejected(() => post('/v1/objects/City', { properties: { name: 'nameless' } }));
    expectProblem(res, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(violationPaths(res)).toEqual(['/properties/code']);
  });

  it('unknown property → 422 naming it', async () => {
    const res = await rejected(() =>
      post('/v1/objects/City', { properties: { code: uid('T'), name: 'T', colour: 'red' } }),
    );
    expectProblem(res, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(violationPaths(res)).toEqual(['/properties/colour']);
  });

  it('unknown properties named like Object.prototype members (constructor, toString) → 422', async () => {
    const res = await rejected(() =>
      post('/v1/objects/City', {
        properties: { code: uid('T'), name: 'T', constructor: 5, toString: 'x', valueOf: 1 },
      }),
    );
    expectProblem(res, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(violationPaths(res)).toEqual([
      '/properties/constructor',
      '/properties/toString',
      '/properties/valueOf',
    ]);
    const id = uid('P');
    await create('City', id);
    const patch = await rejected(() =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { hasOwnProperty: 1 } },
      }),
    );
    expectProblem(patch, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(violationPaths(patch)).toEqual(['/properties/hasOwnProperty']);
  });

  it('impossible calendar dates and timestamps → 422 (they would break every search on the field)', async () => {
    for (const [name, value] of [
      ['updated', '2020-02-31T00:00:00Z'],
      ['updated', '0000-01-01T00:00:00Z'],
      ['updated', '2020-01-01T00:00:00-23:59'],
      ['updated', '2020-01-01T24:00:00Z'],
      ['founded', '2021-02-29'],
      ['founded', '2020-13-01'],
    ]) {
      const res = await rejected(() =>
        post('/v1/objects/City', { properties: { code: uid('D'), name: 'D', [name!]: value } }),
      );
      expectProblem(res, 422, 'STRATA_ERR_VALIDATION_FAILED');
      expect(violationPaths(res)).toEqual([`/properties/${name}`]);
    }
    // valid edge values stay accepted
    const ok = await post('/v1/objects/City', {
      properties: {
        code: uid('D'),
        name: 'D',
        founded: '2024-02-29',
        updated: '2024-02-29T23:59:59.999+14:00',
      },
    });
    expect(ok.status).toBe(202);
  });

  it('NUL characters or unpaired surrogates anywhere in a JSON body → 400 (no engine can store them)', async () => {
    const id = uid('N');
    await create('City', id);
    const cases: [string, string, string][] = [
      [
        '/v1/objects/City',
        `{"properties":{"code":"${uid('N')}","name":"a\\u0000b"}}`,
        '/body/properties/name',
      ],
      ['/v1/objects/City', `{"properties":{"code":"${uid('N')}","name":"\\ud800"}}`, '/body/properties/name'],
      [
        '/v1/objects/City',
        `{"properties":{"code":"${uid('N')}","name":"n","extra":{"k\\u0000":1}}}`,
        '/body/properties/extra',
      ],
      [
        '/v1/objects/City',
        `{"properties":{"code":"${uid('N')}","name":"n","tags":["x","\\udfff"]}}`,
        '/body/properties/tags/1',
      ],
      [`/v1/objects/City/${id}/links/twinnedWith`, '{"targetId":"\\ud83d"}', '/body/targetId'],
      ['/v1/search', '{"type":"City","text":"a\\u0000"}', '/body/text'],
    ];
    for (const [url, payload, path] of cases) {
      const res = await rejected(() => inject(e2e.app, { method: 'POST', url, payload, headers: json }));
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
      expect(violationPaths(res)).toEqual([path]);
    }
  });

  it('JSON nested deeper than the limit → 400, not a 503 with a stranded intent', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await rejected(() =>
      inject(e2e.app, {
        method: 'POST',
        url: '/v1/objects/City',
        payload: `{"properties":{"code":"${uid('J')}","name":"n","extra":${deep}}}`,
        headers: json,
      }),
    );
    expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').detail).toMatch(/nest/);
    // reasonable nesting stays accepted
    const ok = await post('/v1/objects/City', {
      properties: { code: uid('J'), name: 'n', extra: { a: [{ b: { c: [1, 2, { d: null }] } }] } },
    });
    expect(ok.status).toBe(202);
  });

  it('link to a missing object → 422 STRATA_ERR_LINK_TARGET_MISSING', async () => {
    const id = uid('L');
    await create('City', id);
    const res = await rejected(() =>
      post(`/v1/objects/City/${id}/links/inCountry`, { targetId: uid('nowhere') }),
    );
    expect(expectProblem(res, 422, 'STRATA_ERR_LINK_TARGET_MISSING').detail).toContain(
      'needs an existing Country',
    );
  });

  it('link to a deleted object → 422 STRATA_ERR_LINK_TARGET_MISSING', async () => {
    const id = uid('L');
    const gone = uid('G');
    await create('City', id);
    await create('Country', gone);
    expect((await inject(e2e.app, { method: 'DELETE', url: `/v1/objects/Country/${gone}` })).status).toBe(
      202,
    );
    const res = await rejected(() => post(`/v1/objects/City/${id}/links/inCountry`, { targetId: gone }));
    expectProblem(res, 422, 'STRATA_ERR_LINK_TARGET_MISSING');
  });

  it('link type used from the wrong object type → 404 STRATA_ERR_TYPE_UNKNOWN', async () => {
    const country = uid('C');
    const other = uid('C');
    await create('Country', country);
    await create('Country', other);
    // inCountry goes City → Country; a Country cannot be its source
    const res = await rejected(() =>
      post(`/v1/objects/Country/${country}/links/inCountry`, { targetId: other }),
    );
    expect(expectProblem(res, 404, 'STRATA_ERR_TYPE_UNKNOWN').detail).toContain("'inCountry' from 'Country'");
    const unknown = await rejected(() =>
      post(`/v1/objects/Country/${country}/links/borders`, { targetId: other }),
    );
    expectProblem(unknown, 404, 'STRATA_ERR_TYPE_UNKNOWN');
  });

  it('link from a missing source → 404 STRATA_ERR_OBJECT_NOT_FOUND', async () => {
    const country = uid('C');
    await create('Country', country);
    const res = await rejected(() =>
      post(`/v1/objects/City/${uid('none')}/links/inCountry`, { targetId: country }),
    );
    expectProblem(res, 404, 'STRATA_ERR_OBJECT_NOT_FOUND');
  });

  it("cardinality 'one' exceeded → 422 STRATA_ERR_LINK_CARDINALITY", async () => {
    const id = uid('L');
    const [a, b] = [uid('CA'), uid('CB')];
    await create('City', id);
    await create('Country', a);
    await create('Country', b);
    expect((await post(`/v1/objects/City/${id}/links/inCountry`, { targetId: a })).status).toBe(202);
    const res = await rejected(() => post(`/v1/objects/City/${id}/links/inCountry`, { targetId: b }));
    expect(expectProblem(res, 422, 'STRATA_ERR_LINK_CARDINALITY').detail).toContain('allows one target');
  });

  it("inverse cardinality 'one' exceeded (two capitals of one country) → 422 STRATA_ERR_LINK_CARDINALITY", async () => {
    const [c1, c2, country] = [uid('K1'), uid('K2'), uid('KC')];
    await create('City', c1);
    await create('City', c2);
    await create('Country', country);
    expect((await post(`/v1/objects/City/${c1}/links/capitalOf`, { targetId: country })).status).toBe(202);
    await e2e.strata.waitForIdle(); // the inverse side is checked on the graph projection
    const res = await rejected(() => post(`/v1/objects/City/${c2}/links/capitalOf`, { targetId: country }));
    expect(expectProblem(res, 422, 'STRATA_ERR_LINK_CARDINALITY').detail).toContain('one per target');
  });

  it('create of an existing object → 409 STRATA_ERR_OBJECT_EXISTS', async () => {
    const id = uid('E');
    await create('City', id);
    const res = await rejected(() => post('/v1/objects/City', { properties: { code: id, name: 'again' } }));
    expect(expectProblem(res, 409, 'STRATA_ERR_OBJECT_EXISTS')).toMatchObject({ version: 1 });
  });

  it('malformed JSON → 400 STRATA_ERR_REQUEST_INVALID', async () => {
    for (const payload of [
      '{"properties":',
      '{bad json}',
      "{'single':'quotes'}",
      '{"properties":{}}garbage',
    ]) {
      const res = await rejected(() =>
        inject(e2e.app, { method: 'POST', url: '/v1/objects/City', payload, headers: json }),
      );
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    }
    const empty = await rejected(() =>
      inject(e2e.app, { method: 'POST', url: '/v1/objects/City', payload: '', headers: json }),
    );
    expect(expectProblem(empty, 400, 'STRATA_ERR_REQUEST_INVALID').detail).toContain('empty');
  });

  it('a JSON body of the wrong shape → 400 with violations', async () => {
    for (const [payload, path] of [
      ['null', '/body'],
      ['[]', '/body'],
      ['{"properties":[]}', '/body/properties'],
      ['{"properties":{},"extra":1}', '/body'],
    ] as const) {
      const res = await rejected(() =>
        inject(e2e.app, { method: 'POST', url: '/v1/objects/City', payload, headers: json }),
      );
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
      expect(violationPaths(res)).toContain(path);
    }
  });

  it('JSON body values of the wrong type are refused, not coerced (400 "must be string" etc.)', async () => {
    const id = uid('CO');
    await create('City', id);
    await create('City', '1');
    for (const [payload, message] of [
      ['{"targetId":["1"]}', 'must be string'],
      ['{"targetId":1}', 'must be string'],
      ['{"targetId":true}', 'must be string'],
    ] as const) {
      const res = await rejected(() =>
        inject(e2e.app, {
          method: 'POST',
          url: `/v1/objects/City/${id}/links/twinnedWith`,
          payload,
          headers: json,
        }),
      );
      expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').violations, payload).toEqual([
        { path: '/body/targetId', message },
      ]);
    }
    const ontology = structuredClone(testOntology) as unknown as {
      objectTypes: { properties: Record<string, Record<string, unknown>> }[];
    };
    ontology.objectTypes[0]!.properties.motto = { type: 'string', required: 'true' };
    const put = await rejected(() =>
      inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: ontology }),
    );
    expect(expectProblem(put, 400, 'STRATA_ERR_REQUEST_INVALID').violations).toEqual([
      { path: '/body/objectTypes/0/properties/motto/required', message: 'must be boolean' },
    ]);
    for (const [body, path, message] of [
      [{ filters: [{ field: 'name', eq: null }] }, '/body/filters/0/eq', 'must be string,number,boolean'],
      [{ page: { size: '5' } }, '/body/page/size', 'must be integer'],
      [{ page: { size: [5] } }, '/body/page/size', 'must be integer'],
      [{ text: 5 }, '/body/text', 'must be string'],
    ] as const) {
      const res = await post('/v1/search', { type: 'City', ...body });
      expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').violations, JSON.stringify(body)).toEqual([
        { path, message },
      ]);
    }
    // the querystring, path parameters and headers still take numbers as text
    const history = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}/history?limit=1` });
    expect({ status: history.status, events: history.body.events.length }).toEqual({
      status: 200,
      events: 1,
    });
  });

  it('prototype-poisoning keys → 400', async () => {
    const res = await rejected(() =>
      inject(e2e.app, {
        method: 'POST',
        url: '/v1/objects/City',
        payload: `{"properties":{"code":"${uid('X')}","name":"n","__proto__":{"admin":true}}}`,
        headers: json,
      }),
    );
    expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
  });

  it('wrong content type → 415 STRATA_ERR_MEDIA_TYPE_UNSUPPORTED', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await rejected(() =>
        inject(e2e.app, {
          method: 'POST',
          url: '/v1/objects/City',
          payload: JSON.stringify({ properties: { code: uid('M'), name: 'm' } }),
          headers: { 'content-type': type },
        }),
      );
      expectProblem(res, 415, 'STRATA_ERR_MEDIA_TYPE_UNSUPPORTED');
    }
  });

  it('a Content-Encoding other than identity on a body → 415 naming it (bodies are not decoded)', async () => {
    const body = (code: string) => JSON.stringify({ properties: { code, name: 'e' } });
    for (const [encoding, payload] of [
      ['gzip', gzipSync(body(uid('E')))],
      ['gzip', body(uid('E'))],
      ['br', body(uid('E'))],
      ['GZIP', body(uid('E'))],
      ['identity, gzip', body(uid('E'))],
    ] as const) {
      const res = await rejected(() =>
        inject(e2e.app, {
          method: 'POST',
          url: '/v1/objects/City',
          payload,
          headers: { ...json, 'content-encoding': encoding },
        }),
      );
      expect(expectProblem(res, 415, 'STRATA_ERR_MEDIA_TYPE_UNSUPPORTED').detail, encoding).toMatch(
        /Content-Encoding/,
      );
    }
    for (const encoding of ['identity', 'Identity']) {
      const res = await inject(e2e.app, {
        method: 'POST',
        url: '/v1/objects/City',
        payload: body(uid('E')),
        headers: { ...json, 'content-encoding': encoding },
      });
      expect(res.status, encoding).toBe(202);
    }
  });

  it('body too large → 413 STRATA_ERR_PAYLOAD_TOO_LARGE', async () => {
    const limit = e2e.strata.config.http.bodyLimit;
    const payload = JSON.stringify({ properties: { code: uid('BIG'), name: 'x'.repeat(limit) } });
    const res = await rejected(() =>
      inject(e2e.app, { method: 'POST', url: '/v1/objects/City', payload, headers: json }),
    );
    expectProblem(res, 413, 'STRATA_ERR_PAYLOAD_TOO_LARGE');
  });

  it('If-Match garbage → 400 STRATA_ERR_REQUEST_INVALID', async () => {
    const id = uid('IM');
    await create('City', id);
    for (const header of ['garbage', '"x"', '*', '-1', '"1", "2"', '1.5', '9'.repeat(16)]) {
      const res = await rejected(() =>
        inject(e2e.app, {
          method: 'PATCH',
          url: `/v1/objects/City/${id}`,
          payload: { properties: { population: 1 } },
          headers: { 'if-match': header },
        }),
      );
      expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').detail).toContain('If-Match');
    }
  });

  it('ID with control characters → 400 STRATA_ERR_ID_INVALID (in the body, the path and a link target)', async () => {
    for (const code of ['a\u0001b', 'tab\there', 'new\nline', 'del\u007f', '\u001f']) {
      const res = await rejected(() => post('/v1/objects/City', { properties: { code, name: 'ctl' } }));
      expectProblem(res, 400, 'STRATA_ERR_ID_INVALID');
    }
    const path = await rejected(() =>
      inject(e2e.app, { method: 'PATCH', url: '/v1/objects/City/a%01b', payload: { properties: {} } }),
    );
    expectProblem(path, 400, 'STRATA_ERR_ID_INVALID');
    expectProblem(
      await inject(e2e.app, { method: 'GET', url: '/v1/objects/City/a%0Ab' }),
      400,
      'STRATA_ERR_ID_INVALID',
    );
    expectProblem(
      await inject(e2e.app, { method: 'GET', url: '/v1/objects/City/%00' }),
      400,
      'STRATA_ERR_ID_INVALID',
    );
    const id = uid('S');
    await create('City', id);
    const link = await rejected(() =>
      post(`/v1/objects/City/${id}/links/twinnedWith`, { targetId: 'x\u0002y' }),
    );
    expectProblem(link, 400, 'STRATA_ERR_ID_INVALID');
  });

  it('a leading byte-order mark (U+FEFF) in an ID or a string value → 4xx naming the pointer', async () => {
    // PGlite returns '\ufeffbom' from a text column as 'bom': the relay would look for another stream.
    const created = await rejected(() =>
      post('/v1/objects/City', { properties: { code: '\ufeffbom', name: 'x' } }),
    );
    expect(expectProblem(created, 400, 'STRATA_ERR_ID_INVALID').detail).toContain('byte-order mark');
    expect(violationPaths(created)).toEqual(['/properties/code']);
    const path = await rejected(() =>
      inject(e2e.app, {
        method: 'PATCH',
        url: '/v1/objects/City/%EF%BB%BFbom',
        payload: { properties: { population: 1 } },
      }),
    );
    expectProblem(path, 400, 'STRATA_ERR_ID_INVALID');
    const id = uid('BOM');
    await create('City', id);
    const link = await rejected(() =>
      post(`/v1/objects/City/${id}/links/twinnedWith`, { targetId: '\ufeffbom' }),
    );
    expectProblem(link, 400, 'STRATA_ERR_ID_INVALID');
    expect(violationPaths(link)).toEqual(['/targetId']);
    const title = await rejected(() =>
      post('/v1/objects/City', { properties: { code: uid('BOM'), name: '\ufeffTitle', tags: ['\ufeffa'] } }),
    );
    expect(expectProblem(title, 422, 'STRATA_ERR_VALIDATION_FAILED').violations).toEqual([
      { path: '/properties/name', message: expect.stringContaining('byte-order mark') },
      { path: '/properties/tags/0', message: expect.stringContaining('byte-order mark') },
    ]);
    const patch = await rejected(() =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { name: '\ufeffTitle' } },
      }),
    );
    expectProblem(patch, 422, 'STRATA_ERR_VALIDATION_FAILED');
    expect(violationPaths(patch)).toEqual(['/properties/name']);
  });

  it('too-long ID → 400 STRATA_ERR_ID_INVALID', async () => {
    // 255 bytes once encoded is the limit: 256 ASCII letters, or 30 emoji (4 bytes → 12 encoded each)
    for (const code of ['x'.repeat(256), '😀'.repeat(30)]) {
      const res = await rejected(() => post('/v1/objects/City', { properties: { code, name: 'long' } }));
      expect(expectProblem(res, 400, 'STRATA_ERR_ID_INVALID').detail).toContain('too long');
    }
    const get = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${'y'.repeat(300)}` });
    expectProblem(get, 400, 'STRATA_ERR_ID_INVALID');
    // the longest accepted ID is accepted
    expect(
      (await post('/v1/objects/City', { properties: { code: 'z'.repeat(255), name: 'max' } })).status,
    ).toBe(202);
  });

  it('invalid ontology → 422 STRATA_ERR_ONTOLOGY_INVALID with violations', async () => {
    const bad = structuredClone(testOntology);
    bad.objectTypes.push({
      apiName: 'river',
      primaryKey: 'id',
      titleProperty: 'label',
      properties: { id: { type: 'string' }, Flow: { type: 'enum' } },
    });
    bad.linkTypes.push({ apiName: 'flowsTo', from: 'River', to: 'Sea', cardinality: 'many' });
    const res = await rejected(() => inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: bad }));
    expectProblem(res, 422, 'STRATA_ERR_ONTOLOGY_INVALID');
    expect(violationPaths(res)).toEqual([
      '/linkTypes/3/from',
      '/linkTypes/3/to',
      '/objectTypes/2/apiName',
      '/objectTypes/2/primaryKey',
      '/objectTypes/2/properties/Flow',
      '/objectTypes/2/properties/Flow/values',
      '/objectTypes/2/titleProperty',
    ]);
  });

  it('an ontology naming Object.prototype members as keys → 422 (primaryKey/titleProperty must be real properties)', async () => {
    const bad = structuredClone(testOntology);
    bad.objectTypes.push({
      apiName: 'Sea',
      primaryKey: 'code',
      titleProperty: 'constructor',
      properties: { code: { type: 'string', required: true } },
    });
    const res = await rejected(() => inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: bad }));
    expectProblem(res, 422, 'STRATA_ERR_ONTOLOGY_INVALID');
    expect(violationPaths(res)).toEqual(['/objectTypes/2/titleProperty']);
  });

  it('breaking ontology change → 422 STRATA_ERR_ONTOLOGY_BREAKING_CHANGE with violations', async () => {
    const next = structuredClone(testOntology);
    const cityProps = next.objectTypes[0]!.properties;
    delete cityProps.population;
    cityProps.area = { type: 'string' };
    cityProps.mayor = { type: 'string', required: true };
    next.objectTypes = next.objectTypes.filter((t) => t.apiName !== 'Country');
    next.linkTypes = next.linkTypes.filter((l) => l.apiName === 'twinnedWith');
    next.linkTypes[0]!.cardinality = 'one';
    const res = await rejected(() => inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: next }));
    expectProblem(res, 422, 'STRATA_ERR_ONTOLOGY_BREAKING_CHANGE');
    expect(violationPaths(res)).toEqual([
      '/linkTypes/capitalOf',
      '/linkTypes/inCountry',
      '/linkTypes/twinnedWith/cardinality',
      '/objectTypes/City/properties/area',
      '/objectTypes/City/properties/mayor',
      '/objectTypes/City/properties/population',
      '/objectTypes/Country',
    ]);
  });

  it('an ontology body that does not match the schema → 400 with violations', async () => {
    const res = await rejected(() =>
      inject(e2e.app, {
        method: 'PUT',
        url: '/v1/ontology',
        payload: {
          objectTypes: [
            { apiName: 'X', primaryKey: 'k', titleProperty: 'k', properties: { k: { type: 'uuid' } } },
          ],
          linkTypes: [],
        },
      }),
    );
    expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    expect(violationPaths(res)).toEqual(['/body/objectTypes/0/properties/k/type']);
  });
});
