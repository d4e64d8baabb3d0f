/**
 * Ontology and object commands through HTTP (app.inject on a running system): create, read,
 * patch, delete, links, If-Match, Idempotency-Key, time travel and history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testOntology } from '../support/fixtures.js';
import { type E2E, expectNothingWritten, expectProblem, inject, startE2E, uid } from './http-harness.js';

let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E();
  const put = await inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: testOntology });
  expect(put.status).toBe(202);
});

afterAll(async () => {
  await e2e?.stop();
});

const city = (code: string, extra: Record<string, unknown> = {}) => ({
  properties: { code, name: `City ${code}`, ...extra },
});

async function create(code: string, extra: Record<string, unknown> = {}, type = 'City') {
  const body =
    type === 'City' ? city(code, extra) : { properties: { code, name: `${type} ${code}`, ...extra } };
  const res = await inject(e2e.app, { method: 'POST', url: `/v1/objects/${type}`, payload: body });
  expect(res.status).toBe(202);
  return res;
}

async function history(type: string, id: string) {
  const res = await inject(e2e.app, {
    method: 'GET',
    url: `/v1/objects/${type}/${encodeURIComponent(id)}/history`,
  });
  return res;
}

describe('ontology', () => {
  it('GET /v1/ontology returns the current definition, its version and an ETag', async () => {
    const res = await inject(e2e.app, { method: 'GET', url: '/v1/ontology' });
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.body.version).toBeGreaterThanOrEqual(1);
    expect(res.headers.etag).toBe(`"${res.body.version}"`);
    expect(res.body.objectTypes.map((t: { apiName: string }) => t.apiName)).toEqual(['City', 'Country']);
    expect(res.body.linkTypes.map((l: { apiName: string }) => l.apiName)).toEqual([
      'inCountry',
      'twinnedWith',
      'capitalOf',
    ]);
  });

  it('PUT /v1/ontology accepts an additive change as a new OntologyChanged event (202, version + 1)', async () => {
    const before = (await inject(e2e.app, { method: 'GET', url: '/v1/ontology' })).body;
    const next = structuredClone(testOntology);
    next.objectTypes[1]!.properties.motto = { type: 'string' };
    const res = await inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: next });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      event_type: 'OntologyChanged',
      aggregate_type: 'ontology',
      aggregate_id: 'default',
      version: before.version + 1,
      deduplicated: false,
    });
    expect(res.headers.etag).toBe(`"${before.version + 1}"`);
    expect(res.headers.location).toBeUndefined();
    const after = await inject(e2e.app, { method: 'GET', url: '/v1/ontology' });
    expect(after.body.version).toBe(before.version + 1);
    expect(after.body.objectTypes[1].properties.motto).toEqual({ type: 'string' });
    // the new optional property is usable at once
    const id = uid('motto');
    const created = await inject(e2e.app, {
      method: 'POST',
      url: '/v1/objects/Country',
      payload: { properties: { code: id, name: 'X', motto: 'Liberté' } },
    });
    expect(created.status).toBe(202);
  });

  it('PUT /v1/ontology of the current definition writes nothing, unless a key must be bound to an event', async () => {
    const { version, ...current } = (await inject(e2e.app, { method: 'GET', url: '/v1/ontology' })).body;
    const res = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: current }),
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ event_type: 'OntologyChanged', version, deduplicated: true });
    // With an Idempotency-Key the PUT is an event carrying the key, so that its retries answer with it.
    const key = uid('same-ontology');
    const put = () =>
      inject(e2e.app, {
        method: 'PUT',
        url: '/v1/ontology',
        payload: current,
        headers: { 'idempotency-key': key },
      });
    const keyed = await put();
    expect(keyed.body).toMatchObject({ version: version + 1, deduplicated: false });
    expect((await put()).body).toEqual({ ...keyed.body, deduplicated: true });
  });

  it('PUT /v1/ontology with a stale If-Match is a 409 and writes nothing', async () => {
    const current = (await inject(e2e.app, { method: 'GET', url: '/v1/ontology' })).body;
    const { version: _v, ...ontology } = current;
    const res = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PUT',
        url: '/v1/ontology',
        payload: ontology,
        headers: { 'if-match': '"1"' },
      }),
    );
    expect(current.version).toBeGreaterThan(1);
    const p = expectProblem(res, 409, 'STRATA_ERR_CONCURRENCY_CONFLICT');
    expect(p).toMatchObject({ expectedVersion: 1, currentVersion: current.version });
  });

  it('PUT /v1/ontology takes back what GET gave: its version is the expected one, like If-Match', async () => {
    const current = (await inject(e2e.app, { method: 'GET', url: '/v1/ontology' })).body;
    const same = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: current }),
    );
    expect(same.status, same.text).toBe(202);
    expect(same.body).toMatchObject({ version: current.version, deduplicated: true });
    const agreeing = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PUT',
        url: '/v1/ontology',
        payload: current,
        headers: { 'if-match': `"${current.version}"` },
      }),
    );
    expect(agreeing.body).toMatchObject({ version: current.version, deduplicated: true });

    const stale = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: { ...current, version: 1 } }),
    );
    expect(current.version).toBeGreaterThan(1);
    expect(expectProblem(stale, 409, 'STRATA_ERR_CONCURRENCY_CONFLICT')).toMatchObject({
      expectedVersion: 1,
      currentVersion: current.version,
    });

    const disagreeing = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PUT',
        url: '/v1/ontology',
        payload: current,
        headers: { 'if-match': `"${current.version + 1}"` },
      }),
    );
    expect(expectProblem(disagreeing, 400, 'STRATA_ERR_REQUEST_INVALID').detail).toBe(
      `If-Match "${current.version + 1}" and the body's version ${current.version} disagree: give one, or the same in both`,
    );
    for (const version of [-1, 1.5, 'three']) {
      const bad = await inject(e2e.app, {
        method: 'PUT',
        url: '/v1/ontology',
        payload: { ...current, version },
      });
      expect(expectProblem(bad, 400, 'STRATA_ERR_REQUEST_INVALID').violations?.map((v) => v.path)).toContain(
        '/body/version',
      );
    }

    // A change made on what GET returned commits as the next version, without a version in the event.
    const next = structuredClone(current);
    next.objectTypes[0].properties.nickname = { type: 'string' };
    const changed = await inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: next });
    expect(changed.body).toMatchObject({ version: current.version + 1, deduplicated: false });
    const after = (await inject(e2e.app, { method: 'GET', url: '/v1/ontology' })).body;
    expect(after).toEqual({ ...next, version: current.version + 1 });
  });

  it('PUT /v1/ontology rejects a body that does not match the schema with 400 and violations', async () => {
    const res = await inject(e2e.app, {
      method: 'PUT',
      url: '/v1/ontology',
      payload: { objectTypes: 'nope' },
    });
    const p = expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    // a string is not wrapped into an array (bodies are validated without coercion)
    expect(p.violations).toEqual([
      { path: '/body', message: "must have required property 'linkTypes'" },
      { path: '/body/objectTypes', message: 'must be array' },
    ]);
  });
});

describe('objects: create, read, update, delete', () => {
  it('POST creates an object: 202 with the event, ETag and a Location that GET resolves', async () => {
    const id = uid('Lyon');
    const res = await create(id, {
      population: 516_092,
      tags: ['gastronomy'],
      location: { lat: 45.76, lon: 4.84 },
    });
    expect(res.body).toEqual({
      event_id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      event_type: 'ObjectCreated',
      aggregate_type: 'City',
      aggregate_id: id,
      version: 1,
      deduplicated: false,
    });
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`/v1/objects/City/${id}`);
    const got = await inject(e2e.app, { method: 'GET', url: res.headers.location as string });
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe('"1"');
    expect(got.body).toMatchObject({
      type: 'City',
      id,
      version: 1,
      properties: {
        code: id,
        name: `City ${id}`,
        population: 516_092,
        tags: ['gastronomy'],
        location: { lat: 45.76, lon: 4.84 },
      },
      links: {},
    });
    expect(got.body.createdAt).toBe(got.body.updatedAt);
  });

  it('GET of an unknown object is 404 STRATA_ERR_OBJECT_NOT_FOUND, of an unknown type 404 STRATA_ERR_TYPE_UNKNOWN', async () => {
    expectProblem(
      await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${uid('nobody')}` }),
      404,
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
    expectProblem(
      await inject(e2e.app, { method: 'GET', url: '/v1/objects/Planet/earth' }),
      404,
      'STRATA_ERR_TYPE_UNKNOWN',
    );
  });

  it('PATCH merges properties; null removes an optional one; the primary key cannot change', async () => {
    const id = uid('Nice');
    await create(id, { population: 340_000, kind: 'town' });
    const res = await inject(e2e.app, {
      method: 'PATCH',
      url: `/v1/objects/City/${id}`,
      payload: { properties: { population: 342_669, kind: null, capital: false } },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      event_type: 'ObjectUpdated',
      aggregate_id: id,
      version: 2,
      deduplicated: false,
    });
    expect(res.headers.etag).toBe('"2"');
    const got = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` });
    expect(got.body.properties).toEqual({
      code: id,
      name: `City ${id}`,
      population: 342_669,
      capital: false,
    });
    expect(got.body.version).toBe(2);

    const pk = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { code: 'other' } },
      }),
    );
    expect(expectProblem(pk, 422, 'STRATA_ERR_VALIDATION_FAILED').violations).toEqual([
      { path: '/properties/code', message: expect.stringContaining('primary key') },
    ]);
    const required = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { name: null } },
      }),
    );
    expect(
      expectProblem(required, 422, 'STRATA_ERR_VALIDATION_FAILED').violations?.map((v) => v.path),
    ).toEqual(['/properties/name']);
  });

  it('PATCH and DELETE of a missing object are 404 and write nothing', async () => {
    const id = uid('ghost');
    const patch = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { name: 'x' } },
      }),
    );
    expectProblem(patch, 404, 'STRATA_ERR_OBJECT_NOT_FOUND');
    const del = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, { method: 'DELETE', url: `/v1/objects/City/${id}` }),
    );
    expectProblem(del, 404, 'STRATA_ERR_OBJECT_NOT_FOUND');
  });

  it('DELETE removes the object (GET 404), a second DELETE is 404, re-creating continues the stream', async () => {
    const id = uid('Atlantis');
    await create(id);
    const del = await inject(e2e.app, { method: 'DELETE', url: `/v1/objects/City/${id}` });
    expect(del.status).toBe(202);
    expect(del.body).toMatchObject({ event_type: 'ObjectDeleted', version: 2 });
    expectProblem(
      await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` }),
      404,
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
    expectProblem(
      await inject(e2e.app, { method: 'DELETE', url: `/v1/objects/City/${id}` }),
      404,
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
    const again = await create(id, { population: 1 });
    expect(again.body).toMatchObject({ event_type: 'ObjectCreated', version: 3 });
    const got = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` });
    expect(got.body).toMatchObject({ version: 3, properties: { population: 1 } });
  });
});

describe('If-Match', () => {
  it('a matching If-Match commits; a stale one is 409 with expected and current versions and writes nothing', async () => {
    const id = uid('Lille');
    await create(id);
    const ok = await inject(e2e.app, {
      method: 'PATCH',
      url: `/v1/objects/City/${id}`,
      payload: { properties: { population: 1 } },
      headers: { 'if-match': '"1"' },
    });
    expect(ok.status).toBe(202);
    expect(ok.body.version).toBe(2);
    const stale = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { population: 2 } },
        headers: { 'if-match': '"1"' },
      }),
    );
    expect(expectProblem(stale, 409, 'STRATA_ERR_CONCURRENCY_CONFLICT')).toMatchObject({
      expectedVersion: 1,
      currentVersion: 2,
    });
    // W/"2" and a bare 2 are accepted forms too
    for (const [header, version] of [
      ['W/"2"', 3],
      ['3', 4],
    ] as const) {
      const r = await inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { population: version } },
        headers: { 'if-match': header },
      });
      expect(r.status).toBe(202);
      expect(r.body.version).toBe(version);
    }
    const del = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, { method: 'DELETE', url: `/v1/objects/City/${id}`, headers: { 'if-match': '"1"' } }),
    );
    expectProblem(del, 409, 'STRATA_ERR_CONCURRENCY_CONFLICT');
  });

  it('If-Match "0" on create succeeds only for a new object', async () => {
    const id = uid('Brest');
    const res = await inject(e2e.app, {
      method: 'POST',
      url: '/v1/objects/City',
      payload: city(id),
      headers: { 'if-match': '"0"' },
    });
    expect(res.status).toBe(202);
    const again = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'POST',
        url: '/v1/objects/City',
        payload: city(id),
        headers: { 'if-match': '"0"' },
      }),
    );
    expectProblem(again, 409, 'STRATA_ERR_CONCURRENCY_CONFLICT');
  });
});

describe('Idempotency-Key', () => {
  it('a retried create with the same key returns the same event with deduplicated: true and no second event', async () => {
    const id = uid('Dijon');
    const key = uid('key');
    const first = await inject(e2e.app, {
      method: 'POST',
      url: '/v1/objects/City',
      payload: city(id),
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(202);
    expect(first.body.deduplicated).toBe(false);
    const second = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'POST',
        url: '/v1/objects/City',
        payload: city(id),
        headers: { 'idempotency-key': key },
      }),
    );
    expect(second.status).toBe(202);
    expect(second.body).toEqual({ ...first.body, deduplicated: true });
    const h = await history('City', id);
    expect(h.body.events.map((e: { command_id: string }) => e.command_id)).toEqual([key]);
  });

  it('a PATCH that changes nothing (an empty one too) writes nothing and answers with the current version, unless a key must be bound', async () => {
    const id = uid('Toul');
    await create(id, { population: 5 });
    for (const properties of [{}, { population: 5 }, { name: `City ${id}`, kind: null }]) {
      const res = await expectNothingWritten(e2e.strata, () =>
        inject(e2e.app, { method: 'PATCH', url: `/v1/objects/City/${id}`, payload: { properties } }),
      );
      expect({ status: res.status, etag: res.headers.etag }, JSON.stringify(properties)).toEqual({
        status: 202,
        etag: '"1"',
      });
      expect(res.body).toMatchObject({ event_type: 'ObjectCreated', version: 1, deduplicated: true });
    }
    // still validated first: an invalid patch is a 422, not a no-op
    const bad = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { code: id } },
      }),
    );
    expectProblem(bad, 422, 'STRATA_ERR_VALIDATION_FAILED');
    // With an Idempotency-Key the PATCH is an event carrying the key, as for an unchanged ontology PUT.
    const keyed = () =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: {} },
        headers: { 'idempotency-key': `${id}-empty` },
      });
    const k1 = await keyed();
    expect(k1.body).toMatchObject({ event_type: 'ObjectUpdated', version: 2, deduplicated: false });
    expect((await keyed()).body).toEqual({ ...k1.body, deduplicated: true });
  });

  it('a retried PATCH and DELETE with the same key yield one event each', async () => {
    const id = uid('Metz');
    await create(id);
    const patch = () =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { population: 7 } },
        headers: { 'idempotency-key': `${id}-patch` },
      });
    const p1 = await patch();
    const p2 = await patch();
    expect([p1.status, p2.status]).toEqual([202, 202]);
    expect(p2.body).toEqual({ ...p1.body, deduplicated: true });
    const del = () =>
      inject(e2e.app, {
        method: 'DELETE',
        url: `/v1/objects/City/${id}`,
        headers: { 'idempotency-key': `${id}-del` },
      });
    const d1 = await del();
    const d2 = await del();
    expect([d1.status, d2.status]).toEqual([202, 202]);
    expect(d2.body).toEqual({ ...d1.body, deduplicated: true });
    const h = await history('City', id);
    expect(h.body.events.map((e: { event_type: string }) => e.event_type)).toEqual([
      'ObjectCreated',
      'ObjectUpdated',
      'ObjectDeleted',
    ]);
  });

  it('concurrent retries with one key commit exactly one event', async () => {
    const id = uid('Rennes');
    await create(id);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        inject(e2e.app, {
          method: 'PATCH',
          url: `/v1/objects/City/${id}`,
          payload: { properties: { population: 99 } },
          headers: { 'idempotency-key': `${id}-k` },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(results.map((r) => r.body.event_id)).size).toBe(1);
    expect(results.filter((r) => r.body.deduplicated === false)).toHaveLength(1);
    const events = [];
    for await (const e of e2e.strata.store.readStream({ type: 'City', id })) events.push(e);
    expect(events.map((e) => e.version)).toEqual([1, 2]);
  });

  it('the same key with another request is 422 STRATA_ERR_IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
    const id = uid('Nancy');
    await create(id);
    const key = `${id}-reused`;
    const patch = (properties: Record<string, unknown>) =>
      inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties },
        headers: { 'idempotency-key': key },
      });
    expect((await patch({ population: 5, name: 'Nancy' })).status).toBe(202);
    // The same request with its keys in another order is the same request: a replay.
    const retried = await expectNothingWritten(e2e.strata, () => patch({ name: 'Nancy', population: 5 }));
    expect(retried.status).toBe(202);
    expect(retried.body.deduplicated).toBe(true);
    const other = await expectNothingWritten(e2e.strata, () => patch({ population: 6, name: 'Nancy' }));
    const p = expectProblem(other, 422, 'STRATA_ERR_IDEMPOTENCY_KEY_REUSED');
    expect(p.detail).toContain(`'${key}' already produced version 2 of City/`);
    const deleted = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'DELETE',
        url: `/v1/objects/City/${id}`,
        headers: { 'idempotency-key': key },
      }),
    );
    expectProblem(deleted, 422, 'STRATA_ERR_IDEMPOTENCY_KEY_REUSED');
    const h = await history('City', id);
    expect(h.body.events.map((e: { version: number }) => e.version)).toEqual([1, 2]);
  });

  it("a create under an update's key, or an invalid body under a used key, is 422 and writes nothing", async () => {
    const id = uid('Lille');
    await create(id);
    const key = `${id}-patch`;
    const patched = await inject(e2e.app, {
      method: 'PATCH',
      url: `/v1/objects/City/${id}`,
      payload: { properties: { population: 1 } },
      headers: { 'idempotency-key': key },
    });
    expect(patched.status).toBe(202);
    const reused = [
      { method: 'POST' as const, url: '/v1/objects/City', payload: city(id) },
      {
        method: 'PATCH' as const,
        url: `/v1/objects/City/${id}`,
        payload: { properties: { population: 'many' } },
      },
    ];
    for (const request of reused) {
      const res = await expectNothingWritten(e2e.strata, () =>
        inject(e2e.app, { ...request, headers: { 'idempotency-key': key } }),
      );
      expectProblem(res, 422, 'STRATA_ERR_IDEMPOTENCY_KEY_REUSED');
    }
  });

  it('a link retried once the graph holds it (inverse cardinality one) is still a replay', async () => {
    const town = uid('Vaduz');
    const country = uid('LI');
    await create(town);
    await create(country, {}, 'Country');
    const link = () =>
      inject(e2e.app, {
        method: 'POST',
        url: `/v1/objects/City/${town}/links/capitalOf`,
        payload: { targetId: country },
        headers: { 'idempotency-key': `${town}-capital` },
      });
    const first = await link();
    expect(first.status).toBe(202);
    await e2e.strata.waitForIdle();
    const again = await expectNothingWritten(e2e.strata, link);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ ...first.body, deduplicated: true });
  });

  it('an ontology PUT retried with its key is a replay; another ontology under that key is 422', async () => {
    const ontology = (await inject(e2e.app, { method: 'GET', url: '/v1/ontology' })).body;
    const { version: _version, ...current } = ontology;
    const property = uid('nickname').replace(/[^A-Za-z0-9]/g, '');
    const next = structuredClone(current);
    next.objectTypes[0].properties[property] = { type: 'string' };
    const key = `${property}-ontology`;
    const put = (payload: object) =>
      inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload, headers: { 'idempotency-key': key } });
    const first = await put(next);
    expect(first.status).toBe(202);
    const retried = await put(next);
    expect(retried.body).toEqual({ ...first.body, deduplicated: true });
    const other = structuredClone(next);
    other.objectTypes[0].properties[`${property}2`] = { type: 'string' };
    expectProblem(await put(other), 422, 'STRATA_ERR_IDEMPOTENCY_KEY_REUSED');
    const after = (await inject(e2e.app, { method: 'GET', url: '/v1/ontology' })).body;
    expect(after.version).toBe(first.body.version);
  });

  it('an empty or over-long Idempotency-Key is 400 and writes nothing', async () => {
    for (const key of ['', 'k'.repeat(201)]) {
      const res = await expectNothingWritten(e2e.strata, () =>
        inject(e2e.app, {
          method: 'POST',
          url: '/v1/objects/City',
          payload: city(uid('K')),
          headers: { 'idempotency-key': key },
        }),
      );
      const p = expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
      expect(p.violations?.map((v) => v.path)).toEqual(['/headers/idempotency-key']);
    }
  });
});

describe('time travel and history', () => {
  it('GET ?asOf= shows the object as it was; before its creation it is 404; a bad asOf is 400', async () => {
    const id = uid('Caen');
    const c = await create(id, { population: 100 });
    const created = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` });
    const t1 = created.body.createdAt as string;
    await inject(e2e.app, {
      method: 'PATCH',
      url: `/v1/objects/City/${id}`,
      payload: { properties: { population: 200 } },
    });
    const now = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` });
    expect(now.body).toMatchObject({ version: 2, properties: { population: 200 } });
    expect(c.body.version).toBe(1);

    const then = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/objects/City/${id}?asOf=${encodeURIComponent(t1)}`,
    });
    expect(then.status).toBe(200);
    expect(then.body).toMatchObject({ version: 1, properties: { population: 100 } });
    expect(then.headers.etag).toBe('"1"');

    const before = new Date(Date.parse(t1) - 1).toISOString();
    const gone = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/objects/City/${id}?asOf=${encodeURIComponent(before)}`,
    });
    expect(expectProblem(gone, 404, 'STRATA_ERR_OBJECT_NOT_FOUND').detail).toContain('as of');

    // Only unambiguous instants: no bare numbers, no timestamps without a zone (server-local time).
    for (const lax of ['yesterday', '1', '2026-01-01T10:00', 'Jan 1 2026']) {
      const bad = await inject(e2e.app, {
        method: 'GET',
        url: `/v1/objects/City/${id}?asOf=${encodeURIComponent(lax)}`,
      });
      expectProblem(bad, 400, 'STRATA_ERR_REQUEST_INVALID');
    }
    // Impossible dates are refused, not rolled over (2026-02-31 is not March 3).
    for (const [impossible, why] of [
      ['2026-02-31', 'is not a calendar date'],
      ['2026-01-01T24:00:00Z', 'is not a time of day'],
      ['0000-01-01', 'is outside the instants Strata keeps'],
    ]) {
      const bad = await inject(e2e.app, {
        method: 'GET',
        url: `/v1/objects/City/${id}?asOf=${encodeURIComponent(impossible!)}`,
      });
      expect(expectProblem(bad, 400, 'STRATA_ERR_REQUEST_INVALID').detail).toContain(
        `asOf '${impossible}' ${why}`,
      );
    }
    const extra = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}?asOf=${t1}&foo=1` });
    expectProblem(extra, 400, 'STRATA_ERR_REQUEST_INVALID');
  });

  it('GET /v1/graph/traverse?asOf= shows the titles of then, as GET ?asOf= does, not those of now', async () => {
    const country = uid('CZ');
    const city = uid('Prague');
    await create(country, { name: 'Czech Republic' }, 'Country');
    await create(city);
    await inject(e2e.app, {
      method: 'POST',
      url: `/v1/objects/City/${city}/links/inCountry`,
      payload: { targetId: country },
    });
    await e2e.strata.waitForIdle();
    const beforeRename = new Date().toISOString();
    const renamed = await inject(e2e.app, {
      method: 'PATCH',
      url: `/v1/objects/Country/${country}`,
      payload: { properties: { name: 'Czechia' } },
    });
    expect(renamed.status).toBe(202);
    await e2e.strata.waitForIdle();
    const traverse = async (start: string, type: string, asOf?: string) =>
      (
        await inject(e2e.app, {
          method: 'GET',
          url: `/v1/graph/traverse?type=${type}&id=${start}&direction=both${asOf ? `&asOf=${encodeURIComponent(asOf)}` : ''}`,
        })
      ).body as { start: { title: string }; nodes: { id: string; title: string }[] };
    expect((await traverse(city, 'City', beforeRename)).nodes).toMatchObject([
      { id: country, title: 'Czech Republic' },
    ]);
    expect((await traverse(city, 'City')).nodes).toMatchObject([{ id: country, title: 'Czechia' }]);
    expect((await traverse(country, 'Country', beforeRename)).start.title).toBe('Czech Republic');
    expect((await traverse(country, 'Country')).start.title).toBe('Czechia');
    const then = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/objects/Country/${country}?asOf=${encodeURIComponent(beforeRename)}`,
    });
    expect(then.body.properties.name).toBe('Czech Republic');
  });

  it('GET …/history lists every event oldest first, pages by fromVersion and limit, 404 when none', async () => {
    const id = uid('Tours');
    await create(id);
    for (const population of [1, 2, 3]) {
      await inject(e2e.app, {
        method: 'PATCH',
        url: `/v1/objects/City/${id}`,
        payload: { properties: { population } },
      });
    }
    const all = await history('City', id);
    expect(all.status).toBe(200);
    expect(all.body.events.map((e: { version: number }) => e.version)).toEqual([1, 2, 3, 4]);
    const first = all.body.events[0];
    expect(first).toMatchObject({
      event_type: 'ObjectCreated',
      aggregate_type: 'City',
      aggregate_id: id,
      version: 1,
      actor: 'anonymous',
      schema_version: 1,
      data: { properties: { code: id, name: `City ${id}` } },
    });
    const times = all.body.events.map((e: { occurred_at: string }) => Date.parse(e.occurred_at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const page = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/objects/City/${id}/history?fromVersion=2&limit=2`,
    });
    expect(page.body.events.map((e: { version: number }) => e.version)).toEqual([2, 3]);

    expectProblem(await history('City', uid('never')), 404, 'STRATA_ERR_OBJECT_NOT_FOUND');
    expectProblem(await history('Planet', id), 404, 'STRATA_ERR_TYPE_UNKNOWN');
    const bad = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}/history?limit=0` });
    expect(expectProblem(bad, 400, 'STRATA_ERR_REQUEST_INVALID').violations?.map((v) => v.path)).toEqual([
      '/querystring/limit',
    ]);
  });

  it('GET …/history of an object that does not exist is 404 whatever fromVersion; past the end of one that does, an empty page', async () => {
    const never = uid('never');
    for (const fromVersion of [1, 2, 50]) {
      const res = await inject(e2e.app, {
        method: 'GET',
        url: `/v1/objects/City/${never}/history?fromVersion=${fromVersion}`,
      });
      expectProblem(res, 404, 'STRATA_ERR_OBJECT_NOT_FOUND');
    }
    const id = uid('Blois');
    await create(id);
    const past = await inject(e2e.app, {
      method: 'GET',
      url: `/v1/objects/City/${id}/history?fromVersion=2`,
    });
    expect({ status: past.status, events: past.body.events }).toEqual({ status: 200, events: [] });
  });
});

describe('links', () => {
  it('POST …/links/{linkType} adds a link event of the source; DELETE …/links/{linkType}/{targetId} removes it', async () => {
    const country = uid('FR');
    const id = uid('Paris');
    await create(country, {}, 'Country');
    await create(id);
    const add = await inject(e2e.app, {
      method: 'POST',
      url: `/v1/objects/City/${id}/links/inCountry`,
      payload: { targetId: country },
    });
    expect(add.status).toBe(202);
    expect(add.body).toMatchObject({
      event_type: 'LinkAdded',
      aggregate_type: 'City',
      aggregate_id: id,
      version: 2,
    });
    const got = await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` });
    expect(got.body.links).toEqual({ inCountry: [country] });

    const dup = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, {
        method: 'POST',
        url: `/v1/objects/City/${id}/links/inCountry`,
        payload: { targetId: country },
      }),
    );
    expectProblem(dup, 409, 'STRATA_ERR_LINK_EXISTS');

    const del = await inject(e2e.app, {
      method: 'DELETE',
      url: `/v1/objects/City/${id}/links/inCountry/${country}`,
    });
    expect(del.status).toBe(202);
    expect(del.body).toMatchObject({ event_type: 'LinkRemoved', version: 3 });
    expect((await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` })).body.links).toEqual({});

    const again = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, { method: 'DELETE', url: `/v1/objects/City/${id}/links/inCountry/${country}` }),
    );
    expectProblem(again, 404, 'STRATA_ERR_OBJECT_NOT_FOUND');
    const unknownType = await expectNothingWritten(e2e.strata, () =>
      inject(e2e.app, { method: 'DELETE', url: `/v1/objects/City/${id}/links/sisterOf/${country}` }),
    );
    expectProblem(unknownType, 404, 'STRATA_ERR_TYPE_UNKNOWN');
  });

  it('the link body must be {targetId}: anything else is 400 with violations and writes nothing', async () => {
    const id = uid('Pau');
    await create(id);
    for (const [payload, path] of [
      [{}, '/body'],
      [{ targetId: {} }, '/body/targetId'],
      [{ targetId: '' }, '/body/targetId'],
      [{ targetId: 'x', extra: 1 }, '/body'],
    ] as const) {
      const res = await expectNothingWritten(e2e.strata, () =>
        inject(e2e.app, { method: 'POST', url: `/v1/objects/City/${id}/links/twinnedWith`, payload }),
      );
      expect(expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID').violations?.map((v) => v.path)).toContain(
        path,
      );
    }
  });

  it('deleting an object drops its links from its view', async () => {
    const a = uid('A');
    const b = uid('B');
    await create(a);
    await create(b);
    await inject(e2e.app, {
      method: 'POST',
      url: `/v1/objects/City/${a}/links/twinnedWith`,
      payload: { targetId: b },
    });
    await inject(e2e.app, { method: 'DELETE', url: `/v1/objects/City/${a}` });
    const again = await create(a);
    expect(again.body.version).toBe(4);
    expect((await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${a}` })).body.links).toEqual({});
  });
});

describe('merge-patch media type', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
    await inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: testOntology });
  });
  afterAll(async () => {
    await e2e.stop();
  });

  it('PATCH accepts application/merge-patch+json as well as application/json', async () => {
    const id = uid('Merge');
    await inject(e2e.app, {
      method: 'POST',
      url: '/v1/objects/City',
      payload: { properties: { code: id, name: 'M' } },
    });
    const res = await inject(e2e.app, {
      method: 'PATCH',
      url: `/v1/objects/City/${id}`,
      headers: { 'content-type': 'application/merge-patch+json' },
      payload: JSON.stringify({ properties: { population: 7 } }),
    });
    expect([res.status, res.body.version]).toEqual([202, 2]);
  });
});
