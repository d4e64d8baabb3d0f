/**
 * The ontology: object types with typed properties, link types between them.
 * Pure validation of the definition itself and of object properties against it.
 */
import { StrataError, type Violation } from './errors.js';
import { readIsoInstant } from './instant.js';
import { ownValue } from './own.js';
import { hasLeadingByteOrderMark, LEADING_BOM_PROBLEM } from './storable.js';

export const SCALAR_TYPES = [
  'string',
  'integer',
  'double',
  'boolean',
  'date',
  'timestamp',
  'enum',
  'geopoint',
  'json',
] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];

export interface PropertyDef {
  type: ScalarType;
  /** The value is an array of `type`. */
  array?: boolean;
  required?: boolean;
  /** Allowed values when `type` is `enum`. */
  values?: string[];
  description?: string;
}

export interface ObjectTypeDef {
  apiName: string;
  displayName?: string;
  primaryKey: string;
  titleProperty: string;
  properties: Record<string, PropertyDef>;
}

export type Cardinality = 'one' | 'many';

export interface LinkTypeDef {
  apiName: string;
  displayName?: string;
  from: string;
  to: string;
  /** How many targets one source object may link to. */
  cardinality: Cardinality;
  /** Name of the reverse direction, e.g. `borderedBy`; informational. */
  inverseName?: string;
  /** How many sources may link to one target (checked against the graph projection). */
  inverseCardinality?: Cardinality;
}

export interface Ontology {
  objectTypes: ObjectTypeDef[];
  linkTypes: LinkTypeDef[];
}

export const EMPTY_ONTOLOGY: Ontology = { objectTypes: [], linkTypes: [] };

const TYPE_NAME = /^[A-Z][A-Za-z0-9_]{0,63}$/;
const MEMBER_NAME = /^[a-z][A-Za-z0-9_]{0,63}$/;

export function findObjectType(ontology: Ontology, apiName: string): ObjectTypeDef | undefined {
  return ontology.objectTypes.find((t) => t.apiName === apiName);
}

export function findLinkType(ontology: Ontology, apiName: string): LinkTypeDef | undefined {
  return ontology.linkTypes.find((l) => l.apiName === apiName);
}

export function requireObjectType(ontology: Ontology, apiName: string): ObjectTypeDef {
  const t = findObjectType(ontology, apiName);
  if (!t) throw new StrataError('STRATA_ERR_TYPE_UNKNOWN', `object type '${apiName}' is not in the ontology`);
  return t;
}

export function requireLinkType(ontology: Ontology, fromType: string, apiName: string): LinkTypeDef {
  const l = findLinkType(ontology, apiName);
  if (!l || l.from !== fromType) {
    throw new StrataError(
      'STRATA_ERR_TYPE_UNKNOWN',
      `link type '${apiName}' from '${fromType}' is not in the ontology`,
    );
  }
  return l;
}

/** Checks the definition itself: names, keys, references. Returns every violation found. */
export function validateOntology(o: Ontology): Violation[] {
  const v: Violation[] = [];
  const seen = new Set<string>();
  o.objectTypes.forEach((t, i) => {
    const at = `/objectTypes/${i}`;
    if (!TYPE_NAME.test(t.apiName)) {
      v.push({ path: `${at}/apiName`, message: `'${t.apiName}' must match ${TYPE_NAME.source}` });
    }
    if (seen.has(t.apiName))
      v.push({ path: `${at}/apiName`, message: `duplicate object type '${t.apiName}'` });
    seen.add(t.apiName);
    for (const [name, p] of Object.entries(t.properties)) {
      const pat = `${at}/properties/${name}`;
      if (!MEMBER_NAME.test(name))
        v.push({ path: pat, message: `property name must match ${MEMBER_NAME.source}` });
      if (!SCALAR_TYPES.includes(p.type))
        v.push({ path: `${pat}/type`, message: `unknown property type '${p.type}'` });
      if (p.type !== 'enum' && p.values !== undefined) {
        v.push({
          path: `${pat}/values`,
          message: `only an enum property has values (this one is '${p.type}')`,
        });
      } else if (p.type === 'enum' && (!p.values || p.values.length === 0)) {
        v.push({ path: `${pat}/values`, message: 'an enum property needs a non-empty values list' });
      } else if (p.type === 'enum') {
        // Each value names one choice: an empty one names none, a repeat is a typo.
        const seenValues = new Set<string>();
        p.values?.forEach((value, j) => {
          if (value === '') v.push({ path: `${pat}/values/${j}`, message: 'an enum value cannot be empty' });
          else if (seenValues.has(value))
            v.push({ path: `${pat}/values/${j}`, message: `duplicate enum value '${value}'` });
          seenValues.add(value);
        });
      }
    }
    const pk = ownValue(t.properties, t.primaryKey);
    if (!pk) v.push({ path: `${at}/primaryKey`, message: `primary key '${t.primaryKey}' is not a property` });
    else if (!['string', 'integer'].includes(pk.type) || pk.array) {
      v.push({ path: `${at}/primaryKey`, message: 'the primary key must be a string or integer property' });
    } else if (!pk.required) {
      v.push({ path: `${at}/primaryKey`, message: 'the primary key property must be required' });
    }
    if (!Object.hasOwn(t.properties, t.titleProperty)) {
      v.push({
        path: `${at}/titleProperty`,
        message: `title property '${t.titleProperty}' is not a property`,
      });
    }
  });
  const seenLinks = new Set<string>();
  o.linkTypes.forEach((l, i) => {
    const at = `/linkTypes/${i}`;
    if (!MEMBER_NAME.test(l.apiName)) {
      v.push({ path: `${at}/apiName`, message: `'${l.apiName}' must match ${MEMBER_NAME.source}` });
    }
    if (seenLinks.has(l.apiName))
      v.push({ path: `${at}/apiName`, message: `duplicate link type '${l.apiName}'` });
    seenLinks.add(l.apiName);
    if (!seen.has(l.from)) v.push({ path: `${at}/from`, message: `unknown object type '${l.from}'` });
    if (!seen.has(l.to)) v.push({ path: `${at}/to`, message: `unknown object type '${l.to}'` });
    for (const c of ['cardinality', 'inverseCardinality'] as const) {
      const value = l[c];
      if (value !== undefined && value !== 'one' && value !== 'many') {
        v.push({ path: `${at}/${c}`, message: "must be 'one' or 'many'" });
      }
    }
  });
  return v;
}

/**
 * Changes that existing events could violate: removed types or properties, changed types,
 * new required properties, cardinality or inverse cardinality narrowed to one. Adding optional
 * things is always allowed.
 */
export function breakingChanges(before: Ontology, after: Ontology): Violation[] {
  const v: Violation[] = [];
  for (const old of before.objectTypes) {
    const now = findObjectType(after, old.apiName);
    if (!now) {
      v.push({ path: `/objectTypes/${old.apiName}`, message: 'object type removed' });
      continue;
    }
    if (now.titleProperty !== old.titleProperty) {
      // Titles are denormalised into both projections; changing it needs a rebuild (a migration).
      v.push({ path: `/objectTypes/${old.apiName}/titleProperty`, message: 'title property changed' });
    }
    if (now.primaryKey !== old.primaryKey) {
      v.push({ path: `/objectTypes/${old.apiName}/primaryKey`, message: 'primary key changed' });
    }
    for (const [name, p] of Object.entries(old.properties)) {
      const q = ownValue(now.properties, name);
      const at = `/objectTypes/${old.apiName}/properties/${name}`;
      if (!q) v.push({ path: at, message: 'property removed' });
      else if (q.type !== p.type || Boolean(q.array) !== Boolean(p.array))
        v.push({ path: at, message: 'type changed' });
      else if (q.required && !p.required) v.push({ path: at, message: 'became required' });
      else if (p.type === 'enum' && (p.values ?? []).some((x) => !(q.values ?? []).includes(x))) {
        v.push({ path: `${at}/values`, message: 'enum values removed' });
      }
    }
    for (const [name, q] of Object.entries(now.properties)) {
      if (!Object.hasOwn(old.properties, name) && q.required) {
        v.push({
          path: `/objectTypes/${old.apiName}/properties/${name}`,
          message: 'new property is required',
        });
      }
    }
  }
  for (const old of before.linkTypes) {
    const now = findLinkType(after, old.apiName);
    const at = `/linkTypes/${old.apiName}`;
    if (!now) v.push({ path: at, message: 'link type removed' });
    else if (now.from !== old.from || now.to !== old.to) v.push({ path: at, message: 'endpoints changed' });
    else {
      // Unset inverseCardinality means many: nothing limits how many sources link to one target.
      for (const c of ['cardinality', 'inverseCardinality'] as const) {
        if (now[c] === 'one' && (old[c] ?? 'many') === 'many')
          v.push({ path: `${at}/${c}`, message: 'narrowed to one' });
      }
    }
  }
  return v;
}

export type PropertyValue = unknown;
export type Properties = Record<string, PropertyValue>;

/**
 * A real calendar day (`YYYY-MM-DD`) or an ISO-8601 timestamp with a zone, from year 1 on: one
 * stored 2020-02-31 would break every search on its field (the engines refuse it).
 */
function isDateOrTime(value: unknown, hasTime: boolean): boolean {
  if (typeof value !== 'string') return false;
  const read = readIsoInstant(value);
  return !('problem' in read) && read.hasTime === hasTime && read.year >= 1;
}
const isDate = (value: unknown) => isDateOrTime(value, false);
const isTimestamp = (value: unknown) => isDateOrTime(value, true);

/** Why `value` is not a valid scalar of the property's type, or undefined when it is. */
export function scalarProblem(p: Pick<PropertyDef, 'type' | 'values'>, value: unknown): string | undefined {
  if (
    (p.type === 'string' || p.type === 'enum') &&
    typeof value === 'string' &&
    hasLeadingByteOrderMark(value)
  )
    return LEADING_BOM_PROBLEM;
  switch (p.type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'must be a string';
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : 'must be an integer';
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a finite number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
    case 'date':
      return isDate(value) ? undefined : 'must be a date (YYYY-MM-DD)';
    case 'timestamp':
      return isTimestamp(value) ? undefined : 'must be an ISO-8601 timestamp with a time zone';
    case 'enum':
      return typeof value === 'string' && (p.values ?? []).includes(value)
        ? undefined
        : `must be one of ${JSON.stringify(p.values ?? [])}`;
    case 'geopoint': {
      const g = value as { lat?: unknown; lon?: unknown } | null;
      const ok =
        typeof g === 'object' &&
        g !== null &&
        !Array.isArray(g) &&
        Object.keys(g).length === 2 &&
        typeof g.lat === 'number' &&
        typeof g.lon === 'number' &&
        Math.abs(g.lat) <= 90 &&
        Math.abs(g.lon) <= 180;
      return ok ? undefined : 'must be {"lat": -90..90, "lon": -180..180}';
    }
    case 'json':
      return undefined;
  }
}

/**
 * Validates property values for a create (`mode: 'full'`) or a merge-patch (`mode: 'patch'`,
 * where null removes an optional property). Returns every violation, with JSON pointers.
 */
export function validateProperties(
  type: ObjectTypeDef,
  props: Properties,
  mode: 'full' | 'patch',
): Violation[] {
  const v: Violation[] = [];
  for (const [name, value] of Object.entries(props)) {
    const at = `/properties/${name}`;
    const def = ownValue(type.properties, name);
    if (!def) {
      v.push({ path: at, message: `unknown property of ${type.apiName}` });
      continue;
    }
    if (value === null) {
      // null means absent: it removes an optional property in a patch, and omits it on create.
      if (def.required) v.push({ path: at, message: 'is required and cannot be null' });
      continue;
    }
    if (def.array) {
      if (!Array.isArray(value)) {
        v.push({ path: at, message: `must be an array of ${def.type}` });
        continue;
      }
      value.forEach((item, i) => {
        const problem = scalarProblem(def, item);
        if (problem) v.push({ path: `${at}/${i}`, message: problem });
      });
    } else {
      const problem = scalarProblem(def, value);
      if (problem) v.push({ path: at, message: problem });
    }
  }
  if (mode === 'full') {
    for (const [name, def] of Object.entries(type.properties)) {
      if (def.required && !Object.hasOwn(props, name))
        v.push({ path: `/properties/${name}`, message: 'is required' });
    }
  }
  if (mode === 'patch' && Object.hasOwn(props, type.primaryKey)) {
    v.push({ path: `/properties/${type.primaryKey}`, message: 'the primary key cannot change' });
  }
  return v;
}

/** The ID of an object is its primary key value, as a string. */
export function primaryKeyOf(type: ObjectTypeDef, props: Properties): string | undefined {
  const value = ownValue(props, type.primaryKey);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
