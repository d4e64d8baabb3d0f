import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GraphChange, GraphMutation, GraphStore } from '../../src/ports/graph-store.js';
import { graphFactories, type Opened } from '../support/adapters.js';
import { collect } from '../support/fixtures.js';

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-02-01T00:00:00.000Z';
const T3 = '2026-03-01T00:00:00.000Z';

function m(id: string, version: number, at: string, change: GraphChange, type = 'City'): GraphMutation {
  return { type, id, version, at, change };
}
const edge = (linkType: string, id: string, type = 'City'): GraphChange => ({
  kind: 'edgeAdded',
  linkType,
  to: { type, id },
});

describe.each(graphFactories())('GraphStore contract: $name', (factory) => {
  let opened: Opened<GraphStore>;
  let graph: GraphStore;
  const ids = (r: { nodes: { id: string }[] }) => r.nodes.map((n) => n.id).sort();

  beforeEach(async () => {
    opened = await factory.open();
    graph = opened.port;
    // A - B - C - D chain with a cycle D -> A, plus E linked to A by another link type.
    await graph.apply([
      m('A', 1, T1, { kind: 'node', title: 'Alpha' }),
      m('B', 1, T1, { kind: 'node', title: 'Bravo' }),
      m('C', 1, T1, { kind: 'node', title: 'Charlie' }),
      m('D', 1, T1, { kind: 'node', title: 'Delta' }),
      m('E', 1, T1, { kind: 'node', title: 'Echo' }),
      m('A', 2, T1, edge('next', 'B')),
      m('B', 2, T1, edge('next', 'C')),
      m('C', 2, T1, edge('next', 'D')),
      m('D', 2, T1, edge('next', 'A')),
      m('E', 2, T1, edge('other', 'A')),
    ]);
  });
  afterEach(async () => {
    await opened.close();
  });

  it('traverses outward by depth with shortest distances, through cycles', async () => {
    const one = await graph.traverse({
      start: { type: 'City', id: 'A' },
      direction: 'out',
      depth: 1,
      limit: 100,
    });
    expect(one.nodes).toEqual([{ type: 'City', id: 'B', title: 'Bravo', depth: 1 }]);
    const all = await graph.traverse({
      start: { type: 'City', id: 'A' },
      direction: 'out',
      depth: 6,
      limit: 100,
    });
    expect(all.nodes.map((n) => [n.id, n.depth])).toEqual([
      ['B', 1],
      ['C', 2],
      ['D', 3],
    ]);
    expect(all.edges.map((e) => `${e.from.id}-${e.linkType}->${e.to.id}`).sort()).toEqual([
      'A-next->B',
      'B-next->C',
      'C-next->D',
      'D-next->A',
    ]);
    expect(all.truncated).toBe(false);
  });

  it('follows incoming, both directions, and only the given link types', async () => {
    const inward = await graph.traverse({
      start: { type: 'City', id: 'A' },
      direction: 'in',
      depth: 1,
      limit: 100,
    });
    expect(ids(inward)).toEqual(['D', 'E']);
    const both = await graph.traverse({
      start: { type: 'City', id: 'A' },
      direction: 'both',
      depth: 1,
      limit: 100,
    });
    expect(ids(both)).toEqual(['B', 'D', 'E']);
    const only = await graph.traverse({
      start: { type: 'City', id: 'A' },
      direction: 'in',
      depth: 2,
      linkTypes: ['other'],
      limit: 100,
    });
    expect(ids(only)).toEqual(['E']);
  });

  it('limits the result and says it truncated', async () => {
    const r = await graph.traverse({
      start: { type: 'City', id: 'A' },
      direction: 'both',
      depth: 3,
      limit: 2,
    });
    expect(r.nodes).toHaveLength(2);
    expect(r.truncated).toBe(true);
  });

  it('skips versions it already applied, and older ones', async () => {
    const again = await graph.apply([
      m('A', 2, T1, edge('next', 'B')),
      m('A', 1, T1, { kind: 'node', title: 'Old' }),
    ]);
    expect(again).toEqual({ applied: 0, skipped: 2, needsReset: [] });
    const state = await graph.state({ type: 'City', id: 'A' });
    expect(state).toMatchObject({ version: 2, exists: true, title: 'Alpha' });
    expect(state!.edges).toEqual([{ linkType: 'next', to: { type: 'City', id: 'B' } }]);
    expect(
      (
        await graph.versions([
          { type: 'City', id: 'A' },
          { type: 'City', id: 'Z' },
        ])
      ).get('City/A'),
    ).toBe(2);
  });

  it('refuses a delta that does not follow the stored version, and takes a reset instead', async () => {
    const gap = await graph.apply([
      m('A', 4, T2, edge('next', 'C')),
      m('A', 5, T2, { kind: 'none' }),
      m('NEW', 3, T2, edge('next', 'A')),
    ]);
    expect(gap.applied).toBe(0);
    expect(gap.needsReset).toEqual([
      { type: 'City', id: 'A', version: 5 },
      { type: 'City', id: 'NEW', version: 3 },
    ]);
    expect((await graph.state({ type: 'City', id: 'A' }))!.version).toBe(2);
    expect(await graph.state({ type: 'City', id: 'NEW' })).toBeUndefined();
    const reset = await graph.apply([
      m('NEW', 3, T2, {
        kind: 'reset',
        exists: true,
        title: 'New',
        edges: [{ linkType: 'next', to: { type: 'City', id: 'A' } }],
      }),
    ]);
    expect(reset).toEqual({ applied: 1, skipped: 0, needsReset: [] });
    expect(await graph.state({ type: 'City', id: 'NEW' })).toMatchObject({
      version: 3,
      exists: true,
      title: 'New',
    });
  });

  it('answers as of a past instant: removed edges and deleted nodes', async () => {
    await graph.apply([
      m('A', 3, T2, { kind: 'edgeRemoved', linkType: 'next', to: { type: 'City', id: 'B' } }),
      m('C', 3, T3, { kind: 'deleted' }),
    ]);
    const start = { type: 'City', id: 'A' };
    expect(ids(await graph.traverse({ start, direction: 'out', depth: 1, limit: 100 }))).toEqual([]);
    expect(
      ids(
        await graph.traverse({
          start,
          direction: 'out',
          depth: 1,
          limit: 100,
          asOf: '2026-01-15T00:00:00.000Z',
        }),
      ),
    ).toEqual(['B']);
    const fromB = { type: 'City', id: 'B' };
    expect(
      ids(
        await graph.traverse({
          start: fromB,
          direction: 'out',
          depth: 3,
          limit: 100,
          asOf: '2026-02-15T00:00:00.000Z',
        }),
      ),
    ).toEqual(['A', 'C', 'D']);
    expect(ids(await graph.traverse({ start: fromB, direction: 'out', depth: 3, limit: 100 }))).toEqual([]);
    expect(await graph.node({ type: 'City', id: 'C' })).toBeUndefined();
    expect(await graph.node({ type: 'City', id: 'C' }, '2026-02-15T00:00:00.000Z')).toEqual({
      title: 'Charlie',
    });
    expect(await graph.node({ type: 'City', id: 'C' }, '2025-12-31T00:00:00.000Z')).toBeUndefined();
    expect(await graph.state({ type: 'City', id: 'C' })).toMatchObject({ exists: false, edges: [] });
  });

  it('renames a node, re-creates a deleted one, and resets wholesale', async () => {
    await graph.apply([m('B', 3, T2, { kind: 'node', title: 'Bravo 2' })]);
    expect(await graph.node({ type: 'City', id: 'B' })).toEqual({ title: 'Bravo 2' });
    await graph.apply([
      m('E', 3, T2, { kind: 'deleted' }),
      m('E', 4, T3, { kind: 'node', title: 'Echo again' }),
    ]);
    expect(await graph.node({ type: 'City', id: 'E' })).toEqual({ title: 'Echo again' });
    await graph.apply([
      m('D', 5, T3, {
        kind: 'reset',
        exists: true,
        title: 'Delta',
        edges: [{ linkType: 'next', to: { type: 'City', id: 'B' } }],
      }),
    ]);
    expect((await graph.state({ type: 'City', id: 'D' }))!.edges).toEqual([
      { linkType: 'next', to: { type: 'City', id: 'B' } },
    ]);
  });

  it('gives each node the title it had as of the instant asked, also after a reset', async () => {
    await graph.apply([
      m('B', 3, T2, { kind: 'node', title: 'Bravo 2' }),
      m('B', 4, T3, {
        kind: 'reset',
        exists: true,
        title: 'Bravo 3',
        edges: [{ linkType: 'next', to: { type: 'City', id: 'C' } }],
      }),
    ]);
    const start = { type: 'City', id: 'A' };
    const titleOfB = async (asOf?: string) =>
      (await graph.traverse({ start, direction: 'out', depth: 1, limit: 100, asOf })).nodes.map(
        (n) => n.title,
      );
    expect(await titleOfB('2026-01-15T00:00:00.000Z')).toEqual(['Bravo']);
    expect(await titleOfB(T2)).toEqual(['Bravo 2']);
    expect(await titleOfB('2026-02-28T23:59:59.999Z')).toEqual(['Bravo 2']);
    expect(await titleOfB(T3)).toEqual(['Bravo 3']);
    expect(await titleOfB()).toEqual(['Bravo 3']);
    const b = { type: 'City', id: 'B' };
    expect(await graph.node(b, '2026-01-15T00:00:00.000Z')).toEqual({ title: 'Bravo' });
    expect(await graph.node(b, '2026-02-15T00:00:00.000Z')).toEqual({ title: 'Bravo 2' });
    expect(await graph.node(b)).toEqual({ title: 'Bravo 3' });
    // Renaming does not end the node: it existed throughout, with its edges.
    expect(
      ids(
        await graph.traverse({
          start: b,
          direction: 'out',
          depth: 1,
          limit: 100,
          asOf: '2026-02-15T00:00:00.000Z',
        }),
      ),
    ).toEqual(['C']);
  });

  it('counts incoming links, lists aggregates, and clears', async () => {
    expect(await graph.countIncoming({ type: 'City', id: 'A' }, 'next')).toBe(1);
    expect(await graph.countIncoming({ type: 'City', id: 'A' }, 'other')).toBe(1);
    const listed = await collect(graph.listAggregates());
    expect(listed.map((n) => `${n.id}@${n.version}`)).toEqual(['A@2', 'B@2', 'C@2', 'D@2', 'E@2']);
    await graph.clear();
    expect(await collect(graph.listAggregates())).toEqual([]);
    expect(await graph.node({ type: 'City', id: 'A' })).toBeUndefined();
  });
});
