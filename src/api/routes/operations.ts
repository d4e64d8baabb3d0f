/** Health, readiness, metrics and the admin routes (outbox, dead letters, lag, verify, rebuild). */
import type { FastifyInstance } from 'fastify';
import { type ProjectionName, rebuild } from '../../app/rebuild.js';
import type { Strata } from '../../app/runtime.js';
import { verify } from '../../app/verify.js';
import { StrataError } from '../../core/errors.js';
import type { HttpMetrics } from '../http-metrics.js';

export function operationRoutes(app: FastifyInstance, strata: Strata, http: HttpMetrics): void {
  const admin = { role: 'admin' as const };

  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is alive' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { schema: { tags: ['operations'], summary: 'Every engine answers' } },
    async (request, reply) => {
      const engines = await strata.engines();
      const ready = engines.every((e) => e.ok);
      // Engine descriptions and errors name hosts and buckets: only admins (or an open API) see them.
      const shown = request.role === 'admin' ? engines : engines.map(({ role, ok }) => ({ role, ok }));
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unavailable', engines: shown });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
    async (_request, reply) => {
      const s = await strata.outbox.stats();
      const lines = [
        '# TYPE strata_outbox_rows gauge',
        `strata_outbox_rows{status="pending"} ${s.pending}`,
        `strata_outbox_rows{status="ready"} ${s.ready}`,
        '# TYPE strata_dead_letters gauge',
        `strata_dead_letters ${s.deadLetters}`,
        '# TYPE strata_projection_failures gauge',
        `strata_projection_failures ${s.projectionFailures}`,
        '# TYPE strata_relay_delivered_total counter',
        `strata_relay_delivered_total ${strata.relay.counters.delivered}`,
        `strata_relay_recovered_total ${strata.relay.counters.recovered}`,
        `strata_relay_voided_total ${strata.relay.counters.voided}`,
      ];
      for (const w of strata.workers) {
        const lag = (await strata.bus.lag(w.group)).reduce((n, l) => n + l.lag, 0);
        lines.push(
          `strata_consumer_lag{group="${w.group}"} ${lag}`,
          `strata_projection_applied_total{group="${w.group}"} ${w.stats.applied}`,
          `strata_projection_duplicates_total{group="${w.group}"} ${w.stats.duplicates}`,
          `strata_projection_errors_total{group="${w.group}"} ${w.stats.errors}`,
          `strata_bus_skipped_total{group="${w.group}"} ${w.stats.skipped}`,
        );
      }
      lines.push(...http.lines());
      return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
    },
  );

  app.get(
    '/v1/admin/outbox',
    { config: admin, schema: { tags: ['admin'], summary: 'Outbox rows, relay partitions and leases' } },
    async () => strata.outbox.stats(),
  );

  app.get(
    '/v1/admin/dead-letters',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Rows the relay gave up on, and documents a projection engine refused',
      },
    },
    async () => ({
      deadLetters: await strata.outbox.deadLetters(1000),
      projectionFailures: await strata.outbox.projectionFailures(1000),
    }),
  );

  app.post<{ Params: { id: number } }>(
    '/v1/admin/dead-letters/:id/retry',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Move a dead letter back to the outbox',
        params: {
          type: 'object',
          required: ['id'],
          // Beyond a safe integer the ID would be rounded (and overflow a bigint): a 400, not a 500.
          properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
        },
      },
    },
    async (request) => {
      if (!(await strata.outbox.retryDeadLetter(request.params.id))) {
        throw new StrataError('STRATA_ERR_OBJECT_NOT_FOUND', `no dead letter ${request.params.id}`);
      }
      return { retried: request.params.id };
    },
  );

  app.get(
    '/v1/admin/lag',
    { config: admin, schema: { tags: ['admin'], summary: 'Consumer lag and worker counters' } },
    async () => ({
      groups: await Promise.all(
        strata.workers.map(async (w) => {
          const partitions = await strata.bus.lag(w.group);
          return {
            group: w.group,
            lag: partitions.reduce((n, l) => n + l.lag, 0),
            partitions,
            stats: w.stats,
          };
        }),
      ),
    }),
  );

  app.post(
    '/v1/admin/verify',
    { config: admin, schema: { tags: ['admin'], summary: 'Compare projections with the event store' } },
    async () => verify(strata),
  );

  app.post<{ Body: { targets?: ProjectionName[] } }>(
    '/v1/admin/rebuild',
    {
      config: admin,
      // The body is optional: without one, validate (and rebuild) as if it were {}.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['admin'],
        summary: 'Rebuild projections from the event store (blue/green for search); no body rebuilds both',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            targets: { type: 'array', items: { enum: ['search', 'graph'] }, minItems: 1, uniqueItems: true },
          },
        },
      },
    },
    async (request) => rebuild(strata, request.body?.targets ?? ['search', 'graph']),
  );
}
