import { describe, expect, it } from 'vitest';
import { unstorableJson } from '../../src/core/storable.js';

describe('unstorableJson', () => {
  it('accepts ordinary JSON, unicode included', () => {
    expect(
      unstorableJson({ a: ['Côte d’Ivoire', '東京', 1.5, null, true, { b: '🙂' }] }, ''),
    ).toBeUndefined();
  });

  it.each([
    [{ name: 'a\u0000b' }, '/name', 'contains a NUL character'],
    [{ list: ['ok', '\ud800'] }, '/list/1', 'contains an unpaired UTF-16 surrogate'],
    [{ n: Number.POSITIVE_INFINITY }, '/n', 'is out of range'],
    [{ 'k\u0000': 1 }, '', 'has a key that contains a NUL character'],
  ])('names the part that cannot be stored: %o', (value, path, message) => {
    expect(unstorableJson(value, '')).toEqual({ path, message });
  });

  it('refuses nesting deeper than 64 levels', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(unstorableJson(deep, '')?.message).toBe('nests deeper than 64 levels');
  });
});
