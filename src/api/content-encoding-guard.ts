/**
 * Refuses a request body sent with a Content-Encoding other than identity: Strata does not decode
 * compressed bodies, and parsing the encoded bytes as JSON would answer a misleading 400 (or
 * worse, accept bytes the client never meant as the body).
 */
import type { FastifyRequest } from 'fastify';
import { StrataError } from '../core/errors.js';

const hasBody = (request: FastifyRequest) =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

/** onRequest hook: a 415 before the body is read. */
export async function rejectEncodedBody(request: FastifyRequest): Promise<void> {
  const header = request.headers['content-encoding'];
  if (header === undefined || !hasBody(request)) return;
  const codings = header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
  if (codings.some((c) => c !== 'identity')) {
    throw new StrataError(
      'STRATA_ERR_MEDIA_TYPE_UNSUPPORTED',
      `Content-Encoding '${header}' is not supported: Strata does not decode compressed request bodies; send the JSON uncompressed (or Content-Encoding: identity)`,
    );
  }
}
