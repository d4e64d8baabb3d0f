/**
 * The shape end-to-end tests run Strata in: embedded (default) or production
 * (STRATA_E2E_SHAPE=production, under npm run test:all: S3, PostgreSQL, Kafka, OpenSearch), each
 * test file in a namespace of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type StrataConfig } from '../../src/config.js';
import { dropNamespace, namespacedEngineEnv } from '../../src/demo/local-engines.js';
import { requireEnv, uniqueName } from './engines.js';

export function productionShape(): boolean {
  return process.env.STRATA_E2E_SHAPE === 'production';
}

/** The namespace a fresh environment got in production shape: the schema it was made with. */
function namespaceOf(config: StrataConfig): string | undefined {
  if (config.database.kind !== 'postgres') return undefined;
  const options = new URL(config.database.url).searchParams.get('options') ?? '';
  return /search_path=(e2e_[a-z0-9_]+)/.exec(options)?.[1];
}

/** Removes what a fresh config made: its data folder, and its engine namespace in production shape. */
export async function dropFresh(config: StrataConfig): Promise<void> {
  await rm(config.dataDir, { recursive: true, force: true });
  const ns = namespaceOf(config);
  if (ns) await dropNamespace(config, ns);
}

/** Environment for a fresh Strata: a new data folder, plus fresh engine namespaces in production shape. */
export async function freshEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-e2e-'));
  const base: Record<string, string> = { STRATA_DATA_DIR: dataDir, ...extra };
  if (!productionShape()) return base;
  const engines: Record<string, string> = {};
  for (const name of [
    'STRATA_DATABASE_URL',
    'STRATA_KAFKA_BROKERS',
    'STRATA_SEARCH_URL',
    'STRATA_EVENT_STORE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
  ]) {
    engines[name] = requireEnv(name);
  }
  return { ...(await namespacedEngineEnv(engines, uniqueName('e2e'))), ...base };
}

/** A validated config for a fresh Strata in the current shape. */
export async function freshConfig(extra: Record<string, string> = {}): Promise<StrataConfig> {
  const env = await freshEnv(extra);
  // Only the fresh settings count: nothing leaks in from the developer's own environment.
  return loadConfig({ ...env, STRATA_PORT: '0' });
}
