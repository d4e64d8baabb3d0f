/**
 * kill -9 of the API process at each step of the commit protocol (DESIGN §3 crash table), through
 * the STRATA_FAULT hook, then a restart: nothing committed is lost or delivered twice, nothing
 * uncommitted ever appears, and projections converge to the store.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFsEventStore } from '../../src/adapters/event-store/fs.js';
import { openPglite } from '../../src/adapters/sql/pglite.js';
import { StrataClient } from '../../src/client/index.js';
import { collect, eventually, testOntology } from '../support/fixtures.js';
import { runStrata, type ServerProcess, startServe } from '../support/process.js';

const FAST = { STRATA_INTENT_TIMEOUT_MS: '300' };

describe('crash during a command, then restart', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'strata-crash-'));
    server = await startServe(dataDir, FAST);
    const client = new StrataClient(server.url);
    await client.putOntology(testOntology);
    for (const code of ['FRA', 'ITA', 'ESP']) await client.createObject('Country', { code, name: code });
    await server.stop();
    server = undefined;
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Sends one PATCH to a server that dies at `fault`; returns what the client saw. */
  async function crashOn(fault: string, id: string, name: string): Promise<string> {
    const dying = await startServe(dataDir, { ...FAST, STRATA_FAULT: fault });
    const client = new StrataClient(dying.url);
    const outcome = await client.updateObject('Country', id, { name }).then(
      () => 'acknowledged',
      (e: Error) => `failed: ${e.message}`,
    );
    const exit = await dying.exited;
    expect(exit.signal).toBe('SIGKILL');
    return outcome;
  }

  async function restartUntilSettled(): Promise<StrataClient> {
    server = await startServe(dataDir, FAST);
    const client = new StrataClient(server.url);
    await eventually(
      async () => {
        const o = await client.admin<{ pending: number; ready: number }>('GET', 'outbox');
        const lag = await client.admin<{ groups: { lag: number }[] }>('GET', 'lag');
        return o.pending === 0 && o.ready === 0 && lag.groups.every((g) => g.lag === 0) ? true : undefined;
      },
      30_000,
      'the relay to settle and the workers to catch up',
    );
    return client;
  }

  async function busCopies(eventIdOrAggregate: { aggregateId: string; version: number }): Promise<number> {
    await server?.stop();
    server = undefined;
    const sql = await openPglite(join(dataDir, 'pg'));
    try {
      const r = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM strata_bus_log WHERE event->>'aggregate_id' = $1 AND (event->>'version')::int = $2`,
        [eventIdOrAggregate.aggregateId, eventIdOrAggregate.version],
      );
      return r.rows[0]!.n;
    } finally {
      await sql.close();
    }
  }

  it('after the commit, before the dated copy and delivery: delivered once after restart', async () => {
    const outcome = await crashOn('after-commit', 'FRA', 'République française');
    expect(outcome).toMatch(/^failed/);
    const store = openFsEventStore(join(dataDir, 'store'));
    const committed = await store.readVersion({ type: 'Country', id: 'FRA' }, 2);
    expect(committed?.data).toEqual({ properties: { name: 'République française' } });

    const client = await restartUntilSettled();
    expect((await client.getObject('Country', 'FRA')).properties.name).toBe('République française');
    const hits = await client.search({ type: 'Country', text: 'République' });
    expect(hits.hits.map((h) => [h.id, h.version])).toEqual([['FRA', 2]]);
    const dated = await collect(store.readByDate(new Date(Date.now() - 3_600_000), new Date()));
    expect(dated.filter((e) => e.event_id === committed!.event_id)).toHaveLength(1);
    expect(await busCopies({ aggregateId: 'FRA', version: 2 })).toBe(1);
  });

  it('after the dated copy, before ready: delivered once after restart', async () => {
    await crashOn('after-copy', 'ITA', 'Repubblica Italiana');
    const client = await restartUntilSettled();
    const hits = await client.search({ type: 'Country', text: 'Repubblica' });
    expect(hits.hits.map((h) => [h.id, h.version])).toEqual([['ITA', 2]]);
    expect(await busCopies({ aggregateId: 'ITA', version: 2 })).toBe(1);
  });

  it('after the intent, before the commit: nothing appears; the version is fenced', async () => {
    const outcome = await crashOn('after-intent', 'ESP', 'Never Committed');
    expect(outcome).toMatch(/^failed/);
    const client = await restartUntilSettled();
    const esp = await client.getObject('Country', 'ESP');
    expect(esp.properties.name).toBe('ESP');
    const history = await client.history('Country', 'ESP');
    expect(history.events.map((e) => e.event_type)).toEqual(['ObjectCreated', 'VersionVoided']);
    expect((await client.search({ type: 'Country', text: 'Never Committed' })).total).toBe(0);
    // The next write goes on after the void marker.
    const next = await client.updateObject('Country', 'ESP', { name: 'España' }, { ifMatch: 2 });
    expect(next.version).toBe(3);
    await eventually(async () =>
      (await client.search({ type: 'Country', text: 'España' })).total === 1 ? true : undefined,
    );
    await server!.stop();
    server = undefined;
    const verify = await runStrata(['verify', '--data', dataDir]);
    expect(verify.stdout).toContain('no drift');
    expect(verify.code).toBe(0);
  });
});
