/**
 * `--engines local`: start the real engines with scripts/engines (idempotent) and point a fresh
 * Strata at them, in a namespace of its own (S3 prefix, PostgreSQL schema, Kafka topic, index
 * prefix) so each run starts empty like the embedded demo.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KafkaBus } from '../adapters/bus/kafka.js';
import { deleteS3Prefix } from '../adapters/event-store/s3.js';
import { createOpenSearchIndex } from '../adapters/search/opensearch.js';
import { openPostgres } from '../adapters/sql/pg.js';
import type { StrataConfig } from '../config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export function engineEnv(): Record<string, string> {
  const out = execFileSync('bash', ['scripts/engines/env.sh'], { cwd: root, encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z0-9_]+)='(.*)'$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/**
 * The engine settings rewritten to a namespace of their own: a new PostgreSQL schema, an S3
 * prefix, a Kafka topic and an index prefix, so a Strata started on them begins empty.
 */
/** The names one namespace takes in each engine. */
function namespaceNames(ns: string) {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(ns)) throw new Error(`'${ns}' is not a namespace name`);
  return { schema: ns, s3Prefix: `${ns}/`, topic: `strata.${ns}`, indexPrefix: ns.replaceAll('_', '-') };
}

export async function namespacedEngineEnv(
  env: Record<string, string>,
  ns: string,
): Promise<Record<string, string>> {
  const names = namespaceNames(ns);
  const db = new URL(env.STRATA_DATABASE_URL!);
  const admin = await openPostgres(db.toString(), { max: 1 });
  try {
    await admin.exec(`CREATE SCHEMA IF NOT EXISTS ${names.schema}`);
  } finally {
    await admin.close();
  }
  db.searchParams.set('options', `-c search_path=${names.schema}`);
  const store = new URL(env.STRATA_EVENT_STORE!.replace(/^s3:\/\/([^/?]+)\/?/, `s3://$1/${names.s3Prefix}`));
  return {
    ...env,
    STRATA_DATABASE_URL: db.toString(),
    STRATA_EVENT_STORE: store.toString(),
    STRATA_KAFKA_TOPIC: names.topic,
    STRATA_SEARCH_INDEX_PREFIX: names.indexPrefix,
  };
}

/** Starts the real engines and makes a fresh namespace `ns` on them. */
export async function localEngines(log: (line: string) => void, ns: string): Promise<Record<string, string>> {
  log('Starting the real engines (scripts/engines/up.sh; the first run downloads and builds them)…');
  execFileSync('bash', ['scripts/engines/up.sh'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return namespacedEngineEnv(engineEnv(), ns);
}

/**
 * Drops namespace `ns` (made by namespacedEngineEnv) from the engines `config` points at: its
 * PostgreSQL schema, S3 prefix, Kafka topic and search indices, so demo and test runs leave
 * nothing behind in the shared engines. Only the namespace's own names are touched.
 */
export async function dropNamespace(config: StrataConfig, ns: string): Promise<void> {
  // Never a name of the engines' own defaults (public, strata.events, …): only what demos and tests make.
  if (!/^(demo|e2e)_[a-z0-9_]+$/.test(ns)) throw new Error(`'${ns}' is not a demo or test namespace`);
  const names = namespaceNames(ns);
  if (config.database.kind === 'postgres') {
    const db = new URL(config.database.url);
    db.searchParams.delete('options');
    const admin = await openPostgres(db.toString(), { max: 1 });
    try {
      await admin.exec(`DROP SCHEMA IF EXISTS ${names.schema} CASCADE`);
    } finally {
      await admin.close();
    }
  }
  if (config.eventStore.kind === 's3') {
    await deleteS3Prefix({ ...config.eventStore, prefix: names.s3Prefix });
  }
  if (config.bus.kind === 'kafka') {
    const bus = new KafkaBus({ ...config.bus, topic: names.topic });
    try {
      await bus.deleteTopic();
    } finally {
      await bus.close();
    }
  }
  if (config.search.kind === 'opensearch') {
    const search = createOpenSearchIndex({ url: config.search.url, indexPrefix: names.indexPrefix });
    try {
      await search.deleteAll();
    } finally {
      await search.close();
    }
  }
}
