/**
 * Misconfiguration fails at start-up with one line naming the engine and the setting — through the
 * CLI, as an operator meets it — never a stack trace; `strata engines` reports every engine, the
 * dead ones with the same message.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openS3EventStore } from '../../src/adapters/event-store/s3.js';
import { parseEventStore } from '../../src/config.js';
import { requireEnv, S3_READ_ONLY_IDENTITY } from '../support/engines.js';
import { runStrata } from '../support/process.js';

function openStrataEventStore() {
  const config = parseEventStore(requireEnv('STRATA_EVENT_STORE'), '.');
  if (config.kind !== 's3') throw new Error('STRATA_EVENT_STORE must be an s3:// URL for the engine suites');
  return openS3EventStore(config);
}

async function startUp(env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'strata-misconfig-'));
  // A server that starts despite the wrong setting would run on: it is killed, and the test fails.
  return runStrata(['serve', '--data', dir, '--port', '0'], env, 60_000);
}

describe('start-up with a wrong setting', () => {
  beforeAll(async () => {
    // The read-only identity cannot create the bucket: make sure it exists, as it would in production.
    const store = await openStrataEventStore();
    await store.ping();
    await store.close();
  });
  const wrongPort = (url: string) => url.replace(/:(\d+)([/?]|$)/, ':1$2');

  it.each([
    [
      'PostgreSQL on a wrong port',
      () => ({ STRATA_DATABASE_URL: wrongPort(requireEnv('STRATA_DATABASE_URL')) }),
      /postgres: .*STRATA_DATABASE_URL/,
    ],
    [
      'PostgreSQL with a wrong password',
      () => ({
        STRATA_DATABASE_URL: requireEnv('STRATA_DATABASE_URL').replace('strata:strata@', 'strata:nope@'),
      }),
      /postgres: .*password authentication failed \(STRATA_DATABASE_URL\)/,
    ],
    [
      'S3 on a wrong port',
      () => ({ STRATA_EVENT_STORE: requireEnv('STRATA_EVENT_STORE').replace(/:(\d+)&/, ':1&') }),
      /s3: cannot reach .*STRATA_EVENT_STORE/,
    ],
    [
      'S3 with wrong credentials',
      () => ({ STRATA_EVENT_STORE: requireEnv('STRATA_EVENT_STORE'), AWS_SECRET_ACCESS_KEY: 'wrong-secret' }),
      /s3: access denied .*AWS_ACCESS_KEY_ID/,
    ],
    [
      'S3 with an identity that may read but not write',
      () => ({
        STRATA_EVENT_STORE: requireEnv('STRATA_EVENT_STORE'),
        AWS_ACCESS_KEY_ID: S3_READ_ONLY_IDENTITY.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_READ_ONLY_IDENTITY.secretAccessKey,
      }),
      /s3: access denied writing to bucket .*may read but not write.*AWS_ACCESS_KEY_ID/,
    ],
    [
      'an unreachable Kafka broker',
      () => ({ STRATA_KAFKA_BROKERS: '127.0.0.1:1' }),
      /kafka: .*STRATA_KAFKA_BROKERS/,
    ],
    [
      'OpenSearch on a wrong port',
      () => ({ STRATA_SEARCH_URL: 'http://127.0.0.1:1' }),
      /opensearch: .*STRATA_SEARCH_URL/,
    ],
    [
      'a malformed setting',
      () => ({ STRATA_KAFKA_BROKERS: 'no-port' }),
      /configuration error: STRATA_KAFKA_BROKERS: 'no-port' must be host:port/,
    ],
  ])(
    '%s',
    async (_name, env, message) => {
      const r = await startUp({
        STRATA_DATABASE_URL: '',
        STRATA_EVENT_STORE: '',
        STRATA_KAFKA_BROKERS: '',
        STRATA_SEARCH_URL: '',
        ...env(),
      });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(2);
    },
    120_000,
  );
});

describe('strata engines', () => {
  it.each([
    ['PostgreSQL', () => requireEnv('STRATA_DATABASE_URL')],
    ['embedded PGlite', () => ''],
  ])(
    'on %s: reports each engine on its own, two dead ones do not hide the three that answer',
    async (_shape, databaseUrl) => {
      const dir = await mkdtemp(join(tmpdir(), 'strata-engines-'));
      const r = await runStrata(['engines', '--data', dir], {
        STRATA_EVENT_STORE: requireEnv('STRATA_EVENT_STORE'),
        STRATA_DATABASE_URL: databaseUrl(),
        STRATA_KAFKA_BROKERS: '127.0.0.1:1',
        STRATA_SEARCH_URL: 'http://127.0.0.1:1',
      });
      const lines = r.stdout.trim().split('\n');
      expect(lines.map((l) => l.slice(0, 17).trimEnd())).toEqual([
        'ok   event store',
        'ok   outbox',
        'DOWN bus',
        'ok   graph',
        'DOWN search',
      ]);
      expect(lines[2]).toMatch(/kafka: 127\.0\.0\.1:1 unreachable \(STRATA_KAFKA_BROKERS\)/);
      expect(lines[4]).toMatch(/opensearch: .*127\.0\.0\.1:1.* \(STRATA_SEARCH_URL\)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code).toBe(1);
    },
    120_000,
  );
});
