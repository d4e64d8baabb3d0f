/**
 * The one mapping from errors to HTTP: every failure leaves as application/problem+json with a
 * stable code, never a stack trace. Fastify's own request errors map onto the Strata catalogue.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  ERRORS,
  type ErrorCode,
  isStrataError,
  problemType,
  StrataError,
  type Violation,
} from '../core/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  violations?: Violation[];
  retryable?: boolean;
  [extra: string]: unknown;
}

export function problemOf(error: StrataError, instance: string): Problem {
  return {
    type: problemType(error.code),
    title: ERRORS[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance,
    ...(error.violations ? { violations: error.violations } : {}),
    ...(error.status >= 500 ? { retryable: error.retryable } : {}),
    ...error.extra,
  };
}

/** Translates Fastify's request errors (validation, body parsing, limits) into Strata errors. */
function fromFastify(error: FastifyError): StrataError | undefined {
  if (error.validation) {
    const violations = error.validation.map((v) => ({
      path: `${error.validationContext ? `/${error.validationContext}` : ''}${v.instancePath || ''}`,
      message: `${v.message ?? 'is invalid'}${v.params && 'additionalProperty' in v.params ? `: '${String(v.params.additionalProperty)}'` : ''}${v.params && 'allowedValues' in v.params ? ` ${JSON.stringify(v.params.allowedValues)}` : ''}`,
    }));
    return new StrataError('STRATA_ERR_REQUEST_INVALID', 'the request does not match the API schema', {
      violations,
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new StrataError('STRATA_ERR_PAYLOAD_TOO_LARGE', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new StrataError('STRATA_ERR_MEDIA_TYPE_UNSUPPORTED', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new StrataError('STRATA_ERR_REQUEST_INVALID', 'the JSON body is empty');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new StrataError('STRATA_ERR_URI_TOO_LONG', 'a path segment is longer than the server accepts');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new StrataError('STRATA_ERR_REQUEST_INVALID', error.message.replace(/^[A-Z_]+: /, ''));
  }
  return undefined;
}

export function sendProblem(reply: FastifyReply, error: StrataError, request: FastifyRequest): FastifyReply {
  if (error.status === 503) reply.header('Retry-After', '1');
  const problem = problemOf(error, request.url);
  // Engine messages name hosts, buckets and keys: only admins (or an open API) see them; the log has them.
  if (error.code === 'STRATA_ERR_ENGINE_UNAVAILABLE' && request.role !== 'admin') {
    problem.detail = `${String(error.extra.engine ?? 'a storage engine')} is unavailable; retry later`;
  }
  return reply.status(error.status).type('application/problem+json').send(problem);
}

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const strata = isStrataError(error) ? error : fromFastify(error);
  if (strata) {
    if (strata.status >= 500)
      request.log.warn({ code: strata.code, detail: strata.message }, 'request failed');
    return sendProblem(reply, strata, request);
  }
  // Anything else is a bug: log it with its stack, answer without it.
  request.log.error(error, 'unexpected error');
  return sendProblem(
    reply,
    new StrataError('STRATA_ERR_INTERNAL', 'an unexpected error occurred; it has been logged'),
    request,
  );
}

/**
 * Answers requests Node's HTTP parser refused before Fastify saw them (headers too large,
 * malformed HTTP, timeouts) with problem+json too, instead of Fastify's default plain JSON.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const strata =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new StrataError(
          'STRATA_ERR_HEADERS_TOO_LARGE',
          'the request line and headers exceed the server limit',
        )
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new StrataError('STRATA_ERR_REQUEST_TIMEOUT', 'the request was not received in time')
        : new StrataError('STRATA_ERR_REQUEST_INVALID', 'the request is not valid HTTP/1.1');
  const { instance: _none, ...problem } = problemOf(strata, '');
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${strata.status} ${STATUS_CODES[strata.status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
