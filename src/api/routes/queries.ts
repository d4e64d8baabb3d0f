/** Read routes: ontology, objects (time travel), history, traversal, search, event replay. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { SearchRequest } from '../../app/queries.js';
import type { Strata } from '../../app/runtime.js';
import type { Direction } from '../../ports/graph-store.js';
import { errorResponses, objectParams, searchBody, typeParam } from '../schemas.js';

/** asOf, from and to: read by parseInstant (src/core/instant.ts), which says what is wrong. */
const instantParam = { type: 'string', maxLength: 64 } as const;
const instantForms =
  'YYYY-MM-DD (UTC) or an ISO-8601 timestamp with a zone, a real calendar date and time, from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z';

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
          properties: {
            asOf: { ...instantParam, description: `the object as it was at this instant; ${instantForms}` },
          },
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
        summary: 'Search-around: objects reachable from a start object (the start is not among the nodes)',
        querystring: {
          type: 'object',
          required: ['type', 'id'],
          additionalProperties: false,
          properties: {
            type: typeParam,
            id: { type: 'string', minLength: 1, maxLength: 1024 },
            linkTypes: { type: 'string', maxLength: 2000, description: 'comma-separated; all when absent' },
            direction: { enum: ['out', 'in', 'both'], description: 'out when absent' },
            depth: { type: 'integer', minimum: 1, maximum: 6, description: '1 when absent' },
            asOf: {
              ...instantParam,
              description: `the graph (links, nodes and titles) as it was at this instant; ${instantForms}`,
            },
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: 10_000,
              description: 'most nodes returned, 1000 when absent; truncated says when more were found',
            },
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
          properties: {
            from: { ...instantParam, description: `start of the window (inclusive); ${instantForms}` },
            to: {
              ...instantParam,
              description: `end of the window (inclusive; a bare date means the end of that day; default now); ${instantForms}`,
            },
          },
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
