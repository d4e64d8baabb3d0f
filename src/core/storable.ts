/**
 * Values no engine can store: NUL characters and unpaired surrogates (PostgreSQL text and jsonb
 * refuse both, so such an event would be committed and then never delivered), numbers beyond
 * double range (JSON.stringify would turn them into null), and nesting deep enough to overflow a
 * recursive serialiser. Checked at the API (400) and again before any event is built (422).
 */
import type { Violation } from './errors.js';

/**
 * Why a string that begins with U+FEFF is refused where it lands in a text column (IDs, string
 * values, titles): PGlite 0.5 stores the mark but drops a leading one when it decodes a text result
 * (SELECT length(s) is 2 for '\ufeffx', yet s comes back as 'x'), so the outbox would name another
 * aggregate and the projections another title. Inside a string the mark round-trips.
 */
export const LEADING_BOM_PROBLEM = 'begins with a byte-order mark (U+FEFF), which is not stored reliably';

export function hasLeadingByteOrderMark(s: string): boolean {
  return s.charCodeAt(0) === 0xfeff;
}

/** Deepest nesting of arrays and objects accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL characters is the point
const NUL = /\u0000/;

function stringProblem(s: string): string | undefined {
  if (NUL.test(s)) return 'contains a NUL character';
  if (!s.isWellFormed()) return 'contains an unpaired UTF-16 surrogate';
  return undefined;
}

/** The first part of `value` that cannot be stored, as a violation with a JSON pointer. */
export function unstorableJson(value: unknown, path: string, depth = 0): Violation | undefined {
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    return problem ? { path, message: problem } : undefined;
  }
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : { path, message: 'is out of range' };
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) return { path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const v = unstorableJson(item, `${path}/${i}`, depth + 1);
      if (v) return v;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const problem = stringProblem(key);
    if (problem) return { path, message: `has a key that ${problem}` };
    const v = unstorableJson(item, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, depth + 1);
    if (v) return v;
  }
  return undefined;
}

/** JSON with sorted object keys, so equal values compare equal whatever order their keys came in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
