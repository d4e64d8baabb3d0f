/**
 * Authentication with STRATA_API_TOKENS configured: 401 without (or with an unknown) token,
 * 403 for a role below the route's, success with the right role; refused writes write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrataApiError, StrataClient } from '../../src/client/index.js';
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

const TOKENS = {
  reader: 'reader-token-0123456789',
  writer: 'writer-token-0123456789',
  admin: 'admin-token-01234567890',
};

let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E({
    STRATA_API_TOKENS: `${TOKENS.reader}:rita:reader,${TOKENS.writer}:wanda:writer,${TOKENS.admin}:adam:admin`,
  });
  const put = await inject(e2e.app, {
    method: 'PUT',
    url: '/v1/ontology',
    payload: testOntology,
    headers: { authorization: `Bearer ${TOKENS.admin}` },
  });
  expect(put.status).toBe(202);
});

afterAll(async () => {
  await e2e?.stop();
});

type Role = keyof typeof TOKENS | 'none' | 'bogus';

function as(
  role: Role,
  opts: { method: string; url: string; payload?: Record<string, unknown> },
): Promise<Res> {
  const headers: Record<string, string> =
    role === 'none'
      ? {}
      : { authorization: `Bearer ${role === 'bogus' ? 'not-a-known-token-at-all' : TOKENS[role]}` };
  return inject(e2e.app, { ...opts, method: opts.method as 'GET', headers });
}

describe('auth: bearer tokens with roles reader < writer < admin', () => {
  it('config carries the tokens and OpenAPI declares bearer security', async () => {
    expect(e2e.strata.config.auth.map((t) => [t.actor, t.role])).toEqual([
      ['rita', 'reader'],
      ['wanda', 'writer'],
      ['adam', 'admin'],
    ]);
    const doc = await inject(e2e.app, { method: 'GET', url: '/docs/json' });
    expect(doc.body.security).toEqual([{ bearer: [] }]);
  });

  it('401 STRATA_ERR_AUTH_REQUIRED with WWW-Authenticate without a token, with an unknown one, or a malformed header', async () => {
    for (const [method, url] of [
      ['GET', '/v1/ontology'],
      ['GET', '/v1/objects/City/x'],
      ['POST', '/v1/search'],
      ['GET', '/v1/events?from=2024-01-01'],
      ['GET', '/v1/admin/outbox'],
    ]) {
      for (const role of ['none', 'bogus'] as const) {
        const res = await as(role, { method: method!, url: url! });
        expectProblem(res, 401, 'STRATA_ERR_AUTH_REQUIRED');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    }
    for (const authorization of [TOKENS.admin, `Basic ${TOKENS.admin}`, 'Bearer', 'Bearer ']) {
      const res = await inject(e2e.app, { method: 'GET', url: '/v1/ontology', headers: { authorization } });
      expectProblem(res, 401, 'STRATA_ERR_AUTH_REQUIRED');
    }
  });

  it('a refused write (401 or 403) writes nothing', async () => {
    for (const role of ['none', 'bogus', 'reader'] as const) {
      const res = await expectNothingWritten(e2e.strata, () =>
        as(role, {
          method: 'POST',
          url: '/v1/objects/City',
          payload: { properties: { code: uid('R'), name: 'r' } },
        }),
      );
      expect(res.status).toBe(role === 'reader' ? 403 : 401);
    }
    const writerOntology = await expectNothingWritten(e2e.strata, () =>
      as('writer', {
        method: 'PUT',
        url: '/v1/ontology',
        payload: testOntology as unknown as Record<string, unknown>,
      }),
    );
    expectProblem(writerOntology, 403, 'STRATA_ERR_FORBIDDEN');
  });

  it('a reader reads (200) but gets 403 STRATA_ERR_FORBIDDEN for writes and admin routes', async () => {
    const id = uid('AUTH');
    expect(
      (
        await as('writer', {
          method: 'POST',
          url: '/v1/objects/City',
          payload: { properties: { code: id, name: 'a' } },
        })
      ).status,
    ).toBe(202);
    await e2e.strata.waitForIdle();
    expect((await as('reader', { method: 'GET', url: '/v1/ontology' })).status).toBe(200);
    expect((await as('reader', { method: 'GET', url: `/v1/objects/City/${id}` })).status).toBe(200);
    expect((await as('reader', { method: 'GET', url: `/v1/objects/City/${id}/history` })).status).toBe(200);
    expect((await as('reader', { method: 'GET', url: `/v1/graph/traverse?type=City&id=${id}` })).status).toBe(
      200,
    );
    expect((await as('reader', { method: 'POST', url: '/v1/search', payload: { text: 'a' } })).status).toBe(
      200,
    );
    expect((await as('reader', { method: 'GET', url: '/v1/events?from=2024-01-01' })).status).toBe(200);

    for (const [method, url, payload] of [
      ['PATCH', `/v1/objects/City/${id}`, { properties: { population: 1 } }],
      ['DELETE', `/v1/objects/City/${id}`, undefined],
      ['POST', `/v1/objects/City/${id}/links/twinnedWith`, { targetId: id }],
      ['DELETE', `/v1/objects/City/${id}/links/twinnedWith/${id}`, undefined],
      ['PUT', '/v1/ontology', testOntology],
      ['GET', '/v1/admin/outbox', undefined],
      ['GET', '/v1/admin/dead-letters', undefined],
      ['POST', '/v1/admin/dead-letters/1/retry', undefined],
      ['GET', '/v1/admin/lag', undefined],
      ['POST', '/v1/admin/verify', undefined],
      ['POST', '/v1/admin/rebuild', {}],
    ] as const) {
      const res = await as('reader', {
        method,
        url,
        payload: payload as Record<string, unknown> | undefined,
      });
      expect(expectProblem(res, 403, 'STRATA_ERR_FORBIDDEN').detail, `${method} ${url}`).toContain('reader');
    }
  });

  it('a writer writes (202, recorded as its actor) but gets 403 on ontology changes and admin routes', async () => {
    const id = uid('W');
    const created = await as('writer', {
      method: 'POST',
      url: '/v1/objects/City',
      payload: { properties: { code: id, name: 'w' } },
    });
    expect(created.status).toBe(202);
    const patched = await as('writer', {
      method: 'PATCH',
      url: `/v1/objects/City/${id}`,
      payload: { properties: { population: 3 } },
    });
    expect(patched.status).toBe(202);
    const history = await as('reader', { method: 'GET', url: `/v1/objects/City/${id}/history` });
    expect(history.body.events.map((e: { actor: string }) => e.actor)).toEqual(['wanda', 'wanda']);
    expectProblem(
      await as('writer', { method: 'GET', url: '/v1/admin/outbox' }),
      403,
      'STRATA_ERR_FORBIDDEN',
    );
    expectProblem(
      await as('writer', { method: 'POST', url: '/v1/admin/verify' }),
      403,
      'STRATA_ERR_FORBIDDEN',
    );
  });

  it('an admin may do everything: ontology (202) and admin routes (200)', async () => {
    const ontology = await as('admin', { method: 'GET', url: '/v1/ontology' });
    const { version: _v, ...definition } = ontology.body;
    const put = await as('admin', { method: 'PUT', url: '/v1/ontology', payload: definition });
    expect(put.status).toBe(202);
    for (const url of ['/v1/admin/outbox', '/v1/admin/dead-letters', '/v1/admin/lag']) {
      expect((await as('admin', { method: 'GET', url })).status, url).toBe(200);
    }
    expect((await as('admin', { method: 'POST', url: '/v1/admin/verify' })).body.drift).toEqual([]);
    const id = uid('ADM');
    expect(
      (
        await as('admin', {
          method: 'POST',
          url: '/v1/objects/City',
          payload: { properties: { code: id, name: 'adm' } },
        })
      ).status,
    ).toBe(202);
    const history = await as('admin', { method: 'GET', url: `/v1/objects/City/${id}/history` });
    expect(history.body.events[0].actor).toBe('adam');
  });

  it('health, readiness, metrics and the API docs stay public', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/docs/json']) {
      expect((await as('none', { method: 'GET', url })).status, url).toBe(200);
    }
  });

  it('readiness names the engines (hosts, buckets) to admins only', async () => {
    const anonymous = await as('none', { method: 'GET', url: '/readyz' });
    const reader = await as('reader', { method: 'GET', url: '/readyz' });
    const admin = await as('admin', { method: 'GET', url: '/readyz' });
    const roles = ['event store', 'outbox', 'bus', 'graph', 'search'];
    for (const res of [anonymous, reader]) {
      expect(res.body.engines).toEqual(roles.map((role) => ({ role, ok: true })));
    }
    expect(admin.body.engines.map((e: { role: string }) => e.role)).toEqual(roles);
    for (const e of admin.body.engines) expect(e.engine).toEqual(expect.any(String));
  });

  it('the typed client sends its token over a real socket', async () => {
    const reader = new StrataClient(e2e.url, { token: TOKENS.reader });
    const writer = new StrataClient(e2e.url, { token: TOKENS.writer });
    const anonymous = new StrataClient(e2e.url);
    expect((await reader.getOntology()).objectTypes).toHaveLength(2);
    const denied = await reader.createObject('City', { code: uid('C'), name: 'c' }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(StrataApiError);
    expect([(denied as StrataApiError).status, (denied as StrataApiError).problem.code]).toEqual([
      403,
      'STRATA_ERR_FORBIDDEN',
    ]);
    const unauth = await anonymous.getOntology().catch((e: unknown) => e);
    expect([(unauth as StrataApiError).status, (unauth as StrataApiError).problem.code]).toEqual([
      401,
      'STRATA_ERR_AUTH_REQUIRED',
    ]);
    const id = uid('C');
    expect(await writer.createObject('City', { code: id, name: 'c' })).toMatchObject({
      aggregate_id: id,
      version: 1,
    });
    const events = [];
    for await (const e of reader.events(new Date(Date.now() - 60_000).toISOString())) events.push(e);
    expect(events.some((e) => e.aggregate_id === id && e.actor === 'wanda')).toBe(true);
  });
});
