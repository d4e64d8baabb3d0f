/** Write routes: ontology changes and object commands. Each returns 202 with the committed event. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommandContext, CommandResult } from '../../app/command-handler.js';
import type { Strata } from '../../app/runtime.js';
import { StrataError } from '../../core/errors.js';
import type { Ontology } from '../../core/ontology.js';
import {
  commandHeaders,
  errorResponses,
  idParam,
  objectParams,
  propertiesBody,
  typeParam,
} from '../schemas.js';

/** If-Match: `"3"`, `W/"3"` or `3`. */
export function expectedVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  if (!m)
    throw new StrataError(
      'STRATA_ERR_REQUEST_INVALID',
      `If-Match '${header}' must be a version number such as "3"`,
    );
  return Number(m[1]);
}

/** Node joins repeated headers with ', ': two Idempotency-Keys would silently become a third. */
function refuseRepeated(request: FastifyRequest, name: string, display: string): void {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) count++;
  if (count > 1) {
    throw new StrataError('STRATA_ERR_REQUEST_INVALID', `send one ${display} header, not ${count}`);
  }
}

export function commandContext(request: FastifyRequest): CommandContext {
  const h = request.headers;
  refuseRepeated(request, 'idempotency-key', 'Idempotency-Key');
  const key = h['idempotency-key'];
  return {
    actor: request.actor,
    commandId: typeof key === 'string' ? key : undefined,
    correlationId: typeof h['x-correlation-id'] === 'string' ? h['x-correlation-id'] : undefined,
    expectedVersion: expectedVersion(typeof h['if-match'] === 'string' ? h['if-match'] : undefined),
  };
}

/** A path segment for any ID: dots encoded too, so the IDs '.' and '..' are not resolved away as dot-segments. */
function pathSegment(value: string): string {
  return encodeURIComponent(value).replaceAll('.', '%2E');
}

export function accepted(reply: FastifyReply, result: CommandResult): FastifyReply {
  reply.header('ETag', `"${result.version}"`);
  if (result.aggregate_type !== 'ontology') {
    reply.header(
      'Location',
      `/v1/objects/${pathSegment(result.aggregate_type)}/${pathSegment(result.aggregate_id)}`,
    );
  }
  return reply.status(202).send(result);
}

const accepted202 = { 202: { $ref: 'CommandResult#' }, ...errorResponses };

interface ObjectParams {
  type: string;
  id: string;
}

export function commandRoutes(app: FastifyInstance, strata: Strata): void {
  const writer = { role: 'writer' as const };

  app.put<{ Body: Ontology & { version?: number } }>(
    '/v1/ontology',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['ontology'],
        summary:
          'Replace the ontology (additive changes only); the change is an event. The body may carry the version GET returned, as the expected current version',
        headers: commandHeaders,
        body: { $ref: 'Ontology#' },
        response: accepted202,
      },
    },
    async (request, reply) => {
      // The body GET returned carries its version: PUT takes it back as the expected version.
      const { version, ...ontology } = request.body;
      const context = commandContext(request);
      if (
        version !== undefined &&
        context.expectedVersion !== undefined &&
        version !== context.expectedVersion
      ) {
        throw new StrataError(
          'STRATA_ERR_REQUEST_INVALID',
          `If-Match "${context.expectedVersion}" and the body's version ${version} disagree: give one, or the same in both`,
        );
      }
      return accepted(
        reply,
        await strata.commands.putOntology(ontology, {
          ...context,
          expectedVersion: context.expectedVersion ?? version,
        }),
      );
    },
  );

  app.post<{ Params: { type: string }; Body: { properties: Record<string, unknown> } }>(
    '/v1/objects/:type',
    {
      config: writer,
      schema: {
        tags: ['objects'],
        summary: 'Create an object; its ID is its primary key property',
        params: { type: 'object', required: ['type'], properties: { type: typeParam } },
        headers: commandHeaders,
        body: propertiesBody,
        response: accepted202,
      },
    },
    async (request, reply) =>
      accepted(
        reply,
        await strata.commands.createObject(
          request.params.type,
          request.body.properties,
          commandContext(request),
        ),
      ),
  );

  app.patch<{ Params: ObjectParams; Body: { properties: Record<string, unknown> } }>(
    '/v1/objects/:type/:id',
    {
      config: writer,
      schema: {
        tags: ['objects'],
        summary: 'Update properties (JSON merge patch: null removes an optional property)',
        params: objectParams,
        headers: commandHeaders,
        body: propertiesBody,
        response: accepted202,
      },
    },
    async (request, reply) =>
      accepted(
        reply,
        await strata.commands.updateObject(
          request.params.type,
          request.params.id,
          request.body.properties,
          commandContext(request),
        ),
      ),
  );

  app.delete<{ Params: ObjectParams }>(
    '/v1/objects/:type/:id',
    {
      config: writer,
      schema: {
        tags: ['objects'],
        summary: 'Delete an object',
        params: objectParams,
        headers: commandHeaders,
        response: accepted202,
      },
    },
    async (request, reply) =>
      accepted(
        reply,
        await strata.commands.deleteObject(request.params.type, request.params.id, commandContext(request)),
      ),
  );

  app.post<{ Params: ObjectParams & { linkType: string }; Body: { targetId: string } }>(
    '/v1/objects/:type/:id/links/:linkType',
    {
      config: writer,
      schema: {
        tags: ['links'],
        summary: 'Link this object to a target of the link type',
        params: {
          ...objectParams,
          required: ['type', 'id', 'linkType'],
          properties: { ...objectParams.properties, linkType: typeParam },
        },
        headers: commandHeaders,
        body: {
          type: 'object',
          required: ['targetId'],
          additionalProperties: false,
          properties: { targetId: idParam },
        },
        response: accepted202,
      },
    },
    async (request, reply) => {
      const { type, id, linkType } = request.params;
      return accepted(
        reply,
        await strata.commands.addLink(type, id, linkType, request.body.targetId, commandContext(request)),
      );
    },
  );

  app.delete<{ Params: ObjectParams & { linkType: string; targetId: string } }>(
    '/v1/objects/:type/:id/links/:linkType/:targetId',
    {
      config: writer,
      schema: {
        tags: ['links'],
        summary: 'Remove a link',
        params: {
          type: 'object',
          required: ['type', 'id', 'linkType', 'targetId'],
          properties: { ...objectParams.properties, linkType: typeParam, targetId: idParam },
        },
        headers: commandHeaders,
        response: accepted202,
      },
    },
    async (request, reply) => {
      const { type, id, linkType, targetId } = request.params;
      return accepted(
        reply,
        await strata.commands.removeLink(type, id, linkType, targetId, commandContext(request)),
      );
    },
  );
}
