/**
 * Fastify's Ajv, twice: the querystring, path parameters and headers arrive as text and are
 * coerced (`?limit=5` is the integer 5), while a JSON body already has types and is validated as
 * sent, so `{"targetId": 1}` or `"required": "true"` is a 400 instead of being turned into
 * another value. Both instances keep Fastify's defaults (formats, useDefaults, fast-uri) and
 * the server's custom options; only `coerceTypes` differs.
 */
import AjvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler';

const fromPool = AjvCompiler();

export const buildRequestValidator: ValidatorFactory = (externalSchemas, options) => {
  const coercing = fromPool(externalSchemas, options);
  // JSON Type Definition mode never coerces: one instance serves every part.
  if (options?.mode === 'JTD') return coercing;
  const asSent = fromPool(externalSchemas, {
    ...options,
    customOptions: { ...options?.customOptions, coerceTypes: false },
  });
  return (route) => (route.httpPart === 'body' ? asSent(route) : coercing(route));
};
