/**
 * Operations through HTTP: /healthz, /readyz, /metrics, the OpenAPI document, and the admin
 * routes (outbox, dead letters, lag, verify, rebuild).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { streamKey } from '../../src/core/keys.js';
import { eventually, testOntology } from '../support/fixtures.js';
import { type E2E, expectProblem, inject, startE2E, uid, violationPaths } from './http-harness.js';

let e2e: E2E;

beforeAll(async () => {
  // One failed attempt dead-letters a row, so a dead letter can be produced quickly.
  e2e = await startE2E({ STRATA_MAX_ATTEMPTS: '1' });
  expect((await inject(e2e.app, { method: 'PUT', url: '/v1/ontology', payload: testOntology })).status).toBe(
    202,
  );
  for (const code of ['OPS-A', 'OPS-B']) {
    const res = await inject(e2e.app, {
      method: 'POST',
      url: '/v1/objects/City',
      payload: { properties: { code, name: code } },
    });
    expect(res.status).toBe(202);
  }
  await inject(e2e.app, {
    method: 'POST',
    url: '/v1/objects/City/OPS-A/links/twinnedWith',
    payload: { targetId: 'OPS-B' },
  });
  await e2e.strata.waitForIdle();
});

afterAll(async () => {
  await e2e?.stop();
});

const ROUTES: [string, string][] = [
  ['get', '/v1/ontology'],
  ['put', '/v1/ontology'],
  ['post', '/v1/objects/{type}'],
  ['get', '/v1/objects/{type}/{id}'],
  ['patch', '/v1/objects/{type}/{id}'],
  ['delete', '/v1/objects/{type}/{id}'],
  ['get', '/v1/objects/{type}/{id}/history'],
  ['post', '/v1/objects/{type}/{id}/links/{linkType}'],
  ['delete', '/v1/objects/{type}/{id}/links/{linkType}/{targetId}'],
  ['get', '/v1/graph/traverse'],
  ['post', '/v1/search'],
  ['get', '/v1/events'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
  ['get', '/v1/admin/outbox'],
  ['get', '/v1/admin/dead-letters'],
  ['post', '/v1/admin/dead-letters/{id}/retry'],
  ['get', '/v1/admin/lag'],
  ['post', '/v1/admin/verify'],
  ['post', '/v1/admin/rebuild'],
];

function metrics(text: string): Map<string, number> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const i = l.lastIndexOf(' ');
        return [l.slice(0, i), Number(l.slice(i + 1))] as const;
      }),
  );
}

describe('health, readiness, metrics', () => {
  it('GET /healthz is 200 {status: ok}', async () => {
    const res = await inject(e2e.app, { method: 'GET', url: '/healthz' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when every engine answers, naming each', async () => {
    const res = await inject(e2e.app, { method: 'GET', url: '/readyz' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.engines.map((e: { role: string; ok: boolean }) => [e.role, e.ok])).toEqual([
      ['event store', true],
      ['outbox', true],
      ['bus', true],
      ['graph', true],
      ['search', true],
    ]);
  });

  it('GET /readyz is 503 {status: unavailable} naming the engine that does not answer', async () => {
    const ping = vi.spyOn(e2e.strata.store, 'ping').mockRejectedValueOnce(new Error('disk gone'));
    try {
      const res = await inject(e2e.app, { method: 'GET', url: '/readyz' }, { allow5xx: true });
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('unavailable');
      expect(res.body.engines[0]).toMatchObject({ role: 'event store', ok: false, detail: 'disk gone' });
      expect(res.body.engines.slice(1).every((e: { ok: boolean }) => e.ok)).toBe(true);
    } finally {
      ping.mockRestore();
    }
  });

  it('GET /metrics counts HTTP requests per route pattern and status class, with a latency histogram', async () => {
    const id = `metrics-${Date.now()}`;
    await inject(e2e.app, { method: 'GET', url: `/v1/objects/City/${id}` }); // 404
    await inject(e2e.app, { method: 'GET', url: '/v1/no-such-route' }); // 404, unmatched
    const res = await inject(e2e.app, { method: 'GET', url: '/metrics' });
    const m = metrics(res.text);
    const route = '/v1/objects/:type/:id';
    expect(
      m.get(`strata_http_requests_total{method="GET",route="${route}",status="4xx"}`),
    ).toBeGreaterThanOrEqual(1);
    expect(
      m.get('strata_http_requests_total{method="GET",route="unmatched",status="4xx"}'),
    ).toBeGreaterThanOrEqual(1);
    const count = m.get(`strata_http_request_duration_seconds_count{route="${route}"}`)!;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(m.get(`strata_http_request_duration_seconds_bucket{route="${route}",le="+Inf"}`)).toBe(count);
    expect(res.text).toContain('# TYPE strata_http_request_duration_seconds histogram');
    expect(res.text).not.toContain(id); // patterns, never raw URLs
  });

  it('GET /metrics is Prometheus text with outbox, relay and per-group projection figures', async () => {
    await e2e.strata.waitForIdle();
    const res = await inject(e2e.app, { method: 'GET', url: '/metrics' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = metrics(res.text);
    expect(m.get('strata_outbox_rows{status="pending"}')).toBe(0);
    expect(m.get('strata_outbox_rows{status="ready"}')).toBe(0);
    expect(m.get('strata_relay_delivered_total')).toBeGreaterThanOrEqual(4);
    for (const group of ['strata-graph', 'strata-search']) {
      expect(m.get(`strata_consumer_lag{group="${group}"}`)).toBe(0);
      expect(m.get(`strata_projection_applied_total{group="${group}"}`)).toBeGreaterThanOrEqual(3);
      expect(m.get(`strata_projection_errors_total{group="${group}"}`)).toBe(0);
      expect(m.get(`strata_bus_skipped_total{group="${group}"}`)).toBe(0);
    }
    expect(res.text).toContain('# TYPE strata_outbox_rows gauge');
  });
});

describe('OpenAPI', () => {
  it('GET /docs/json is an OpenAPI 3 document that lists every route', async () => {
    const res = await inject(e2e.app, { method: 'GET', url: '/docs/json' });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map(([m, p]) => `${m} ${p}`).sort());
    // every documented operation has a summary
    for (const [method, path] of ROUTES) {
      expect(res.body.paths[path][method].summary, `${method} ${path}`).toEqual(expect.any(String));
    }
  });

  it('every documented route is served (never a route-not-found)', async () => {
    for (const [method, path] of ROUTES) {
      const url = path
        .replace('{type}', 'City')
        .replace('{id}', 'OPS-NOBODY') // no side effects: every command on it is refused
        .replace('{linkType}', 'twinnedWith')
        .replace('{targetId}', 'nobody')
        .replace('/dead-letters/{id}', '/dead-letters/999999');
      const res = await inject(e2e.app, { method: method.toUpperCase() as 'GET', url });
      expect(res.body?.code, `${method} ${url}`).not.toBe('STRATA_ERR_ROUTE_NOT_FOUND');
      expect(res.status, `${method} ${url}`).toBeLessThan(500);
    }
  });

  it('GET /docs serves the UI; an unknown route is 404 STRATA_ERR_ROUTE_NOT_FOUND problem+json', async () => {
    const ui = await inject(e2e.app, { method: 'GET', url: '/docs' });
    expect(ui.status).toBe(200);
    expect(ui.type).toBe('text/html');
    const none = await inject(e2e.app, { method: 'GET', url: '/v2/nothing' });
    expect(expectProblem(none, 404, 'STRATA_ERR_ROUTE_NOT_FOUND').detail).toBe('no route GET /v2/nothing');
    const wrongMethod = await inject(e2e.app, { method: 'PUT', url: '/v1/objects/City/OPS-A' });
    expectProblem(wrongMethod, 404, 'STRATA_ERR_ROUTE_NOT_FOUND');
  });
});

describe('admin', () => {
  it('GET /v1/admin/outbox reports row counts and partition leases', async () => {
    await e2e.strata.waitForIdle();
    const res = await inject(e2e.app, { method: 'GET', url: '/v1/admin/outbox' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ pending: 0, ready: 0, oldestReadyAgeMs: null });
    expect(res.body.partitions).toHaveLength(e2e.strata.config.relay.partitions);
    expect(res.body.partitions.every((p: { owner: string | null }) => typeof p.owner === 'string')).toBe(
      true,
    );
  });

  it('GET /v1/admin/lag reports both consumer groups at lag 0 once idle', async () => {
    await e2e.strata.waitForIdle();
    const res = await inject(e2e.app, { method: 'GET', url: '/v1/admin/lag' });
    expect(res.status).toBe(200);
    expect(res.body.groups.map((g: { group: string; lag: number }) => [g.group, g.lag])).toEqual([
      ['strata-graph', 0],
      ['strata-search', 0],
    ]);
    expect(res.body.groups[0].partitions).toHaveLength(e2e.strata.config.bus.partitions);
  });

  it('dead letters: a row the relay cannot deliver is listed, retried by id, and unknown ids are 404/400', async () => {
    const empty = await inject(e2e.app, { method: 'GET', url: '/v1/admin/dead-letters' });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ deadLetters: [], projectionFailures: [] });

    // An outbox row pointing at an event that is not in the store can never be delivered.
    const ref = { type: 'City', id: uid('phantom') };
    const eventId = '01JZZZZZZZZZZZZZZZZZZZZZZZ';
    await e2e.strata.outbox.recordIntent({
      eventId,
      aggregateType: ref.type,
      aggregateId: ref.id,
      version: 1,
      streamKey: streamKey(ref, 1),
    });
    await e2e.strata.outbox.markReady(eventId);
    const listed = await eventually(async () => {
      const r = await inject(e2e.app, { method: 'GET', url: '/v1/admin/dead-letters' });
      return r.body.deadLetters.length === 1 ? r.body.deadLetters[0] : undefined;
    });
    expect(listed).toMatchObject({
      eventId,
      aggregateType: 'City',
      aggregateId: ref.id,
      version: 1,
      attempts: 1,
    });
    expect(listed.lastError).toContain('missing from the event store');
    const stats = await inject(e2e.app, { method: 'GET', url: '/v1/admin/outbox' });
    expect(stats.body.deadLetters).toBe(1);

    const retry = await inject(e2e.app, { method: 'POST', url: `/v1/admin/dead-letters/${listed.id}/retry` });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ retried: listed.id });
    // it fails again and comes back as a dead letter (with a new id)
    const again = await eventually(async () => {
      const r = await inject(e2e.app, { method: 'GET', url: '/v1/admin/dead-letters' });
      return r.body.deadLetters.length === 1 ? r.body.deadLetters[0] : undefined;
    });
    expect(again.eventId).toBe(eventId);

    expectProblem(
      await inject(e2e.app, { method: 'POST', url: '/v1/admin/dead-letters/424242/retry' }),
      404,
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
    for (const id of ['abc', '0', '-1', '1.5']) {
      const res = await inject(e2e.app, { method: 'POST', url: `/v1/admin/dead-letters/${id}/retry` });
      expect(violationPaths(res), id).toEqual(['/params/id']);
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    }
    // beyond a safe integer (and Postgres bigint): a 400, never a 500
    for (const id of ['9223372036854775807', '99999999999999999999']) {
      const res = await inject(e2e.app, { method: 'POST', url: `/v1/admin/dead-letters/${id}/retry` });
      expectProblem(res, 400, 'STRATA_ERR_REQUEST_INVALID');
    }
  });

  it('POST /v1/admin/verify reports drift when a projection lost data, and rebuild repairs it', async () => {
    await e2e.strata.waitForIdle();
    const clean = await inject(e2e.app, { method: 'POST', url: '/v1/admin/verify' });
    expect(clean.status).toBe(200);
    expect(clean.body.drift).toEqual([]);
    expect(clean.body.aggregates).toBeGreaterThanOrEqual(2);

    await e2e.strata.graph.clear(); // lose the graph projection behind the system's back
    const drifted = await inject(e2e.app, { method: 'POST', url: '/v1/admin/verify' });
    expect(drifted.status).toBe(200);
    expect(drifted.body.drift).toEqual(
      expect.arrayContaining([
        { type: 'City', id: 'OPS-A', projection: 'graph', problem: 'missing from the graph' },
        { type: 'City', id: 'OPS-B', projection: 'graph', problem: 'missing from the graph' },
      ]),
    );
    expect(drifted.body.drift.every((d: { projection: string }) => d.projection === 'graph')).toBe(true);

    const rebuilt = await inject(e2e.app, {
      method: 'POST',
      url: '/v1/admin/rebuild',
      payload: { targets: ['graph'] },
    });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body).toEqual({
      aggregates: clean.body.aggregates,
      events: expect.any(Number),
      ms: expect.any(Number),
    });
    expect(rebuilt.body.events).toBeGreaterThanOrEqual(3);
    expect((await inject(e2e.app, { method: 'POST', url: '/v1/admin/verify' })).body.drift).toEqual([]);
    const traverse = await inject(e2e.app, { method: 'GET', url: '/v1/graph/traverse?type=City&id=OPS-A' });
    expect(traverse.body.nodes.map((n: { id: string }) => n.id)).toEqual(['OPS-B']);
  });

  it('POST /v1/admin/rebuild without a body rebuilds both projections; bad targets are 400', async () => {
    const res = await inject(e2e.app, { method: 'POST', url: '/v1/admin/rebuild' });
    expect(res.status).toBe(200);
    expect(res.body.aggregates).toBeGreaterThanOrEqual(2);
    const search = await inject(e2e.app, {
      method: 'POST',
      url: '/v1/search',
      payload: { type: 'City', filters: [{ field: 'id', eq: 'OPS-A' }] },
    });
    expect(search.body.hits.map((h: { id: string }) => h.id)).toEqual(['OPS-A']);
    expect((await inject(e2e.app, { method: 'POST', url: '/v1/admin/verify' })).body.drift).toEqual([]);

    for (const [payload, path] of [
      [{ targets: ['index'] }, '/body/targets/0'],
      [{ targets: [] }, '/body/targets'],
      [{ targets: ['graph', 'graph'] }, '/body/targets'],
      [{ everything: true }, '/body'],
    ] as const) {
      const bad = await inject(e2e.app, { method: 'POST', url: '/v1/admin/rebuild', payload });
      expectProblem(bad, 400, 'STRATA_ERR_REQUEST_INVALID');
      expect(violationPaths(bad)).toContain(path);
    }
  });
});
