import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../src/ports/sql.js';
import { sqlEngines } from '../support/adapters.js';

describe.each(sqlEngines())('SqlClient contract: $name', (engine) => {
  let sql: SqlClient;
  beforeEach(async () => {
    sql = await engine.open();
  });
  afterEach(async () => {
    await sql.close();
  });

  it('runs statements with parameters, scripts and transactions that roll back on a throw', async () => {
    await sql.exec('CREATE TABLE t (k text PRIMARY KEY, n int); CREATE INDEX t_n ON t (n)');
    await sql.query('INSERT INTO t VALUES ($1, $2)', ['a', 1]);
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES ($1, $2)', ['b', 2]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const r = await sql.query<{ k: string; n: number }>('SELECT k, n FROM t ORDER BY k');
    expect(r.rows).toEqual([{ k: 'a', n: 1 }]);
  });

  it('exclusive: sections under one name never overlap, use the client, and release on a throw', async () => {
    await sql.exec('CREATE TABLE log (i serial PRIMARY KEY, what text)');
    let waits = 0;
    const section = (who: string, fail = false) =>
      sql.exclusive(
        'contract',
        async () => {
          await sql.query('INSERT INTO log (what) VALUES ($1)', [`${who}:in`]);
          await new Promise((r) => setTimeout(r, 100));
          await sql.query('INSERT INTO log (what) VALUES ($1)', [`${who}:out`]);
          if (fail) throw new Error(`${who} failed`);
          return who;
        },
        () => waits++,
      );
    const results = await Promise.allSettled([section('a'), section('b', true), section('c')]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual([
      'a',
      'Error: b failed',
      'c',
    ]);
    const log = (await sql.query<{ what: string }>('SELECT what FROM log ORDER BY i')).rows.map(
      (r) => r.what,
    );
    expect(log).toHaveLength(6);
    for (let i = 0; i < 6; i += 2) {
      // Each section's in and out are adjacent: nothing else ran inside it.
      expect(log[i]!.replace(':in', '')).toBe(log[i + 1]!.replace(':out', ''));
    }
    // Those that found the lock held were told so (the first one in was not).
    expect(waits).toBeGreaterThanOrEqual(1);
    expect(waits).toBeLessThanOrEqual(2);
    // Another name is not held by these sections.
    const before = waits;
    expect(
      await sql.exclusive(
        'other',
        async () => 'free',
        () => waits++,
      ),
    ).toBe('free');
    expect(waits).toBe(before);
  });
});
