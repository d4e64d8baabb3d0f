/** JSON Schemas of the HTTP API: validation by Fastify and the OpenAPI document at /docs. */

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string' },
    violations: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  additionalProperties: true,
} as const;

export const commandResultSchema = {
  $id: 'CommandResult',
  type: 'object',
  properties: {
    event_id: { type: 'string' },
    event_type: { type: 'string' },
    aggregate_type: { type: 'string' },
    aggregate_id: { type: 'string' },
    version: { type: 'integer' },
    deduplicated: { type: 'boolean' },
  },
} as const;

const propertyDef = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: {
      enum: ['string', 'integer', 'double', 'boolean', 'date', 'timestamp', 'enum', 'geopoint', 'json'],
    },
    array: { type: 'boolean' },
    required: { type: 'boolean' },
    values: { type: 'array', items: { type: 'string' }, maxItems: 10_000 },
    description: { type: 'string', maxLength: 10_000 },
  },
} as const;

export const ontologySchema = {
  $id: 'Ontology',
  type: 'object',
  required: ['objectTypes', 'linkTypes'],
  additionalProperties: false,
  properties: {
    version: {
      type: 'integer',
      minimum: 0,
      description:
        'As GET returns it; on PUT, the expected current version (like If-Match: a mismatch is a 409)',
    },
    objectTypes: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['apiName', 'primaryKey', 'titleProperty', 'properties'],
        additionalProperties: false,
        properties: {
          apiName: { type: 'string' },
          displayName: { type: 'string', maxLength: 200 },
          primaryKey: { type: 'string' },
          titleProperty: { type: 'string' },
          properties: { type: 'object', additionalProperties: propertyDef, maxProperties: 1000 },
        },
      },
    },
    linkTypes: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['apiName', 'from', 'to', 'cardinality'],
        additionalProperties: false,
        properties: {
          apiName: { type: 'string' },
          displayName: { type: 'string', maxLength: 200 },
          from: { type: 'string' },
          to: { type: 'string' },
          cardinality: { enum: ['one', 'many'] },
          inverseName: { type: 'string', maxLength: 64 },
          inverseCardinality: { enum: ['one', 'many'] },
        },
      },
    },
  },
} as const;

export const typeParam = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const idParam = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export const objectParams = {
  type: 'object',
  required: ['type', 'id'],
  properties: { type: typeParam, id: idParam },
} as const;

export const commandHeaders = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', description: 'Expected current version, e.g. "3"; a mismatch is a 409' },
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'Retries with the same key never yield a second event',
    },
  },
} as const;

export const propertiesBody = {
  type: 'object',
  required: ['properties'],
  additionalProperties: false,
  properties: { properties: { type: 'object', maxProperties: 1000 } },
} as const;

const scalar = { type: ['string', 'number', 'boolean'] } as const;

export const searchBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: typeParam,
    text: { type: 'string', maxLength: 1000 },
    filters: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['field'],
        additionalProperties: false,
        properties: {
          field: { type: 'string', maxLength: 200 },
          eq: scalar,
          in: { type: 'array', items: scalar, maxItems: 1000 },
          gte: { type: ['string', 'number'] },
          gt: { type: ['string', 'number'] },
          lte: { type: ['string', 'number'] },
          lt: { type: ['string', 'number'] },
          exists: { type: 'boolean' },
        },
      },
    },
    sort: {
      type: 'array',
      maxItems: 5,
      items: {
        type: 'object',
        required: ['field'],
        additionalProperties: false,
        properties: { field: { type: 'string', maxLength: 200 }, order: { enum: ['asc', 'desc'] } },
      },
    },
    page: {
      type: 'object',
      additionalProperties: false,
      properties: {
        size: { type: 'integer', minimum: 0, maximum: 1000 },
        from: { type: 'integer', minimum: 0, maximum: 100_000 },
      },
    },
    aggregations: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        required: ['terms'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', maxLength: 200 },
          terms: { type: 'string', maxLength: 200 },
          size: { type: 'integer', minimum: 1, maximum: 1000 },
        },
      },
    },
  },
} as const;

export const errorResponses = {
  400: { $ref: 'Problem#' },
  404: { $ref: 'Problem#' },
  409: { $ref: 'Problem#' },
  422: { $ref: 'Problem#' },
  503: { $ref: 'Problem#' },
} as const;
