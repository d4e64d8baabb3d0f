/**
 * The Decider of an ontology object: initial state, decide (command → event data), evolve (fold).
 * Links are events of their source object.
 */
import { StrataError, ValidationFailed } from './errors.js';
import type { EventData, EventEnvelope } from './event.js';
import {
  type ObjectTypeDef,
  type Ontology,
  type Properties,
  primaryKeyOf,
  requireLinkType,
  requireObjectType,
  validateProperties,
} from './ontology.js';
import { ownValue } from './own.js';
import { canonicalJson } from './storable.js';

export interface ObjectState {
  type: string;
  id: string;
  /** Last version applied, void markers included (the next append is version + 1). */
  version: number;
  exists: boolean;
  /** True once deleted (until re-created). */
  deleted: boolean;
  properties: Properties;
  /** Link type → target IDs, in the order they were added. */
  links: Record<string, string[]>;
  createdAt?: string;
  updatedAt?: string;
}

export function initialObjectState(type: string, id: string): ObjectState {
  return { type, id, version: 0, exists: false, deleted: false, properties: {}, links: {} };
}

export type ObjectCommand =
  | { kind: 'create'; properties: Properties }
  | { kind: 'update'; properties: Properties }
  | { kind: 'delete' }
  | { kind: 'addLink'; linkType: string; targetId: string }
  | { kind: 'removeLink'; linkType: string; targetId: string };

export type Decision =
  | { event_type: 'ObjectCreated'; data: EventData['ObjectCreated'] }
  | { event_type: 'ObjectUpdated'; data: EventData['ObjectUpdated'] }
  | { event_type: 'ObjectDeleted'; data: EventData['ObjectDeleted'] }
  | { event_type: 'LinkAdded'; data: EventData['LinkAdded'] }
  | { event_type: 'LinkRemoved'; data: EventData['LinkRemoved'] };

function assertExists(state: ObjectState): void {
  if (!state.exists) {
    throw new StrataError('STRATA_ERR_OBJECT_NOT_FOUND', `${state.type} '${state.id}' does not exist`);
  }
}

/**
 * Decides the event a command produces, or throws a typed error. Pure: checks that need other
 * aggregates (does the link target exist?) are the command handler's.
 */
export function decideObject(state: ObjectState, command: ObjectCommand, ontology: Ontology): Decision {
  const type = requireObjectType(ontology, state.type);
  switch (command.kind) {
    case 'create': {
      if (state.exists) {
        throw new StrataError('STRATA_ERR_OBJECT_EXISTS', `${state.type} '${state.id}' already exists`, {
          extra: { version: state.version },
        });
      }
      const violations = validateProperties(type, command.properties, 'full');
      if (violations.length) throw new ValidationFailed(`invalid ${state.type}`, violations);
      if (primaryKeyOf(type, command.properties) !== state.id) {
        throw new ValidationFailed(`invalid ${state.type}`, [
          { path: `/properties/${type.primaryKey}`, message: `must equal the object ID '${state.id}'` },
        ]);
      }
      return { event_type: 'ObjectCreated', data: { properties: dropNulls(command.properties) } };
    }
    case 'update': {
      assertExists(state);
      const violations = validateProperties(type, command.properties, 'patch');
      if (violations.length) throw new ValidationFailed(`invalid update of ${state.type}`, violations);
      return { event_type: 'ObjectUpdated', data: { properties: command.properties } };
    }
    case 'delete':
      assertExists(state);
      return { event_type: 'ObjectDeleted', data: {} };
    case 'addLink': {
      assertExists(state);
      const link = requireLinkType(ontology, state.type, command.linkType);
      const current = ownValue(state.links, link.apiName) ?? [];
      if (current.includes(command.targetId)) {
        throw new StrataError(
          'STRATA_ERR_LINK_EXISTS',
          `${state.type} '${state.id}' already links to ${link.to} '${command.targetId}' by ${link.apiName}`,
        );
      }
      if (link.cardinality === 'one' && current.length > 0) {
        throw new StrataError(
          'STRATA_ERR_LINK_CARDINALITY',
          `${link.apiName} allows one target and ${state.type} '${state.id}' already links to '${current[0]}'`,
        );
      }
      return {
        event_type: 'LinkAdded',
        data: { linkType: link.apiName, to: { type: link.to, id: command.targetId } },
      };
    }
    case 'removeLink': {
      assertExists(state);
      const link = requireLinkType(ontology, state.type, command.linkType);
      if (!(ownValue(state.links, link.apiName) ?? []).includes(command.targetId)) {
        throw new StrataError(
          'STRATA_ERR_OBJECT_NOT_FOUND',
          `${state.type} '${state.id}' has no ${link.apiName} link to '${command.targetId}'`,
        );
      }
      return {
        event_type: 'LinkRemoved',
        data: { linkType: link.apiName, to: { type: link.to, id: command.targetId } },
      };
    }
  }
}

/**
 * True when the merge patch would leave the properties as they are: empty, every value equal to
 * the current one, and null only for properties that are absent.
 */
export function patchChangesNothing(current: Properties, patch: Properties): boolean {
  return Object.entries(patch).every(([name, value]) =>
    value === null
      ? !Object.hasOwn(current, name)
      : Object.hasOwn(current, name) && canonicalJson(current[name]) === canonicalJson(value),
  );
}

function dropNulls(props: Properties): Properties {
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== null));
}

/** Applies one event to the state. Unknown and void events only advance the version. */
export function evolveObject(state: ObjectState, event: EventEnvelope): ObjectState {
  const next: ObjectState = { ...state, version: event.version };
  switch (event.event_type) {
    case 'ObjectCreated': {
      const d = event.data as EventData['ObjectCreated'];
      return {
        ...next,
        exists: true,
        deleted: false,
        properties: { ...d.properties },
        links: {},
        createdAt: event.occurred_at,
        updatedAt: event.occurred_at,
      };
    }
    case 'ObjectUpdated': {
      const d = event.data as EventData['ObjectUpdated'];
      const properties = { ...state.properties };
      for (const [k, v] of Object.entries(d.properties)) {
        if (v === null) delete properties[k];
        else properties[k] = v;
      }
      return { ...next, properties, updatedAt: event.occurred_at };
    }
    case 'ObjectDeleted':
      return { ...next, exists: false, deleted: true, links: {}, updatedAt: event.occurred_at };
    case 'LinkAdded': {
      const d = event.data as EventData['LinkAdded'];
      const targets = ownValue(state.links, d.linkType) ?? [];
      return {
        ...next,
        links: { ...state.links, [d.linkType]: [...targets, d.to.id] },
        updatedAt: event.occurred_at,
      };
    }
    case 'LinkRemoved': {
      const d = event.data as EventData['LinkRemoved'];
      const targets = (ownValue(state.links, d.linkType) ?? []).filter((t) => t !== d.to.id);
      const links = { ...state.links, [d.linkType]: targets };
      if (targets.length === 0) delete links[d.linkType];
      return { ...next, links, updatedAt: event.occurred_at };
    }
    default:
      return next;
  }
}

export function foldObject(type: string, id: string, events: Iterable<EventEnvelope>): ObjectState {
  let state = initialObjectState(type, id);
  for (const e of events) state = evolveObject(state, e);
  return state;
}

/** The title shown for an object: its title property, else its ID. */
export function titleOf(
  type: ObjectTypeDef | undefined,
  state: Pick<ObjectState, 'id' | 'properties'>,
): string {
  const t = type ? ownValue(state.properties, type.titleProperty) : undefined;
  return typeof t === 'string' || typeof t === 'number' ? String(t) : state.id;
}
