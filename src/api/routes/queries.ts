/** Read routes: ontology, objects (time travel), history, traversal, search, event replay. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { SearchRequest } from '../../app/queries.js';
import type { Strata } from '../../app/runtime.js';
import type { Direction } from '../../ports/graph-store.js';
import { errorResponses, objectParams, searchBody, typeParam } from '../schemas.js';

export function queryRoutes(app: FastifyInstance, strata: Strata): void {
  const reader = { role: 'reader' as const };

  app.get(
    '/v1/ontology',
    { config: reader, schema: { tags: ['ontology'], summary: 'The current ontology and its version' } },
    async (_request, reply) => {
      const state = await strata.ontology.reload();
      reply.header('ETag', `"${state.version}"`);
      return { version: state.version, ...state.ontology };
    },
  );

  app.get<{ Params: { type: string; id: string }; Querystring: { asOf?: string } }>(
    '/v1/objects/:type/:id',
    {
      config: reader,
      schema: {
        tags: ['objects'],
        summary: 'An object folded from its events; asOf shows it as it was then',
        params: objectParams,
        querystring: {
          type: 'object',
          properties: { asOf: { type: 'string', maxLength: 64 } },
          additionalProperties: false,
        },
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const view = await strata.queries.getObject(request.params.type, request.params.id, request.query.asOf);
      reply.header('ETag', `"${view.version}"`);
      return view;
    },
  );

  app.get<{ Params: { type: string; id: string }; Querystring: { fromVersion?: number; limit?: number } }>(
    '/v1/objects/:type/:id/history',
    {
      config: reader,
      schema: {
        tags: ['objects'],
        summary: 'The audit trail: every event of the object, oldest first',
        params: objectParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            fromVersion: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
        response: errorResponses,
      },
    },
    async (request) => ({
      events: await strata.queries.history(request.params.type, request.params.id, request.query),
    }),
  );

  app.get<{
    Querystring: {
      type: string;
      id: string;
      linkTypes?: string;
      direction?: Direction;
      depth?: number;
      asOf?: string;
      limit?: number;
    };
  }>(
    '/v1/graph/traverse',
    {
      config: reader,
      schema: {
        tags: ['graph'],
        summary: 'Search-around: objects reachable from a start object',
        querystring: {
          type: 'object',
          required: ['type', 'id'],
          additionalProperties: false,
          properties: {
            type: typeParam,
            id: { type: 'string', minLength: 1, maxLength: 1024 },
            linkTypes: { type: 'string', maxLength: 2000, description: 'comma-separated; all when absent' },
            direction: { enum: ['out', 'in', 'both'] },
            depth: { type: 'integer', minimum: 1, maximum: 6 },
            asOf: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 10_000 },
          },
        },
        response: errorResponses,
      },
    },
    async (request) => {
      const q = request.query;
      return strata.queries.traverse({
        ...q,
        linkTypes: q.linkTypes
          ? q.linkTypes
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined,
      });
    },
  );

  app.post<{ Body: SearchRequest }>(
    '/v1/search',
    {
      config: reader,
      schema: {
        tags: ['search'],
        summary: 'Full text, filters, sort, paging and terms aggregations',
        body: searchBody,
        response: errorResponses,
      },
    },
    async (request) => strata.queries.search(request.body),
  );

  app.get<{ Querystring: { from: string; to?: string } }>(
    '/v1/events',
    {
      config: reader,
      schema: {
        tags: ['events'],
        summary: 'Replay: the events that occurred in [from, to], as NDJSON in time order',
        querystring: {
          type: 'object',
          required: ['from'],
          additionalProperties: false,
          properties: { from: { type: 'string', maxLength: 64 }, to: { type: 'string', maxLength: 64 } },
        },
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const events = strata.queries.eventsByDate(
        request.query.from,
        request.query.to ?? new Date().toISOString(),
      );
      async function* lines() {
        for await (const e of events) yield `${JSON.stringify(e)}\n`;
      }
      return reply.type('application/x-ndjson').send(Readable.from(lines()));
    },
  );
}
