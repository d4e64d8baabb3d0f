/**
 * An S3 outage after the 202: acknowledged events wait in the outbox — no attempt counted, no
 * dead letter, however many relay passes fail — and reach the projections once S3 answers again.
 * The outage is a TCP proxy in front of the real S3 server that resets every connection, so the
 * shared server keeps running for the other suites.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openStrata, type Strata } from '../../src/app/runtime.js';
import { loadConfig } from '../../src/config.js';
import { eventually, testOntology } from '../support/fixtures.js';
import { dropFresh, freshEnv } from '../support/shape.js';

/** A loopback TCP proxy that can be switched to reset every connection, open or new. */
async function outageProxy(target: URL) {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no proxy port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      down = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    restore() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('an S3 outage after the 202', () => {
  let strata: Strata | undefined;
  let proxy: Awaited<ReturnType<typeof outageProxy>> | undefined;
  afterEach(async () => {
    proxy?.restore();
    await strata?.close();
    if (strata) await dropFresh(strata.config);
    await proxy?.close();
    strata = undefined;
  });

  it('dead-letters nothing, counts no attempt, and delivers everything once S3 is back', async () => {
    process.env.STRATA_E2E_SHAPE = 'production';
    // Two attempts would dead-letter a row within seconds if an outage counted against it.
    const env = await freshEnv({ STRATA_MAX_ATTEMPTS: '2' });
    const store = new URL(env.STRATA_EVENT_STORE!);
    proxy = await outageProxy(new URL(store.searchParams.get('endpoint')!));
    store.searchParams.set('endpoint', proxy.url);
    strata = await openStrata(loadConfig({ ...env, STRATA_EVENT_STORE: store.toString() }));
    const s = strata;

    await s.commands.putOntology(testOntology, { actor: 'test' });
    const codes = ['OUTA', 'OUTB', 'OUTC'];
    for (const code of codes) {
      const accepted = await s.commands.createObject('Country', { code, name: code }, { actor: 'test' });
      expect(accepted.version).toBe(1);
    }
    proxy.cut();
    await s.startBackground();
    // Long enough for several relay passes, each failing to read the events from S3.
    await new Promise((r) => setTimeout(r, 15_000));
    const during = await s.outbox.stats();
    expect(during.deadLetters).toBe(0);
    expect(during.ready).toBe(codes.length + 1);
    const partitions = Array.from({ length: s.outbox.partitions }, (_, i) => i);
    const waiting = await s.outbox.claimReady(partitions, 100);
    expect(waiting.map((r) => r.attempts)).toEqual([0, 0, 0, 0]);

    proxy.restore();
    await eventually(
      async () => {
        const found = await s.queries.search({ type: 'Country', page: { size: 10 } });
        return found.total === codes.length ? found : undefined;
      },
      60_000,
      'the three countries in search once S3 is back',
    );
    const after = await s.outbox.stats();
    expect(after).toMatchObject({ pending: 0, ready: 0, deadLetters: 0 });
    const graph = await s.queries.traverse({ type: 'Country', id: 'OUTA', depth: 1 });
    expect(graph.start).toMatchObject({ type: 'Country', id: 'OUTA', title: 'OUTA' });
  }, 120_000);
});
