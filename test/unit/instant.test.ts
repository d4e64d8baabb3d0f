import { describe, expect, it } from 'vitest';
import { StrataError } from '../../src/core/errors.js';
import { EARLIEST_INSTANT, LATEST_INSTANT, parseInstant } from '../../src/core/instant.js';

function refusal(value: string, name = 'asOf'): StrataError {
  try {
    parseInstant(value, name);
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    return e as StrataError;
  }
  throw new Error(`${value} was accepted`);
}

describe('parseInstant', () => {
  it('reads UTC dates and timestamps with a zone, seconds and fractions optional', () => {
    expect(parseInstant('2026-02-28', 'asOf')).toBe(Date.UTC(2026, 1, 28));
    expect(parseInstant('2024-02-29', 'asOf')).toBe(Date.UTC(2024, 1, 29));
    expect(parseInstant('2000-02-29T12:00Z', 'asOf')).toBe(Date.UTC(2000, 1, 29, 12));
    expect(parseInstant('2026-01-01T10:00:05.123456789+02:00', 'asOf')).toBe(
      Date.UTC(2026, 0, 1, 8, 0, 5, 123),
    );
    expect(parseInstant('2026-01-01T00:30:00.5-01:30', 'asOf')).toBe(Date.UTC(2026, 0, 1, 2, 0, 0, 500));
  });

  it('a bare date can mean the last millisecond of its day, for the end of a window', () => {
    expect(parseInstant('2026-03-01', 'to', { bareDate: 'end' })).toBe(Date.UTC(2026, 2, 1, 23, 59, 59, 999));
    expect(parseInstant('2026-03-01T00:00Z', 'to', { bareDate: 'end' })).toBe(Date.UTC(2026, 2, 1));
    expect(parseInstant('9999-12-31', 'to', { bareDate: 'end' })).toBe(LATEST_INSTANT);
  });

  it('refuses dates that do not exist instead of rolling them over', () => {
    for (const bad of [
      '2026-02-29',
      '2100-02-29',
      '2026-02-31',
      '2026-04-31',
      '2026-13-01',
      '2026-00-10',
      '2026-01-00',
    ]) {
      expect(refusal(bad).message, bad).toBe(`asOf '${bad}' is not a calendar date`);
    }
  });

  it('refuses times of day and offsets that do not exist', () => {
    for (const bad of [
      '2026-01-01T24:00Z',
      '2026-01-01T23:60Z',
      '2026-01-01T23:59:60Z',
      '2026-01-01T12:00:99Z',
    ]) {
      expect(refusal(bad).message, bad).toContain('is not a time of day');
    }
    for (const bad of ['2026-01-01T12:00+14:01', '2026-01-01T12:00-15:00', '2026-01-01T12:00+01:60']) {
      expect(refusal(bad).message, bad).toContain('has no such UTC offset');
    }
  });

  it('refuses instants outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z, naming the parameter', () => {
    expect(parseInstant('1970-01-01', 'from')).toBe(EARLIEST_INSTANT);
    expect(parseInstant('1970-01-01T01:00+01:00', 'from')).toBe(EARLIEST_INSTANT);
    expect(parseInstant('9999-12-31T23:59:59.999Z', 'to')).toBe(LATEST_INSTANT);
    for (const bad of [
      '0000-01-01',
      '0001-01-01T00:00:00+01:00',
      '0999-01-01',
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:00+00:01',
      '9999-12-31T23:59:59.999-00:01',
    ]) {
      const e = refusal(bad, 'from');
      expect(e.code, bad).toBe('STRATA_ERR_REQUEST_INVALID');
      expect(e.message, bad).toBe(
        `from '${bad}' is outside the instants Strata keeps, 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z`,
      );
    }
  });

  it('refuses anything but the two forms: no bare numbers, no local times, no names', () => {
    for (const bad of [
      'yesterday',
      '1',
      '2026-01-01T10:00',
      'Jan 1 2026',
      '2026-1-1',
      '+002026-01-01',
      '2026-01-01 10:00Z',
      '',
    ]) {
      expect(refusal(bad).message, bad).toContain(
        'is not a date (YYYY-MM-DD, UTC) or an ISO-8601 timestamp with a zone',
      );
    }
  });
});
