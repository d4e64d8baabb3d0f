/**
 * A search rebuild while commands keep flowing: live writes reach the generation being built,
 * folded from the truth (not from the possibly drifted active documents), and survive the swap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStrata, type Strata } from '../../src/app/runtime.js';
import { verify } from '../../src/app/verify.js';
import { testOntology } from '../support/fixtures.js';
import { dropFresh, freshConfig } from '../support/shape.js';

describe('search rebuild with live writes', () => {
  let strata: Strata;
  const ctx = { actor: 'test' };
  beforeAll(async () => {
    strata = await openStrata(await freshConfig());
    await strata.startBackground();
    await strata.commands.putOntology(testOntology, ctx);
    await strata.commands.createObject('City', { code: 'PAR', name: 'Paris', population: 1 }, ctx);
    await strata.waitForIdle();
  });
  afterAll(async () => {
    await strata.close();
    await dropFresh(strata.config);
  });

  it('keeps live writes made during the rebuild, built from the store', async () => {
    const generation = await strata.search.beginRebuild(testOntology);
    // Live: an update while the new generation is still empty.
    await strata.commands.updateObject('City', 'PAR', { population: 2 }, ctx);
    await strata.waitForIdle();
    const inNew = (await generation.get([{ type: 'City', id: 'PAR' }])).get('City/PAR');
    expect(inNew).toMatchObject({ version: 2, properties: { code: 'PAR', name: 'Paris', population: 2 } });
    // The rebuild's own pass arrives later with older versions: they change nothing.
    const events = [];
    for await (const e of strata.store.readStream({ type: 'City', id: 'PAR' }, { toVersion: 1 }))
      events.push(e);
    await strata.searchProjector.project(events, generation);
    await generation.activate();
    await strata.search.refresh();
    const hits = await strata.queries.search({ type: 'City', filters: [{ field: 'population', eq: 2 }] });
    expect(hits.hits.map((h) => [h.id, h.version])).toEqual([['PAR', 2]]);
    expect((await verify(strata)).drift).toEqual([]);
  });
});
