/**
 * A document the search engine refuses for what it holds (DESIGN §6: bad items to dead-letter):
 * the rest of its batch is applied, the refusal is kept as a projection failure — listed by the
 * admin API, `strata outbox status` and /metrics, surviving a restart — and a later successful
 * write of that aggregate clears it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { openStrata, type Strata } from '../../src/app/runtime.js';
import type { SearchDocument, WriteOutcome } from '../../src/ports/search-index.js';
import { testOntology } from '../support/fixtures.js';
import { dropFresh, freshConfig } from '../support/shape.js';

describe('documents the search engine refuses', () => {
  let strata: Strata;
  const ctx = { actor: 'test' };
  let refuse = true;
  beforeAll(async () => {
    strata = await openStrata(await freshConfig());
    // The engine refuses City/BAD for its content (as OpenSearch does a value its mapping cannot take).
    const upsert = strata.search.upsert.bind(strata.search);
    strata.search.upsert = async (docs: SearchDocument[]): Promise<WriteOutcome> => {
      const bad = refuse ? docs.filter((d) => d.id === 'BAD') : [];
      const outcome = await upsert(docs.filter((d) => !bad.includes(d)));
      return {
        ...outcome,
        failed: [
          ...outcome.failed,
          ...bad.map((d) => ({
            ref: { type: d.type, id: d.id },
            version: d.version,
            error: 'mapper_parsing_exception',
          })),
        ],
      };
    };
    await strata.startBackground();
    await strata.commands.putOntology(testOntology, ctx);
  });
  afterAll(async () => {
    await strata.close();
    await dropFresh(strata.config);
  });

  it('keeps the refusal, applies the rest, and clears it once the aggregate is written', async () => {
    await strata.commands.createObject('City', { code: 'BAD', name: 'Bad' }, ctx);
    await strata.commands.createObject('City', { code: 'OK', name: 'Fine' }, ctx);
    await strata.waitForIdle();

    const found = await strata.queries.search({ type: 'City', page: { size: 10 } });
    expect(found.hits.map((h) => h.id)).toEqual(['OK']);
    expect(await strata.outbox.projectionFailures(10)).toEqual([
      expect.objectContaining({
        projection: 'search',
        aggregateType: 'City',
        aggregateId: 'BAD',
        version: 1,
        error: 'mapper_parsing_exception',
      }),
    ]);
    const app = await buildServer(strata);
    try {
      const listed = await app.inject({ method: 'GET', url: '/v1/admin/dead-letters' });
      expect(listed.json().projectionFailures).toMatchObject([{ aggregateId: 'BAD', version: 1 }]);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toContain('strata_projection_failures 1\n');
    } finally {
      await app.close();
    }

    // Once the engine takes it, the next write of the aggregate clears the failure.
    refuse = false;
    await strata.commands.updateObject('City', 'BAD', { name: 'Better' }, ctx);
    await strata.waitForIdle();
    expect(await strata.outbox.projectionFailures(10)).toEqual([]);
    const again = await strata.queries.search({ type: 'City', page: { size: 10 } });
    expect(again.hits.map((h) => h.id).sort()).toEqual(['BAD', 'OK']);
  });
});
