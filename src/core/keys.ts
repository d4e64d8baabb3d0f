/**
 * The S3 key layout of DESIGN §3 and the encoding that makes any object ID a safe key segment.
 * Every byte outside [A-Za-z0-9_-] is percent-encoded (upper-case hex), so `/`, `.`, `..`, spaces,
 * `%`, `+` and unicode all round-trip exactly and no key ever holds `//` or a `..` segment.
 */
import { StrataError } from './errors.js';
import { hasLeadingByteOrderMark, LEADING_BOM_PROBLEM } from './storable.js';

const SAFE_BYTE = /^[A-Za-z0-9_-]$/;
/** Longest encoded segment: a filesystem name limit, so both event stores accept the same IDs. */
export const MAX_SEGMENT_BYTES = 255;

export function encodeSegment(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += SAFE_BYTE.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeSegment(segment: string): string {
  return decodeURIComponent(segment);
}

/**
 * Rejects IDs no key or query may be built from; everything else is encoded, not refused.
 * `pointer` names where the ID came from in the request (e.g. `/properties/code`), as a violation.
 */
export function assertValidId(id: unknown, what = 'object ID', pointer?: string): asserts id is string {
  const refuse = (message: string): never => {
    throw new StrataError('STRATA_ERR_ID_INVALID', `${what} ${message}`, {
      violations: pointer === undefined ? undefined : [{ path: pointer, message }],
    });
  };
  if (typeof id !== 'string' || id.length === 0) refuse('must be a non-empty string');
  const s = id as string;
  if (!s.isWellFormed()) refuse('holds an unpaired UTF-16 surrogate');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(s)) refuse('must not contain control characters');
  if (hasLeadingByteOrderMark(s)) refuse(LEADING_BOM_PROBLEM);
  if (encodeSegment(s).length > MAX_SEGMENT_BYTES) {
    refuse(`is too long: its encoded form exceeds ${MAX_SEGMENT_BYTES} bytes`);
  }
}

export interface AggregateRef {
  type: string;
  id: string;
}

export function aggregateKey(ref: AggregateRef): string {
  return `${ref.type}/${ref.id}`;
}

const VERSION_DIGITS = 16;

export function streamPrefix(ref: AggregateRef): string {
  return `streams/${encodeSegment(ref.type)}/${encodeSegment(ref.id)}/`;
}

export function streamKey(ref: AggregateRef, version: number): string {
  return `${streamPrefix(ref)}${String(version).padStart(VERSION_DIGITS, '0')}.json`;
}

/** `events/yyyy/mm/dd/` of a UTC instant; four digits, so folders sort in time order. */
export function dayPrefix(at: Date): string {
  const year = at.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`the year ${year} has no events/yyyy/ folder`);
  const y = String(year).padStart(4, '0');
  const m = String(at.getUTCMonth() + 1).padStart(2, '0');
  const d = String(at.getUTCDate()).padStart(2, '0');
  return `events/${y}/${m}/${d}/`;
}

export function datedKey(ref: AggregateRef, occurredAt: string, eventId: string): string {
  return `${dayPrefix(new Date(occurredAt))}${encodeSegment(ref.type)}/${encodeSegment(ref.id)}/${eventId}.json`;
}

/** Parses `streams/{type}/{id}/{version}.json`; undefined for any other key. */
export function parseStreamKey(key: string): (AggregateRef & { version: number }) | undefined {
  const m = /^streams\/([^/]+)\/([^/]+)\/(\d{16})\.json$/.exec(key);
  if (!m) return undefined;
  return { type: decodeSegment(m[1]!), id: decodeSegment(m[2]!), version: Number(m[3]) };
}

/** Parses `events/yyyy/mm/dd/{type}/{id}/{event_id}.json`. */
export function parseDatedKey(key: string): (AggregateRef & { eventId: string; day: string }) | undefined {
  const m = /^events\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)\/([^/]+)\/([^/]+)\.json$/.exec(key);
  if (!m) return undefined;
  return {
    day: `${m[1]}-${m[2]}-${m[3]}`,
    type: decodeSegment(m[4]!),
    id: decodeSegment(m[5]!),
    eventId: m[6]!,
  };
}

/** Stable partition of a key (FNV-1a 32-bit), so one aggregate always lands in one partition. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
