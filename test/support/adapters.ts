/**
 * Every adapter of every port, as factories the contract suites run against. Embedded adapters
 * always run; engine-backed ones run when STRATA_TEST_ENGINES=1 (npm run test:all), and then a
 * missing engine setting fails the run instead of silently dropping the adapter.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBus } from '../../src/adapters/bus/embedded.js';
import { KafkaBus } from '../../src/adapters/bus/kafka.js';
import { openFsEventStore } from '../../src/adapters/event-store/fs.js';
import { openS3EventStore } from '../../src/adapters/event-store/s3.js';
import { PostgresGraphStore } from '../../src/adapters/graph/postgres.js';
import { PostgresOutbox } from '../../src/adapters/outbox/postgres.js';
import { createOpenSearchIndex } from '../../src/adapters/search/opensearch.js';
import { PostgresSearchIndex } from '../../src/adapters/search/postgres.js';
import { openPglite } from '../../src/adapters/sql/pglite.js';
import { parseEventStore } from '../../src/config.js';
import type { Bus } from '../../src/ports/bus.js';
import type { EventStore } from '../../src/ports/event-store.js';
import type { GraphStore } from '../../src/ports/graph-store.js';
import type { Outbox } from '../../src/ports/outbox.js';
import type { SearchIndex } from '../../src/ports/search-index.js';
import type { SqlClient } from '../../src/ports/sql.js';
import { engineSql, enginesEnabled, requireEnv, uniqueName } from './engines.js';

export interface Opened<T> {
  port: T;
  close(): Promise<void>;
}

export interface AdapterFactory<T> {
  /** The adapter file under src/adapters/<port>/ (without .ts) plus, for SQL ones, the SQL engine. */
  name: string;
  adapter: string;
  open(): Promise<Opened<T>>;
}

async function withSql<T>(sql: SqlClient, make: (sql: SqlClient) => Promise<T> | T): Promise<Opened<T>> {
  const port = await make(sql);
  return { port, close: () => sql.close() };
}

let sharedPglite: Promise<SqlClient> | undefined;

/**
 * A fresh schema on one PGlite shared by the test file (creating PGlite takes seconds; tests in a
 * file run one after another, so switching search_path isolates them).
 */
async function pgliteSchema(): Promise<SqlClient> {
  sharedPglite ??= openPglite(undefined);
  const db = await sharedPglite;
  const schema = uniqueName('t');
  await db.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
  return {
    ...db,
    describe: `pglite:memory (${schema})`,
    close: async () => {
      await db.exec(`SET search_path TO public; DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

/** The SQL engines the SQL-family adapters run on. */
export function sqlEngines(): { name: string; open(): Promise<SqlClient> }[] {
  const list = [{ name: 'pglite', open: pgliteSchema }];
  if (enginesEnabled()) list.push({ name: 'postgres', open: () => engineSql() });
  return list;
}

export function eventStoreFactories(): AdapterFactory<EventStore>[] {
  const list: AdapterFactory<EventStore>[] = [
    {
      name: 'fs',
      adapter: 'fs',
      open: async () => {
        const port = openFsEventStore(await mkdtemp(join(tmpdir(), 'strata-fs-')));
        return { port, close: () => port.close() };
      },
    },
  ];
  if (enginesEnabled()) {
    list.push({
      name: 's3',
      adapter: 's3',
      open: async () => {
        const config = parseEventStore(requireEnv('STRATA_EVENT_STORE'), tmpdir());
        if (config.kind !== 's3') throw new Error('STRATA_EVENT_STORE must be an s3:// URL');
        // A fresh prefix per test isolates it inside the shared bucket; ping creates the bucket once.
        const port = await openS3EventStore({ ...config, prefix: `${config.prefix}${uniqueName('t')}/` });
        await port.ping();
        return { port, close: () => port.close() };
      },
    });
  }
  return list;
}

export function outboxFactories(): AdapterFactory<Outbox>[] {
  return sqlEngines().map((e) => ({
    name: `postgres on ${e.name}`,
    adapter: 'postgres',
    open: async () =>
      withSql(await e.open(), async (sql) => {
        const o = new PostgresOutbox(sql, 4);
        await o.migrate();
        return o;
      }),
  }));
}

export function busFactories(): AdapterFactory<Bus>[] {
  const list: AdapterFactory<Bus>[] = sqlEngines().map((e) => ({
    name: `embedded on ${e.name}`,
    adapter: 'embedded',
    open: async () =>
      withSql(await e.open(), async (sql) => {
        const b = new EmbeddedBus(sql, 4);
        await b.ensureTopic();
        return b;
      }),
  }));
  if (enginesEnabled()) {
    list.push({
      name: 'kafka',
      adapter: 'kafka',
      open: async () => {
        const bus = new KafkaBus({
          brokers: requireEnv('STRATA_KAFKA_BROKERS').split(','),
          topic: uniqueName('strata_test'),
          partitions: 4,
          clientId: 'strata-test',
        });
        await bus.ensureTopic();
        return {
          port: bus,
          close: async () => {
            await bus.deleteTopic().catch(() => undefined);
            await bus.close();
          },
        };
      },
    });
  }
  return list;
}

export function graphFactories(): AdapterFactory<GraphStore>[] {
  return sqlEngines().map((e) => ({
    name: `postgres on ${e.name}`,
    adapter: 'postgres',
    open: async () =>
      withSql(await e.open(), async (sql) => {
        const g = new PostgresGraphStore(sql);
        await g.migrate();
        return g;
      }),
  }));
}

export function searchFactories(): AdapterFactory<SearchIndex>[] {
  const list: AdapterFactory<SearchIndex>[] = sqlEngines().map((e) => ({
    name: `postgres on ${e.name}`,
    adapter: 'postgres',
    open: async () => withSql(await e.open(), (sql) => new PostgresSearchIndex(sql)),
  }));
  if (enginesEnabled()) {
    list.push({
      name: 'opensearch',
      adapter: 'opensearch',
      open: async () => {
        // A fresh index prefix per test; close drops its generations and their aliases.
        const port = createOpenSearchIndex({
          url: requireEnv('STRATA_SEARCH_URL'),
          indexPrefix: uniqueName('t').toLowerCase(),
        });
        return {
          port,
          close: async () => {
            await port.deleteAll();
            await port.close();
          },
        };
      },
    });
  }
  return list;
}

/** Adapters whose contract runs need a real engine: they join the suites under npm run test:all. */
export const ENGINE_ONLY_ADAPTERS: Record<string, string[]> = {
  'event-store': ['s3'],
  bus: ['kafka'],
  search: ['opensearch'],
  sql: ['pg'],
};
