/**
 * Rejects JSON bodies that parse but that no engine can store: NUL characters and unpaired
 * surrogates (Postgres text and jsonb refuse both, so such an event would be committed and then
 * never delivered), numbers beyond double range (JSON.stringify would turn them into null), and
 * nesting deep enough to overflow a recursive serialiser. Runs before schema validation.
 */
import type { FastifyRequest } from 'fastify';
import { StrataError } from '../core/errors.js';
import { unstorableJson } from '../core/storable.js';

/** preValidation hook: a 400 with the violation before anything else looks at the body. */
export async function rejectUnstorableBody(request: FastifyRequest): Promise<void> {
  const violation = unstorableJson(request.body, '/body');
  if (violation) {
    throw new StrataError(
      'STRATA_ERR_REQUEST_INVALID',
      `the JSON body cannot be stored: it ${violation.message}`,
      {
        violations: [violation],
      },
    );
  }
}
