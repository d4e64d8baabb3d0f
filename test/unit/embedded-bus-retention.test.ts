import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../src/adapters/bus/embedded.js';
import { openPglite } from '../../src/adapters/sql/pglite.js';
import { busHeaders, busKey, type DeliveredMessage } from '../../src/ports/bus.js';
import type { SqlClient } from '../../src/ports/sql.js';
import { envelope, eventually } from '../support/fixtures.js';

describe('embedded bus retention', () => {
  let sql: SqlClient;
  beforeAll(async () => {
    sql = await openPglite(undefined);
  });
  afterAll(async () => {
    await sql.close();
  });

  it('prunes only what every consumer group has consumed', async () => {
    const bus = new EmbeddedBus(sql, 1);
    await bus.ensureTopic();
    const publish = (version: number) => {
      const e = envelope({ aggregate_type: 'City', aggregate_id: 'A', version });
      return bus.publish([{ key: busKey(e), headers: busHeaders(e, 'k'), event: e }]);
    };
    for (let v = 1; v <= 4; v++) await publish(v);
    const rows = async () =>
      (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM strata_bus_log')).rows[0]!.n;
    const consume = async (group: string, upTo: number) => {
      const got: DeliveredMessage[] = [];
      const sub = await bus.subscribe({ group, maxBatch: 2 }, async (batch) => {
        got.push(...batch);
      });
      await eventually(() => (got.length >= upTo ? true : undefined), 20_000, `${group} to consume`);
      await sub.stop();
    };
    // A group that subscribed but has not consumed anything yet holds everything back.
    const idle = await bus.subscribe({ group: 'idle' }, async () => {
      throw new Error('not now');
    });
    await idle.stop();
    await consume('fast', 4);
    expect(await bus.prune(0)).toBe(0);
    await sql.query(`DELETE FROM strata_bus_offsets WHERE group_id = 'idle'`);
    await consume('slow', 2);
    // 'slow' committed at least offset 2; nothing it has not consumed may go.
    const slowCommitted = (await bus.lag('slow'))[0]!.committed;
    expect(await bus.prune(0)).toBe(slowCommitted);
    expect(await rows()).toBe(4 - slowCommitted);
    expect((await bus.lag('slow'))[0]!.lag).toBe(4 - slowCommitted);
  });
});
