import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresOutbox } from '../../src/adapters/outbox/postgres.js';
import { openPglite } from '../../src/adapters/sql/pglite.js';
import type { SqlClient } from '../../src/ports/sql.js';

describe('outbox partition count changes', () => {
  let sql: SqlClient;
  beforeAll(async () => {
    sql = await openPglite(undefined);
  });
  afterAll(async () => {
    await sql.close();
  });

  it('re-partitions waiting rows at start-up instead of stranding them', async () => {
    const sixteen = new PostgresOutbox(sql, 16);
    await sixteen.migrate();
    for (let i = 0; i < 20; i++) {
      const ref = {
        eventId: `E${i}`,
        aggregateType: 'City',
        aggregateId: `C${i}`,
        version: 1,
        streamKey: `k${i}`,
      };
      await sixteen.recordIntent(ref);
      await sixteen.markReady(ref.eventId);
    }
    const four = new PostgresOutbox(sql, 4);
    await four.migrate();
    const partitions = await four.leasePartitions('relay', 60_000);
    expect(partitions).toEqual([0, 1, 2, 3]);
    const rows = await four.claimReady(partitions, 100);
    expect(rows.map((r) => r.eventId).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `E${i}`).sort());
    expect(rows.every((r) => r.partition < 4)).toBe(true);
  });
});
