/**
 * Lookups by a user-chosen name in a plain object (properties, links by link type). `record[name]`
 * answers `constructor`, `toString` or `valueOf` from Object.prototype when the object lacks them.
 */

/** `record[key]` when it is the record's own property, else undefined. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
