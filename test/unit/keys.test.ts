import { describe, expect, it } from 'vitest';
import { StrataError } from '../../src/core/errors.js';
import {
  assertValidId,
  datedKey,
  dayPrefix,
  decodeSegment,
  encodeSegment,
  parseDatedKey,
  parseStreamKey,
  partitionOf,
  streamKey,
} from '../../src/core/keys.js';

describe('key encoding', () => {
  const ids = [
    'FRA',
    'a/b',
    '..',
    '.',
    'with space',
    '100%',
    'a+b',
    'Côte d’Ivoire',
    '東京',
    '🙂',
    'a//b',
    '%2F',
    '-_',
  ];

  it('round-trips every ID exactly and never yields unsafe keys', () => {
    for (const id of ids) {
      const seg = encodeSegment(id);
      expect(decodeSegment(seg)).toBe(id);
      expect(seg).toMatch(/^[A-Za-z0-9_%-]+$/);
      const key = streamKey({ type: 'City', id }, 7);
      expect(key).not.toContain('//');
      expect(key.split('/')).not.toContain('..');
      expect(parseStreamKey(key)).toEqual({ type: 'City', id, version: 7 });
    }
  });

  it('is injective: distinct IDs give distinct segments', () => {
    expect(new Set(ids.map(encodeSegment)).size).toBe(ids.length);
  });

  it('lays out the dated copy by the UTC day of occurred_at', () => {
    const key = datedKey({ type: 'City', id: 'a/b' }, '2026-12-31T23:59:59.999Z', '01ABC');
    expect(key).toBe('events/2026/12/31/City/a%2Fb/01ABC.json');
    expect(parseDatedKey(key)).toEqual({ day: '2026-12-31', type: 'City', id: 'a/b', eventId: '01ABC' });
    expect(datedKey({ type: 'City', id: 'x' }, '2027-01-01T00:30:00+01:00', 'E')).toBe(
      'events/2026/12/31/City/x/E.json',
    );
  });

  it('zero-pads the year, so every day folder sorts in time order', () => {
    expect(dayPrefix(new Date(Date.UTC(2026, 0, 2)))).toBe('events/2026/01/02/');
    const y999 = new Date(0);
    y999.setUTCFullYear(999, 0, 1);
    expect(dayPrefix(y999)).toBe('events/0999/01/01/');
    expect(dayPrefix(y999) < dayPrefix(new Date(Date.UTC(2026, 0, 1)))).toBe(true);
    expect(parseDatedKey(`${dayPrefix(y999)}City/x/E.json`)?.day).toBe('0999-01-01');
    expect(() => dayPrefix(new Date(Date.UTC(10_000, 0, 1)))).toThrow(RangeError);
  });

  it('rejects empty IDs, control characters, lone surrogates and IDs too long to store', () => {
    for (const bad of [
      '',
      'a\u0000b',
      'tab\t',
      'nl\n',
      '\u007f',
      '\ud800',
      'x'.repeat(256),
      '%'.repeat(86),
    ]) {
      expect(() => assertValidId(bad)).toThrow(StrataError);
    }
    expect(() => assertValidId('x'.repeat(255))).not.toThrow();
    expect(() => assertValidId(42)).toThrow(/non-empty string/);
  });

  it('rejects an ID that begins with a byte-order mark, naming the pointer when given one', () => {
    expect(() => assertValidId('\ufeffbom')).toThrow(/byte-order mark/);
    let caught: unknown;
    try {
      assertValidId('\ufeffbom', 'link target ID', '/targetId');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StrataError);
    expect((caught as StrataError).code).toBe('STRATA_ERR_ID_INVALID');
    expect((caught as StrataError).violations).toEqual([
      { path: '/targetId', message: expect.stringContaining('byte-order mark') },
    ]);
    // inside an ID the mark is stored like any other character
    expect(() => assertValidId('a\ufeffb')).not.toThrow();
  });

  it('maps a key to a stable partition', () => {
    expect(partitionOf('City/PAR', 16)).toBe(partitionOf('City/PAR', 16));
    const spread = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`City/${i}`, 16)));
    expect(spread.size).toBe(16);
  });
});
