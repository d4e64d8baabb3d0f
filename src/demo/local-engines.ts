/**
 * `--engines local`: start the real engines with scripts/engines (idempotent) and point a fresh
 * Strata at them, in a namespace of its own (S3 prefix, PostgreSQL schema, Kafka topic, index
 * prefix) so each run starts empty like the embedded demo.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openPostgres } from '../adapters/sql/pg.js';

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
export async function namespacedEngineEnv(
  env: Record<string, string>,
  ns: string,
): Promise<Record<string, string>> {
  const db = new URL(env.STRATA_DATABASE_URL!);
  const admin = await openPostgres(db.toString(), { max: 1 });
  try {
    await admin.exec(`CREATE SCHEMA IF NOT EXISTS ${ns}`);
  } finally {
    await admin.close();
  }
  db.searchParams.set('options', `-c search_path=${ns}`);
  const store = new URL(env.STRATA_EVENT_STORE!.replace(/^s3:\/\/([^/?]+)\/?/, `s3://$1/${ns}/`));
  return {
    ...env,
    STRATA_DATABASE_URL: db.toString(),
    STRATA_EVENT_STORE: store.toString(),
    STRATA_KAFKA_TOPIC: `strata.${ns}`,
    STRATA_SEARCH_INDEX_PREFIX: ns.replaceAll('_', '-'),
  };
}

export async function localEngines(log: (line: string) => void): Promise<Record<string, string>> {
  log('Starting the real engines (scripts/engines/up.sh; the first run downloads and builds them)…');
  execFileSync('bash', ['scripts/engines/up.sh'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return namespacedEngineEnv(engineEnv(), `demo_${Date.now().toString(36)}`);
}
