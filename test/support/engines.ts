/**
 * Access to the real engines started by scripts/engines (npm run test:all). Each call gets an
 * isolated namespace (a fresh PostgreSQL schema, bucket prefix, topic, index prefix).
 */
import { randomBytes } from 'node:crypto';
import { openPostgres } from '../../src/adapters/sql/pg.js';
import type { SqlClient } from '../../src/ports/sql.js';

export function enginesEnabled(): boolean {
  return process.env.STRATA_TEST_ENGINES === '1';
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the engine suites through 'npm run test:all' (scripts/engines/env.sh)`,
    );
  }
  return value;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A PostgreSQL client whose search_path is a new empty schema. */
export async function engineSql(): Promise<SqlClient> {
  const url = new URL(requireEnv('STRATA_DATABASE_URL'));
  const schema = uniqueName('t');
  const admin = await openPostgres(url.toString(), { max: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  await admin.close();
  url.searchParams.set('options', `-c search_path=${schema}`);
  const sql = await openPostgres(url.toString());
  const close = sql.close;
  return Object.assign(sql, {
    close: async () => {
      await close();
      const cleanup = await openPostgres(new URL(requireEnv('STRATA_DATABASE_URL')).toString(), { max: 1 });
      await cleanup.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await cleanup.close();
    },
  });
}

/** The read-only identity scripts/engines gives the S3 server (lib.sh: S3_READER_*): Read and List. */
export const S3_READ_ONLY_IDENTITY = {
  accessKeyId: 'strata-reader',
  secretAccessKey: 'strata-reader-secret',
} as const;
