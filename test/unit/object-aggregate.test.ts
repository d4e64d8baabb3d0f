import { describe, expect, it } from 'vitest';
import { StrataError } from '../../src/core/errors.js';
import type { EventEnvelope } from '../../src/core/event.js';
import {
  decideObject,
  evolveObject,
  foldObject,
  initialObjectState,
  type ObjectCommand,
  patchChangesNothing,
  titleOf,
} from '../../src/core/object-aggregate.js';
import type { Ontology } from '../../src/core/ontology.js';
import { envelope, testOntology } from '../support/fixtures.js';

/** given events, when a command: the decided event (or an error code). */
function given(...events: EventEnvelope[]) {
  const state = foldObject('City', 'PAR', events);
  return {
    when: (command: ObjectCommand) => {
      try {
        return { decided: decideObject(state, command, testOntology), state };
      } catch (e) {
        if (e instanceof StrataError) return { error: e.code, state };
        throw e;
      }
    },
    state,
  };
}

let v = 0;
const ev = (event_type: string, data: unknown, version = ++v) =>
  envelope({ aggregate_type: 'City', aggregate_id: 'PAR', version, event_type, data });
const created = () => {
  v = 0;
  return ev('ObjectCreated', { properties: { code: 'PAR', name: 'Paris', population: 1 } });
};

describe('object decider', () => {
  it('creates a new object whose ID is its primary key', () => {
    expect(
      given().when({ kind: 'create', properties: { code: 'PAR', name: 'Paris', population: null } }).decided,
    ).toEqual({
      event_type: 'ObjectCreated',
      data: { properties: { code: 'PAR', name: 'Paris' } },
    });
  });

  it('refuses to create twice, or with a primary key that is not the ID', () => {
    expect(given(created()).when({ kind: 'create', properties: { code: 'PAR', name: 'P' } }).error).toBe(
      'STRATA_ERR_OBJECT_EXISTS',
    );
    expect(given().when({ kind: 'create', properties: { code: 'LYS', name: 'Lyon' } }).error).toBe(
      'STRATA_ERR_VALIDATION_FAILED',
    );
  });

  it('updates, deletes and links only existing objects', () => {
    expect(given().when({ kind: 'update', properties: { name: 'x' } }).error).toBe(
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
    expect(given().when({ kind: 'delete' }).error).toBe('STRATA_ERR_OBJECT_NOT_FOUND');
    expect(given().when({ kind: 'addLink', linkType: 'inCountry', targetId: 'FRA' }).error).toBe(
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
    const deleted = given(created(), ev('ObjectDeleted', {}));
    expect(deleted.state).toMatchObject({ exists: false, deleted: true, version: 2 });
    expect(deleted.when({ kind: 'update', properties: { name: 'x' } }).error).toBe(
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
  });

  it('decides links by link type, refusing duplicates, wrong source types and a second target of a one-link', () => {
    const c = created();
    expect(given(c).when({ kind: 'addLink', linkType: 'inCountry', targetId: 'FRA' }).decided).toEqual({
      event_type: 'LinkAdded',
      data: { linkType: 'inCountry', to: { type: 'Country', id: 'FRA' } },
    });
    const linked = given(c, ev('LinkAdded', { linkType: 'inCountry', to: { type: 'Country', id: 'FRA' } }));
    expect(linked.when({ kind: 'addLink', linkType: 'inCountry', targetId: 'FRA' }).error).toBe(
      'STRATA_ERR_LINK_EXISTS',
    );
    expect(linked.when({ kind: 'addLink', linkType: 'inCountry', targetId: 'ITA' }).error).toBe(
      'STRATA_ERR_LINK_CARDINALITY',
    );
    expect(linked.when({ kind: 'addLink', linkType: 'nope', targetId: 'ITA' }).error).toBe(
      'STRATA_ERR_TYPE_UNKNOWN',
    );
    expect(linked.when({ kind: 'removeLink', linkType: 'inCountry', targetId: 'ITA' }).error).toBe(
      'STRATA_ERR_OBJECT_NOT_FOUND',
    );
    expect(
      linked.when({ kind: 'removeLink', linkType: 'inCountry', targetId: 'FRA' }).decided?.event_type,
    ).toBe('LinkRemoved');
  });

  it('validates updates as merge patches', () => {
    expect(given(created()).when({ kind: 'update', properties: { population: 'many' } }).error).toBe(
      'STRATA_ERR_VALIDATION_FAILED',
    );
    expect(given(created()).when({ kind: 'update', properties: { population: null } }).decided).toEqual({
      event_type: 'ObjectUpdated',
      data: { properties: { population: null } },
    });
  });
});

describe('object fold', () => {
  it('folds creates, merge patches, links, deletes and void markers', () => {
    const events = [
      created(),
      ev('ObjectUpdated', { properties: { name: 'Lutèce', population: null } }),
      ev('LinkAdded', { linkType: 'twinnedWith', to: { type: 'City', id: 'ROM' } }),
      ev('LinkAdded', { linkType: 'twinnedWith', to: { type: 'City', id: 'TYO' } }),
      ev('VersionVoided', { voided_event_id: 'x', reason: 'test' }),
      ev('LinkRemoved', { linkType: 'twinnedWith', to: { type: 'City', id: 'ROM' } }),
    ];
    const state = foldObject('City', 'PAR', events);
    expect(state).toMatchObject({
      version: 6,
      exists: true,
      properties: { code: 'PAR', name: 'Lutèce' },
      links: { twinnedWith: ['TYO'] },
    });
    const deleted = evolveObject(state, ev('ObjectDeleted', {}));
    expect(deleted).toMatchObject({ exists: false, deleted: true, links: {}, version: 7 });
    const recreated = evolveObject(
      deleted,
      ev('ObjectCreated', { properties: { code: 'PAR', name: 'Paris' } }),
    );
    expect(recreated).toMatchObject({
      exists: true,
      deleted: false,
      properties: { code: 'PAR', name: 'Paris' },
      version: 8,
    });
  });

  it('starts from nothing', () => {
    expect(initialObjectState('City', 'X')).toEqual({
      type: 'City',
      id: 'X',
      version: 0,
      exists: false,
      deleted: false,
      properties: {},
      links: {},
    });
  });
});

describe('link types and title properties named like Object.prototype members', () => {
  const ontology: Ontology = {
    objectTypes: [
      {
        apiName: 'Thing',
        primaryKey: 'code',
        titleProperty: 'toString',
        properties: { code: { type: 'string', required: true }, toString: { type: 'string' as const } },
      },
    ],
    linkTypes: [{ apiName: 'constructor', from: 'Thing', to: 'Thing', cardinality: 'many' }],
  };
  const thing = (version: number, event_type: string, data: unknown) =>
    envelope({ aggregate_type: 'Thing', aggregate_id: 'A', version, event_type, data });

  it('adds and removes a link of a type named constructor', () => {
    let state = foldObject('Thing', 'A', [thing(1, 'ObjectCreated', { properties: { code: 'A' } })]);
    const add = decideObject(state, { kind: 'addLink', linkType: 'constructor', targetId: 'B' }, ontology);
    expect(add).toEqual({
      event_type: 'LinkAdded',
      data: { linkType: 'constructor', to: { type: 'Thing', id: 'B' } },
    });
    state = evolveObject(state, thing(2, 'LinkAdded', add.data));
    expect(state.links).toEqual({ constructor: ['B'] });
    expect(() =>
      decideObject(
        foldObject('Thing', 'A', [thing(1, 'ObjectCreated', { properties: { code: 'A' } })]),
        { kind: 'removeLink', linkType: 'constructor', targetId: 'B' },
        ontology,
      ),
    ).toThrow(/has no constructor link/);
  });

  it('titles an object without its title property by its ID, not by Object.prototype.toString', () => {
    const state = foldObject('Thing', 'A', [thing(1, 'ObjectCreated', { properties: { code: 'A' } })]);
    expect(titleOf(ontology.objectTypes[0], state)).toBe('A');
  });
});

describe('patchChangesNothing', () => {
  const current = { code: 'PAR', name: 'Paris', tags: ['a', 'b'], extra: { x: 1, y: [2] } };
  it('is true of an empty patch, equal values and null for absent properties', () => {
    expect(patchChangesNothing(current, {})).toBe(true);
    expect(patchChangesNothing(current, { name: 'Paris', population: null })).toBe(true);
    expect(patchChangesNothing(current, { extra: { y: [2], x: 1 }, tags: ['a', 'b'] })).toBe(true);
  });
  it('is false when a value changes, is added or removed, or an array changes order', () => {
    expect(patchChangesNothing(current, { name: 'Lutèce' })).toBe(false);
    expect(patchChangesNothing(current, { population: 1 })).toBe(false);
    expect(patchChangesNothing(current, { tags: null })).toBe(false);
    expect(patchChangesNothing(current, { tags: ['b', 'a'] })).toBe(false);
    // constructor is not a property of current, whatever Object.prototype says
    expect(patchChangesNothing(current, { constructor: null })).toBe(true);
  });
});
