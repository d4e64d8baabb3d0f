import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('defaults every engine to the embedded one', () => {
    const c = loadConfig({ STRATA_DATA_DIR: '/tmp/x' });
    expect(c.eventStore).toEqual({ kind: 'fs', root: '/tmp/x/store' });
    expect(c.database).toEqual({ kind: 'pglite', dir: '/tmp/x/pg' });
    expect(c.bus.kind).toBe('embedded');
    expect(c.search).toEqual({ kind: 'postgres' });
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 4100 });
    expect(c.auth).toEqual([]);
  });

  it('reads real engines from URLs', () => {
    const c = loadConfig({
      STRATA_EVENT_STORE: 's3://my-bucket/some/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1',
      STRATA_DATABASE_URL: 'postgres://u:p@db:5432/strata',
      STRATA_KAFKA_BROKERS: 'k1:9092, k2:9092',
      STRATA_SEARCH_URL: 'http://search:9200',
      STRATA_API_TOKENS: 'abcdefghijklmnop:alice:admin',
    });
    expect(c.eventStore).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'some/prefix/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      createBucket: true,
    });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/strata' });
    expect(c.bus).toMatchObject({ kind: 'kafka', brokers: ['k1:9092', 'k2:9092'], topic: 'strata.events' });
    expect(c.search).toEqual({ kind: 'opensearch', url: 'http://search:9200', indexPrefix: 'strata' });
    expect(c.auth).toEqual([{ token: 'abcdefghijklmnop', actor: 'alice', role: 'admin' }]);
  });

  it.each([
    [{ STRATA_EVENT_STORE: 'ftp://x' }, 'STRATA_EVENT_STORE'],
    [{ STRATA_EVENT_STORE: 's3://Bad_Bucket/' }, 'STRATA_EVENT_STORE'],
    [{ STRATA_EVENT_STORE: 's3://bucket/a/../b' }, 'STRATA_EVENT_STORE'],
    [{ STRATA_DATABASE_URL: 'mysql://x' }, 'STRATA_DATABASE_URL'],
    [{ STRATA_KAFKA_BROKERS: 'nohost' }, 'STRATA_KAFKA_BROKERS'],
    [{ STRATA_SEARCH_URL: 'not a url' }, 'STRATA_SEARCH_URL'],
    [{ STRATA_PORT: '99999' }, 'STRATA_PORT'],
    [{ STRATA_GRAPH: 'neo4j' }, 'STRATA_GRAPH'],
    [{ STRATA_API_TOKENS: 'short:bob:reader' }, 'STRATA_API_TOKENS'],
    [{ STRATA_FAULT: 'sometimes' }, 'STRATA_FAULT'],
  ])('names the setting that is wrong: %o', (env, setting) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${setting}: `));
  });
});
