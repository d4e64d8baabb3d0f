/**
 * The one catalogue of Strata errors: every code, its HTTP status and its problem `type`.
 * `api/` maps a StrataError to application/problem+json once; nothing else decides a status.
 */

export const ERRORS = {
  STRATA_ERR_REQUEST_INVALID: { status: 400, title: 'The request is malformed' },
  STRATA_ERR_ID_INVALID: { status: 400, title: 'The object ID cannot be used' },
  STRATA_ERR_AUTH_REQUIRED: { status: 401, title: 'Authentication required' },
  STRATA_ERR_FORBIDDEN: { status: 403, title: 'The token lacks the role this route needs' },
  STRATA_ERR_TYPE_UNKNOWN: { status: 404, title: 'Unknown object or link type' },
  STRATA_ERR_OBJECT_NOT_FOUND: { status: 404, title: 'Object not found' },
  STRATA_ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  STRATA_ERR_REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time' },
  STRATA_ERR_OBJECT_EXISTS: { status: 409, title: 'Object already exists' },
  STRATA_ERR_LINK_EXISTS: { status: 409, title: 'The link already exists' },
  STRATA_ERR_CONCURRENCY_CONFLICT: { status: 409, title: 'The aggregate changed since the expected version' },
  STRATA_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  STRATA_ERR_URI_TOO_LONG: { status: 414, title: 'The request URI is too long' },
  STRATA_ERR_MEDIA_TYPE_UNSUPPORTED: { status: 415, title: 'Unsupported media type' },
  STRATA_ERR_VALIDATION_FAILED: { status: 422, title: 'The command violates the ontology' },
  STRATA_ERR_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'The Idempotency-Key was used for another request',
  },
  STRATA_ERR_LINK_TARGET_MISSING: { status: 422, title: 'The link target does not exist' },
  STRATA_ERR_LINK_CARDINALITY: { status: 422, title: 'The link type does not allow another link' },
  STRATA_ERR_ONTOLOGY_INVALID: { status: 422, title: 'The ontology definition is invalid' },
  STRATA_ERR_ONTOLOGY_BREAKING_CHANGE: {
    status: 422,
    title: 'The ontology change would break existing data',
  },
  STRATA_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  STRATA_ERR_ENGINE_UNAVAILABLE: { status: 503, title: 'A storage engine is unavailable' },
  STRATA_ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One violation inside a 4xx: where (a JSON pointer into the request) and what. */
export interface Violation {
  path: string;
  message: string;
}

/** Problem `type` URI of a code, stable and documented in the README. */
export function problemType(code: ErrorCode): string {
  return `https://strata.dev/problems/${code
    .replace(/^STRATA_ERR_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

export class StrataError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly violations: Violation[] | undefined;
  readonly retryable: boolean;
  readonly extra: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    detail: string,
    opts: {
      violations?: Violation[];
      retryable?: boolean;
      extra?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StrataError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.violations = opts.violations;
    this.retryable = opts.retryable ?? this.status === 503;
    this.extra = opts.extra ?? {};
  }
}

export class ValidationFailed extends StrataError {
  constructor(detail: string, violations: Violation[]) {
    super('STRATA_ERR_VALIDATION_FAILED', detail, { violations });
  }
}

/** Raised by an event store when the version being appended already exists. */
export class ConcurrencyConflict extends StrataError {
  constructor(
    readonly aggregate: string,
    readonly expectedVersion: number,
    actualVersion?: number,
  ) {
    super(
      'STRATA_ERR_CONCURRENCY_CONFLICT',
      actualVersion === undefined
        ? `${aggregate}: version ${expectedVersion + 1} was committed by another writer`
        : `${aggregate}: expected version ${expectedVersion}, current version is ${actualVersion}`,
      {
        extra: { expectedVersion, ...(actualVersion === undefined ? {} : { currentVersion: actualVersion }) },
      },
    );
  }
}

/** Raised by any adapter when its engine cannot be reached or keeps failing. */
export class EngineUnavailable extends StrataError {
  constructor(
    readonly engine: string,
    detail: string,
    cause?: unknown,
  ) {
    super('STRATA_ERR_ENGINE_UNAVAILABLE', `${engine}: ${detail}`, { cause, extra: { engine } });
  }
}

export function isStrataError(e: unknown): e is StrataError {
  return e instanceof StrataError;
}
