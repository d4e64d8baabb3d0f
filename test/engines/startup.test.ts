/**
 * Several Strata processes starting at once on empty engines — as `docker compose up --scale`
 * starts an API, three relays and two workers together — all come up: the PostgreSQL migrations,
 * the Kafka topic, the search indices and the bucket prefix are each made once, and no start-up
 * fails on another's half-made schema.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openStrata, type Strata } from '../../src/app/runtime.js';
import { loadConfig, type StrataConfig } from '../../src/config.js';
import { dropFresh, freshEnv } from '../support/shape.js';

describe('concurrent start-ups on empty engines', () => {
  let config: StrataConfig | undefined;
  afterAll(async () => {
    if (config) await dropFresh(config);
  });

  it('six processes starting together all open, and the schema they made works', async () => {
    process.env.STRATA_E2E_SHAPE = 'production';
    config = loadConfig({ ...(await freshEnv()), STRATA_PORT: '0' });
    const shared = config;

    const results = await Promise.allSettled(Array.from({ length: 6 }, () => openStrata(shared)));
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(failures).toEqual([]);
      expect(opened).toHaveLength(6);
      // One schema, usable from every process: the outbox and graph tables answer.
      const [a, b] = opened as [Strata, Strata, ...Strata[]];
      expect(await a.outbox.stats()).toMatchObject({ deadLetters: 0 });
      expect(await b.graph.state({ type: 'Country', id: 'FRA' })).toBeUndefined();
      expect((await b.outbox.stats()).partitions).toHaveLength(config.relay.partitions);
    } finally {
      for (const s of opened) await s.close();
    }
  });
});
