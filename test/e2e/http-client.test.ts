/**
 * Through a real socket: startStrata on port 0 with relay and workers, driven by the typed
 * StrataClient (fetch). Holds two acceptance cases: concurrent If-Match writes, and IDs with
 * awkward characters round-tripping through every route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrataApiError, StrataClient } from '../../src/client/index.js';
import type { EventEnvelope } from '../../src/core/event.js';
import { collect, testOntology } from '../support/fixtures.js';
import { type E2E, raw, startE2E, uid } from './http-harness.js';

let e2e: E2E;
let client: StrataClient;
let startedAt: string;

beforeAll(async () => {
  e2e = await startE2E();
  client = new StrataClient(e2e.url);
  startedAt = new Date().toISOString();
  const put = await client.putOntology(testOntology);
  expect(put).toMatchObject({ event_type: 'OntologyChanged', version: 1 });
});

afterAll(async () => {
  await e2e?.stop();
});

/** Resolves to the StrataApiError a call rejects with. */
async function apiError(call: Promise<unknown>): Promise<StrataApiError> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(StrataApiError);
  return outcome as StrataApiError;
}

describe('StrataClient over a real socket', () => {
  it('covers ontology, objects, history, links, traversal, search, replay, admin and health', async () => {
    expect(e2e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await client.health()).toEqual({ status: 'ok' });
    const ontology = await client.getOntology();
    expect(ontology.version).toBe(1);
    expect(ontology.objectTypes.map((t) => t.apiName)).toEqual(['City', 'Country']);

    const [fr, par] = [uid('FR'), uid('PAR')];
    expect(await client.createObject('Country', { code: fr, name: 'France' })).toMatchObject({
      aggregate_id: fr,
      version: 1,
    });
    expect(await client.createObject('City', { code: par, name: 'Paris' })).toMatchObject({
      aggregate_id: par,
      version: 1,
    });
    expect(await client.updateObject('City', par, { population: 2_100_000 }, { ifMatch: 1 })).toMatchObject({
      version: 2,
    });
    expect(await client.addLink('City', par, 'inCountry', fr)).toMatchObject({
      event_type: 'LinkAdded',
      version: 3,
    });
    const view = await client.getObject('City', par);
    expect(view).toMatchObject({
      id: par,
      version: 3,
      properties: { population: 2_100_000 },
      links: { inCountry: [fr] },
    });
    const past = await client.getObject('City', par, view.createdAt);
    expect(past).toMatchObject({ version: 1, properties: { code: par, name: 'Paris' } });
    expect(
      (await client.history('City', par, { fromVersion: 2, limit: 1 })).events.map((e) => e.event_type),
    ).toEqual(['ObjectUpdated']);

    await e2e.strata.waitForIdle();
    const around = await client.traverse({ type: 'Country', id: fr, direction: 'in' });
    expect(around.nodes.map((n) => n.id)).toEqual([par]);
    const found = await client.search({
      type: 'City',
      text: 'paris',
      filters: [{ field: 'links.inCountry', eq: fr }],
    });
    expect(found.hits.map((h) => h.id)).toEqual([par]);
    const replay = await collect(client.events(startedAt));
    expect(replay.filter((e) => e.aggregate_id === par).map((e) => e.version)).toEqual([1, 2, 3]);

    expect(await client.removeLink('City', par, 'inCountry', fr)).toMatchObject({
      event_type: 'LinkRemoved',
      version: 4,
    });
    expect(await client.deleteObject('City', par, { ifMatch: 4 })).toMatchObject({
      event_type: 'ObjectDeleted',
      version: 5,
    });
    const gone = await apiError(client.getObject('City', par));
    expect(gone.status).toBe(404);
    expect(gone.problem).toMatchObject({ code: 'STRATA_ERR_OBJECT_NOT_FOUND', status: 404 });

    expect(await client.admin('GET', 'outbox')).toMatchObject({ deadLetters: 0 });
    expect(await client.admin('POST', 'verify')).toEqual({ aggregates: expect.any(Number), drift: [] });
    expect(await client.admin('POST', 'rebuild')).toMatchObject({ aggregates: expect.any(Number) });
    expect(await client.admin('POST', 'rebuild', { targets: ['search'] })).toMatchObject({
      events: expect.any(Number),
    });
  });

  it('errors arrive as StrataApiError carrying the problem+json body', async () => {
    const unknown = await apiError(client.createObject('Planet', { code: 'earth' }));
    expect([unknown.status, unknown.problem.code]).toEqual([404, 'STRATA_ERR_TYPE_UNKNOWN']);
    const invalid = await apiError(
      client.createObject('City', { code: uid('X'), name: 'X', population: 'lots' }),
    );
    expect([invalid.status, invalid.problem.code]).toEqual([422, 'STRATA_ERR_VALIDATION_FAILED']);
    expect(invalid.problem.violations).toEqual([
      { path: '/properties/population', message: 'must be an integer' },
    ]);
    const depth = await apiError(client.traverse({ type: 'City', id: 'x', depth: 9 }));
    expect([depth.status, depth.problem.code]).toEqual([400, 'STRATA_ERR_REQUEST_INVALID']);
    const replay = await apiError(collect(client.events('not-a-date')));
    expect([replay.status, replay.problem.code]).toEqual([400, 'STRATA_ERR_REQUEST_INVALID']);
  });

  it('an unknown token is irrelevant when auth is off (anonymous admin)', async () => {
    const other = new StrataClient(e2e.url, { token: 'whatever-token-value' });
    expect((await other.getOntology()).version).toBe(1);
  });
});

describe('acceptance: two concurrent PATCHes with the same If-Match', () => {
  it('exactly one 202 and one 409, and exactly one new event in the store', async () => {
    for (let round = 0; round < 5; round++) {
      const id = uid('race');
      await client.createObject('City', { code: id, name: 'Racetrack' });
      const outcomes = await Promise.allSettled([
        client.updateObject('City', id, { population: 1 }, { ifMatch: 1 }),
        client.updateObject('City', id, { population: 2 }, { ifMatch: 1 }),
      ]);
      const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [{ i, result: o.value }] : []));
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as StrataApiError] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(won[0]!.result).toMatchObject({ event_type: 'ObjectUpdated', version: 2, deduplicated: false });
      expect(lost[0]).toBeInstanceOf(StrataApiError);
      expect([lost[0]!.status, lost[0]!.problem.code]).toEqual([409, 'STRATA_ERR_CONCURRENCY_CONFLICT']);
      expect(lost[0]!.problem).toMatchObject({ expectedVersion: 1 });

      const events = await collect(e2e.strata.store.readStream({ type: 'City', id }));
      expect(events.map((e) => [e.version, e.event_type])).toEqual([
        [1, 'ObjectCreated'],
        [2, 'ObjectUpdated'],
      ]);
      expect(events[1]!.event_id).toBe(won[0]!.result.event_id);
      expect(events[1]!.data).toEqual({ properties: { population: won[0]!.i + 1 } });
      expect((await client.history('City', id)).events).toHaveLength(2);
      expect((await client.getObject('City', id)).properties.population).toBe(won[0]!.i + 1);
    }
    // the loser left no intent behind: everything drains and nothing was fenced
    await e2e.strata.waitForIdle();
    expect(await e2e.strata.outbox.stats()).toMatchObject({ pending: 0, ready: 0, deadLetters: 0 });
    expect(e2e.strata.relay.counters.voided).toBe(0);
  });

  it('many concurrent writers with one If-Match: one wins, the rest are 409', async () => {
    const id = uid('crowd');
    await client.createObject('City', { code: id, name: 'Crowd' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => client.updateObject('City', id, { population: i }, { ifMatch: 1 })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const statuses = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [(o.reason as StrataApiError).status] : [],
    );
    expect(statuses).toEqual(Array(7).fill(409));
    expect((await collect(e2e.strata.store.readStream({ type: 'City', id }))).map((e) => e.version)).toEqual([
      1, 2,
    ]);
  });
});

/** IDs that must be accepted and round-trip exactly (DESIGN §3: encode, don't reject). */
const ODD_IDS = [
  'a/b',
  'a//b',
  'with space',
  ' padded ',
  '100%',
  '%2F',
  '%ZZ',
  'a+b',
  '../etc/passwd',
  'a/../b',
  '..x',
  'x..',
  '...',
  'q?x=1&y=2#frag',
  'semi;colon:at@',
  `quote'"\``,
  'back\\slash',
  'ünïcödé',
  'Straße',
  '東京',
  'مرحبا',
  '😀🚀',
  '👩‍👩‍👧',
];

describe('acceptance: IDs with /, spaces, %, +, .., unicode and emoji round-trip exactly', () => {
  const country = 'Côte d’Ivoire / CI 🇨🇮';

  it('create, GET by the encoded path, PATCH, link to and from them, history, traverse, search and replay', async () => {
    const from = new Date().toISOString();
    expect((await client.createObject('Country', { code: country, name: 'Ivory Coast' })).aggregate_id).toBe(
      country,
    );
    const created = await Promise.all(
      ODD_IDS.map((id) => client.createObject('City', { code: id, name: `Name of ${id}` })),
    );
    expect(created.map((r) => r.aggregate_id)).toEqual(ODD_IDS);
    expect(created.every((r) => r.version === 1 && r.event_type === 'ObjectCreated')).toBe(true);

    for (const id of ODD_IDS) {
      const view = await client.getObject('City', id);
      expect({ id: view.id, code: view.properties.code, name: view.properties.name }).toEqual({
        id,
        code: id,
        name: `Name of ${id}`,
      });
    }
    const patched = await Promise.all(
      ODD_IDS.map((id) => client.updateObject('City', id, { population: id.length }, { ifMatch: 1 })),
    );
    expect(patched.map((r) => [r.aggregate_id, r.version])).toEqual(ODD_IDS.map((id) => [id, 2]));

    // links: each odd ID to the next one, and every odd ID to the odd country
    const next = (i: number) => ODD_IDS[(i + 1) % ODD_IDS.length]!;
    for (const [i, id] of ODD_IDS.entries()) {
      expect(await client.addLink('City', id, 'twinnedWith', next(i))).toMatchObject({
        aggregate_id: id,
        version: 3,
      });
      expect(await client.addLink('City', id, 'inCountry', country)).toMatchObject({
        aggregate_id: id,
        version: 4,
      });
    }
    for (const [i, id] of ODD_IDS.entries()) {
      const h = await client.history('City', id);
      expect(h.events.map((e) => [e.aggregate_id, e.version, e.event_type])).toEqual([
        [id, 1, 'ObjectCreated'],
        [id, 2, 'ObjectUpdated'],
        [id, 3, 'LinkAdded'],
        [id, 4, 'LinkAdded'],
      ]);
      expect(h.events[2]!.data).toEqual({ linkType: 'twinnedWith', to: { type: 'City', id: next(i) } });
      expect((await client.getObject('City', id)).links).toEqual({
        twinnedWith: [next(i)],
        inCountry: [country],
      });
    }

    await e2e.strata.waitForIdle();
    for (const [i, id] of ODD_IDS.entries()) {
      const out = await client.traverse({ type: 'City', id, linkTypes: ['twinnedWith'] });
      expect(out.start.id).toBe(id);
      expect(out.nodes.map((n) => n.id)).toEqual([next(i)]);
      expect(out.edges).toEqual([
        { from: { type: 'City', id }, linkType: 'twinnedWith', to: { type: 'City', id: next(i) } },
      ]);
      const back = await client.traverse({
        type: 'City',
        id: next(i),
        linkTypes: ['twinnedWith'],
        direction: 'in',
      });
      expect(back.nodes.map((n) => n.id)).toEqual([id]);
      const hits = await client.search({ type: 'City', filters: [{ field: 'id', eq: id }] });
      expect(hits.hits.map((h) => [h.id, h.properties.code])).toEqual([[id, id]]);
      const linked = await client.search({
        type: 'City',
        filters: [{ field: 'links.twinnedWith', eq: next(i) }],
      });
      expect(linked.hits.map((h) => h.id)).toEqual([id]);
    }
    const citizens = await client.traverse({ type: 'Country', id: country, direction: 'in', limit: 1000 });
    expect(citizens.nodes.map((n) => n.id).sort()).toEqual([...ODD_IDS].sort());
    const all = await client.search({
      type: 'City',
      filters: [{ field: 'links.inCountry', eq: country }],
      page: { size: 100 },
    });
    expect(all.hits.map((h) => h.id).sort()).toEqual([...ODD_IDS].sort());

    // replay returns every event of every odd ID, exactly once, with the exact IDs
    const replay: EventEnvelope[] = await collect(client.events(from));
    for (const id of ODD_IDS) {
      expect(
        replay.filter((e) => e.aggregate_type === 'City' && e.aggregate_id === id).map((e) => e.version),
      ).toEqual([1, 2, 3, 4]);
    }
    expect(replay.filter((e) => e.aggregate_id === country).map((e) => e.event_type)).toEqual([
      'ObjectCreated',
    ]);

    // unlink by the encoded target in the path
    for (const [i, id] of ODD_IDS.entries()) {
      expect(await client.removeLink('City', id, 'twinnedWith', next(i))).toMatchObject({
        event_type: 'LinkRemoved',
        version: 5,
      });
      expect(await client.removeLink('City', id, 'inCountry', country)).toMatchObject({ version: 6 });
    }
    // no half-written event: every projection agrees with the store
    await e2e.strata.waitForIdle();
    expect(await client.admin('POST', 'verify')).toEqual({ aggregates: expect.any(Number), drift: [] });
  });

  it("the IDs '.' and '..' are accepted and round-trip through paths that encode the dots (%2E)", async () => {
    // fetch (WHATWG URL) resolves a '..' or '%2E%2E' path segment away, so paths go through node:http here.
    const dot = (id: string) => id.replaceAll('.', '%2E');
    const target = uid('dots-target');
    await client.createObject('City', { code: target, name: 'Target' });
    for (const id of ['.', '..']) {
      const created = await raw(e2e.url, 'POST', '/v1/objects/City', {
        body: JSON.stringify({ properties: { code: id, name: `dots ${id}` } }),
        headers: { 'content-type': 'application/json' },
      });
      expect(created.status).toBe(202);
      expect(created.body.aggregate_id).toBe(id);
      expect(created.headers.location).toBe(`/v1/objects/City/${dot(id)}`);

      const got = await raw(e2e.url, 'GET', created.headers.location as string);
      expect([got.status, got.body.id, got.body.properties.code]).toEqual([200, id, id]);
      const patched = await raw(e2e.url, 'PATCH', `/v1/objects/City/${dot(id)}`, {
        body: JSON.stringify({ properties: { population: 1 } }),
        headers: { 'content-type': 'application/json', 'if-match': '"1"' },
      });
      expect([patched.status, patched.body.aggregate_id, patched.body.version]).toEqual([202, id, 2]);
      expect(await client.addLink('City', target, 'twinnedWith', id)).toMatchObject({
        event_type: 'LinkAdded',
      });
      const linkFrom = await raw(e2e.url, 'POST', `/v1/objects/City/${dot(id)}/links/twinnedWith`, {
        body: JSON.stringify({ targetId: target }),
        headers: { 'content-type': 'application/json' },
      });
      expect([linkFrom.status, linkFrom.body.version]).toEqual([202, 3]);
      const history = await raw(e2e.url, 'GET', `/v1/objects/City/${dot(id)}/history`);
      expect(history.body.events.map((e: EventEnvelope) => [e.aggregate_id, e.version])).toEqual([
        [id, 1],
        [id, 2],
        [id, 3],
      ]);
      await e2e.strata.waitForIdle();
      const around = await client.traverse({ type: 'City', id, direction: 'both' });
      expect(around.nodes.map((n) => n.id)).toEqual([target]);
      expect(
        (await client.search({ type: 'City', filters: [{ field: 'id', eq: id }] })).hits.map((h) => h.id),
      ).toEqual([id]);
      const unlink = await raw(
        e2e.url,
        'DELETE',
        `/v1/objects/City/${encodeURIComponent(target)}/links/twinnedWith/${dot(id)}`,
      );
      expect([unlink.status, unlink.body.event_type]).toEqual([202, 'LinkRemoved']);
    }
    await e2e.strata.waitForIdle();
    expect(await client.admin('POST', 'verify')).toEqual({ aggregates: expect.any(Number), drift: [] });
  });
});
