/**
 * The composition root: the only place that picks adapters, from the validated config.
 * Opens the engines, wires command handler, queries, relay and projection workers.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedBus } from '../adapters/bus/embedded.js';
import { openKafkaBus } from '../adapters/bus/kafka.js';
import { openFsEventStore } from '../adapters/event-store/fs.js';
import { openS3EventStore } from '../adapters/event-store/s3.js';
import { PostgresGraphStore } from '../adapters/graph/postgres.js';
import { PostgresOutbox } from '../adapters/outbox/postgres.js';
import { createOpenSearchIndex } from '../adapters/search/opensearch.js';
import { PostgresSearchIndex } from '../adapters/search/postgres.js';
import { openPostgres } from '../adapters/sql/pg.js';
import { openPglite } from '../adapters/sql/pglite.js';
import type { StrataConfig } from '../config.js';
import { EngineUnavailable, StrataError } from '../core/errors.js';
import type { Bus } from '../ports/bus.js';
import { type Clock, type Ids, systemClock, ulidIds } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { GraphStore } from '../ports/graph-store.js';
import type { Outbox } from '../ports/outbox.js';
import type { SearchIndex } from '../ports/search-index.js';
import type { SqlClient } from '../ports/sql.js';
import { CommandHandler, type FaultPoint } from './command-handler.js';
import { OntologyCache } from './ontology-cache.js';
import { GraphProjector } from './projectors/graph.js';
import { SearchProjector } from './projectors/search.js';
import { Queries } from './queries.js';
import { Relay } from './relay.js';
import { ProjectionWorker } from './workers.js';

export type Logger = (message: string, error?: unknown) => void;

export const GRAPH_GROUP = 'strata-graph';
export const SEARCH_GROUP = 'strata-search';

export interface EngineStatus {
  role: 'event store' | 'outbox' | 'bus' | 'graph' | 'search';
  engine: string;
  ok: boolean;
  detail: string;
}

export interface Strata {
  readonly config: StrataConfig;
  readonly store: EventStore;
  readonly outbox: Outbox;
  readonly bus: Bus;
  readonly graph: GraphStore;
  readonly search: SearchIndex;
  readonly ontology: OntologyCache;
  readonly commands: CommandHandler;
  readonly queries: Queries;
  readonly graphProjector: GraphProjector;
  readonly searchProjector: SearchProjector;
  readonly relay: Relay;
  readonly workers: ProjectionWorker[];
  /** Starts the relay and the projection workers (both unless told otherwise). */
  startBackground(parts?: { relay: boolean; workers: boolean }): Promise<void>;
  stopBackground(): Promise<void>;
  /** Resolves once nothing is pending in the outbox and every worker has caught up. */
  waitForIdle(timeoutMs?: number): Promise<void>;
  engines(): Promise<EngineStatus[]>;
  close(): Promise<void>;
}

export interface OpenOptions {
  log?: Logger;
  clock?: Clock;
  ids?: Ids;
}

function faultHook(point: StrataConfig['fault']): ((p: FaultPoint) => void) | undefined {
  if (!point) return undefined;
  return (p) => {
    // Simulates a crash (kill -9) exactly at this step of the commit protocol.
    if (p === point) process.kill(process.pid, 'SIGKILL');
  };
}

/** Throws when another live process holds the embedded data folder `dir` (PGlite is single-process). */
export async function assertDataDirFree(dir: string): Promise<void> {
  const file = join(dir, 'strata.pid');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  const pid = existing ? Number(existing.trim()) : undefined;
  if (pid && pid !== process.pid) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive) {
      throw new StrataError(
        'STRATA_ERR_ENGINE_UNAVAILABLE',
        `the data folder ${dir} is in use by process ${pid} (embedded mode is single-process): stop it first, or ask the running server instead (import, rebuild and verify take --url)`,
      );
    }
  }
}

async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  await assertDataDirFree(dir);
  const file = join(dir, 'strata.pid');
  await writeFile(file, String(process.pid));
  return () => rm(file, { force: true });
}

async function openSql(config: StrataConfig): Promise<SqlClient> {
  if (config.database.kind === 'postgres') return openPostgres(config.database.url);
  return openPglite(config.database.dir);
}

async function openEventStore(config: StrataConfig): Promise<EventStore> {
  if (config.eventStore.kind === 'fs') return openFsEventStore(config.eventStore.root);
  return openS3EventStore(config.eventStore);
}

function openBus(config: StrataConfig, sql: SqlClient): Bus {
  if (config.bus.kind === 'embedded') return new EmbeddedBus(sql, config.bus.partitions);
  return openKafkaBus(config.bus);
}

function openSearch(config: StrataConfig, sql: SqlClient): SearchIndex {
  if (config.search.kind === 'postgres') return new PostgresSearchIndex(sql);
  return createOpenSearchIndex({ url: config.search.url, indexPrefix: config.search.indexPrefix });
}

async function check(
  role: EngineStatus['role'],
  engine: string,
  ping: () => Promise<unknown>,
): Promise<EngineStatus> {
  try {
    await ping();
    return { role, engine, ok: true, detail: 'answers' };
  } catch (e) {
    return { role, engine, ok: false, detail: (e as Error).message };
  }
}

interface Engines {
  sql: SqlClient;
  store: EventStore;
  bus: Bus;
  graph: GraphStore;
  search: SearchIndex;
  /** The outbox check: its tables once migrated (a running Strata), the database otherwise. */
  outboxPing: () => Promise<unknown>;
}

function checkEngines(e: Engines): Promise<EngineStatus[]> {
  return Promise.all([
    check('event store', e.store.describe, () => e.store.ping()),
    check('outbox', `outbox tables on ${e.sql.describe}`, e.outboxPing),
    check('bus', e.bus.describe, () => e.bus.ping()),
    check('graph', e.graph.describe, () => e.graph.ping()),
    check('search', e.search.describe, () => e.search.ping()),
  ]);
}

/**
 * Asks every configured engine on its own, so one that is down does not hide the others
 * (openStrata stops at the first). No migration, topic or index is created; the event store's
 * check is start-up's (a missing bucket is created if so configured, and writing is tried once).
 * The adapters of the shared engines connect lazily, so opening them touches no network.
 */
export async function probeEngines(config: StrataConfig): Promise<EngineStatus[]> {
  const unlock =
    config.database.kind === 'pglite' ? await lockDataDir(config.dataDir) : async () => undefined;
  const opened: { close(): Promise<void> }[] = [];
  const open = <T extends { close(): Promise<void> }>(x: T): T => {
    opened.push(x);
    return x;
  };
  try {
    const sql = open(await openSql(config));
    const store = open(await openEventStore(config));
    const bus = open(openBus(config, sql));
    const search = open(openSearch(config, sql));
    const graph = new PostgresGraphStore(sql);
    return await checkEngines({ sql, store, bus, graph, search, outboxPing: () => sql.query('SELECT 1') });
  } finally {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    await unlock();
  }
}

export async function openStrata(config: StrataConfig, options: OpenOptions = {}): Promise<Strata> {
  const log = options.log ?? (() => undefined);
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? ulidIds();
  const unlock =
    config.database.kind === 'pglite' ? await lockDataDir(config.dataDir) : async () => undefined;
  const opened: { close(): Promise<void> }[] = [];
  try {
    const sql = await openSql(config);
    opened.push(sql);
    const store = await openEventStore(config);
    opened.push(store);
    await store.ping();
    const outbox = new PostgresOutbox(sql, config.relay.partitions);
    const bus = openBus(config, sql);
    opened.push(bus);
    const graph: GraphStore = new PostgresGraphStore(sql);
    const search = openSearch(config, sql);
    opened.push(search);
    const ontology = new OntologyCache(store);
    // Processes starting together (an API, relays, workers) make the schema once, one at a time:
    // concurrent CREATE TABLE IF NOT EXISTS in PostgreSQL can fail on each other's half-made types.
    await sql.exclusive(
      'strata:migrate',
      async () => {
        await outbox.migrate();
        await bus.ensureTopic();
        await graph.migrate();
        await search.configure((await ontology.reload()).ontology);
      },
      () => log('waiting for another Strata process to finish its start-up migrations'),
    );

    const commands = new CommandHandler({
      store,
      outbox,
      graph,
      ontology,
      clock,
      ids,
      fault: faultHook(config.fault),
      log,
    });
    const queries = new Queries({ store, graph, search, ontology });
    const graphProjector = new GraphProjector({ graph, store, ontology });
    const searchProjector = new SearchProjector({ search, store, ontology, failures: outbox });
    const relay = new Relay(
      { outbox, store, bus, clock, ids },
      {
        leaseMs: config.relay.leaseMs,
        intentTimeoutMs: config.relay.intentTimeoutMs,
        maxAttempts: config.relay.maxAttempts,
        log,
      },
    );
    const workers = [
      new ProjectionWorker(GRAPH_GROUP, bus, graphProjector, log),
      new ProjectionWorker(SEARCH_GROUP, bus, searchProjector, log),
    ];
    let background = false;

    const strata: Strata = {
      config,
      store,
      outbox,
      bus,
      graph,
      search,
      ontology,
      commands,
      queries,
      graphProjector,
      searchProjector,
      relay,
      workers,
      async startBackground(parts = { relay: true, workers: true }) {
        background = true;
        if (parts.relay) await relay.start();
        if (parts.workers) for (const w of workers) await w.start();
      },
      async stopBackground() {
        if (!background) return;
        background = false;
        await relay.stop();
        for (const w of workers) await w.stop();
      },
      async waitForIdle(timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const s = await outbox.stats();
          const lags = await Promise.all(workers.map((w) => bus.lag(w.group)));
          const behind = lags.flat().reduce((n, l) => n + l.lag, 0);
          if (s.pending === 0 && s.ready === 0 && behind === 0) {
            await search.refresh();
            return;
          }
          if (Date.now() > deadline) {
            throw new StrataError(
              'STRATA_ERR_ENGINE_UNAVAILABLE',
              `projections did not catch up within ${timeoutMs} ms (pending ${s.pending}, ready ${s.ready}, lag ${behind})`,
            );
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      engines: () => checkEngines({ sql, store, bus, graph, search, outboxPing: () => outbox.stats() }),
      async close() {
        await strata.stopBackground();
        for (const o of opened.reverse()) await o.close().catch((e) => log('close failed', e));
        await unlock();
      },
    };
    return strata;
  } catch (e) {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    await unlock();
    if (e instanceof StrataError) throw e;
    throw new EngineUnavailable('start-up', (e as Error).message, e);
  }
}
