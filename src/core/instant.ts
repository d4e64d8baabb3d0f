/**
 * The one reading of the instants clients give Strata (`asOf`, `from`, `to`, `replay --from/--to`):
 * a UTC date or an ISO-8601 timestamp with a zone, a real calendar date and time of day, within the
 * range Strata's event times can take. Nothing the server's locale could read differently.
 */
import { StrataError } from './errors.js';

/** Strata's event times are its servers' clock times: nothing precedes the Unix epoch. */
export const EARLIEST_INSTANT = Date.UTC(1970, 0, 1);
/** The last instant a four-digit year (and the `events/yyyy/` key layout) can name. */
export const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** UTC offsets in use on Earth (-14:00 to +14:00). */
const MAX_OFFSET_MINUTES = 14 * 60;

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

export interface IsoInstant {
  /** Milliseconds since the epoch (a bare date: the start of that UTC day). */
  at: number;
  /** True for a timestamp (with its zone), false for a bare date. */
  hasTime: boolean;
  /** The year as written (0000 is 1 BC, proleptic Gregorian). */
  year: number;
}

/**
 * Reads a UTC date (`YYYY-MM-DD`) or an ISO-8601 timestamp with a zone, the one form of dates
 * Strata takes, in properties and in queries. Written by hand because Date.parse rolls impossible
 * dates over (2026-02-31 → March 3, T24:00 → the next day) while the engines refuse them. Returns
 * why the text is not such a date when it is not: a form, calendar, time-of-day or offset problem.
 */
export function readIsoInstant(value: string): IsoInstant | { problem: string } {
  const m = ISO.exec(value);
  if (!m) return { problem: 'is not a date (YYYY-MM-DD, UTC) or an ISO-8601 timestamp with a zone' };
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    return { problem: 'is not a calendar date' };
  }
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) {
    return { problem: 'is not a time of day (00:00:00 to 23:59:59)' };
  }
  const offsetMinutes =
    m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (Number(m[11] ?? 0) > 59 || Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) {
    return { problem: 'has no such UTC offset (-14:00 to +14:00)' };
  }
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const at = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0–99 as 1900–1999.
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute - offsetMinutes, second, ms);
  return { at: at.getTime(), hasTime: m[4] !== undefined, year };
}

export interface ParseInstantOptions {
  /** A bare date means the start of that UTC day (default) or its last millisecond (a window's end). */
  bareDate?: 'start' | 'end';
}

/**
 * Milliseconds since the epoch of `value` (read by readIsoInstant, within the instants Strata
 * keeps), or a 400 STRATA_ERR_REQUEST_INVALID naming `name`.
 */
export function parseInstant(value: string, name: string, options: ParseInstantOptions = {}): number {
  const read = readIsoInstant(value);
  const invalid = (why: string) => new StrataError('STRATA_ERR_REQUEST_INVALID', `${name} '${value}' ${why}`);
  if ('problem' in read) throw invalid(read.problem);
  const instant = read.at + (!read.hasTime && options.bareDate === 'end' ? 86_399_999 : 0);
  if (instant < EARLIEST_INSTANT || instant > LATEST_INSTANT) {
    throw invalid(
      `is outside the instants Strata keeps, ${new Date(EARLIEST_INSTANT).toISOString()} to ${new Date(LATEST_INSTANT).toISOString()}`,
    );
  }
  return instant;
}
