import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/problem.js';
import { EngineUnavailable } from '../../src/core/errors.js';

describe('problem+json for an unavailable engine', () => {
  it('shows engine internals to admins only', async () => {
    const app = Fastify();
    app.decorateRequest('role', 'reader');
    app.decorateRequest('actor', 'anonymous');
    app.addHook('onRequest', async (request) => {
      request.role = request.headers['x-role'] === 'admin' ? 'admin' : 'writer';
    });
    app.setErrorHandler(errorHandler);
    app.get('/boom', async () => {
      throw new EngineUnavailable(
        's3',
        'cannot reach http://10.1.2.3:9000 (STRATA_EVENT_STORE endpoint): ECONNREFUSED',
      );
    });
    const writer = await app.inject({ method: 'GET', url: '/boom' });
    expect(writer.statusCode).toBe(503);
    expect(writer.headers['retry-after']).toBe('1');
    expect(writer.json()).toMatchObject({
      code: 'STRATA_ERR_ENGINE_UNAVAILABLE',
      detail: 's3 is unavailable; retry later',
      retryable: true,
    });
    expect(writer.body).not.toContain('10.1.2.3');
    const admin = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-role': 'admin' } });
    expect(admin.json().detail).toContain('10.1.2.3');
    await app.close();
  });
});
