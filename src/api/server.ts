/**
 * The HTTP API (Fastify): JSON Schema validation, OpenAPI at /docs, problem+json errors,
 * bearer-token roles. Routes only translate HTTP to the app layer; no business logic here.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Strata } from '../app/runtime.js';
import { StrataError } from '../core/errors.js';
import { authHook } from './auth.js';
import { rejectUnstorableBody } from './body-guard.js';
import { rejectEncodedBody } from './content-encoding-guard.js';
import { HttpMetrics } from './http-metrics.js';
import { clientErrorHandler, errorHandler, sendProblem } from './problem.js';
import { buildRequestValidator } from './request-validator.js';
import { commandRoutes } from './routes/commands.js';
import { operationRoutes } from './routes/operations.js';
import { queryRoutes } from './routes/queries.js';
import { commandResultSchema, ontologySchema, problemSchema } from './schemas.js';

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
}

export async function buildServer(strata: Strata, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: strata.config.http.bodyLimit,
    // Path segments may hold any encoded ID (including %2F); keep them intact for the router.
    routerOptions: { maxParamLength: 4096 },
    // Bad percent-encoding and over-long segments fail in the router: answer them as problem+json too.
    frameworkErrors: errorHandler,
    clientErrorHandler,
    // Bodies are validated without coercion (request-validator.ts); this applies to the rest.
    schemaController: { compilersFactory: { buildValidator: buildRequestValidator } },
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: 'array',
        allErrors: true,
        allowUnionTypes: true,
      },
    },
  });
  // Every body is JSON: text/plain (a Fastify default) must be a 415 like any other media type.
  app.removeContentTypeParser('text/plain');
  // PATCH bodies are JSON merge patches (RFC 7396): accept their media type too.
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.decorateRequest('actor', 'anonymous');
  app.decorateRequest('role', 'reader');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new StrataError(
        'STRATA_ERR_ROUTE_NOT_FOUND',
        `no route ${request.method} ${request.url.split('?')[0]}`,
      ),
      request,
    ),
  );
  app.addSchema(problemSchema);
  app.addSchema(commandResultSchema);
  app.addSchema(ontologySchema);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Strata API',
        version: '0.1.0',
        description: 'Event-sourced ontology: every change is an immutable event in S3-compatible storage.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: strata.config.auth.length ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.addHook('onRequest', authHook(strata.config.auth));
  app.addHook('onRequest', rejectEncodedBody);
  app.addHook('preValidation', rejectUnstorableBody);

  const metrics = new HttpMetrics();
  metrics.attach(app);
  commandRoutes(app, strata);
  queryRoutes(app, strata);
  operationRoutes(app, strata, metrics);
  return app;
}
