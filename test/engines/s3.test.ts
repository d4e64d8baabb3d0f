/**
 * What the S3 event store must do on a real S3 server beyond the shared contract: clear start-up
 * messages for each misconfiguration, and one object per version under 20 racing writers.
 * Collected only by vitest.engines.config.ts (npm run test:all).
 */
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteS3Prefix,
  openS3EventStore,
  type S3EventStoreConfig,
} from '../../src/adapters/event-store/s3.js';
import { parseEventStore } from '../../src/config.js';
import { ConcurrencyConflict, EngineUnavailable } from '../../src/core/errors.js';
import type { EventStore } from '../../src/ports/event-store.js';
import { requireEnv, S3_READ_ONLY_IDENTITY, uniqueName } from '../support/engines.js';
import { envelope } from '../support/fixtures.js';

function engineConfig(): S3EventStoreConfig {
  const config = parseEventStore(requireEnv('STRATA_EVENT_STORE'), '.');
  if (config.kind !== 's3') throw new Error('STRATA_EVENT_STORE must be an s3:// URL for the engine suites');
  return { ...config, prefix: `${config.prefix}${uniqueName('t')}/` };
}

function rawClient(config: S3EventStoreConfig): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
  });
}

/** A bucket name that exists nowhere yet (lower-case, S3 rules). */
function freshBucket(): string {
  return uniqueName('strata-it').replaceAll('_', '-');
}

async function pingError(store: EventStore): Promise<EngineUnavailable> {
  try {
    await store.ping();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineUnavailable);
    return e as EngineUnavailable;
  } finally {
    await store.close();
  }
  throw new Error('ping succeeded where it must fail');
}

describe('S3 event store on a real server', () => {
  const opened: EventStore[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  describe('start-up messages name the engine and the setting', () => {
    it('reports an unreachable endpoint', async () => {
      const store = await openS3EventStore({ ...engineConfig(), endpoint: 'http://127.0.0.1:1' });
      const error = await pingError(store);
      expect(error.message).toBe(
        's3: cannot reach http://127.0.0.1:1 (STRATA_EVENT_STORE endpoint): ECONNREFUSED',
      );
      expect(error.status).toBe(503);
      expect(error.retryable).toBe(true);
    });

    describe('with wrong credentials', () => {
      const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
      beforeAll(() => {
        process.env.AWS_ACCESS_KEY_ID = 'not-a-strata-key';
        process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
      });
      afterAll(() => {
        process.env.AWS_ACCESS_KEY_ID = saved.id;
        process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      });

      it('reports access denied and names the credential variables', async () => {
        const config = engineConfig();
        const error = await pingError(await openS3EventStore(config));
        expect(error.message).toBe(
          `s3: access denied to bucket '${config.bucket}' (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`,
        );
      });
    });

    it('reports an identity that may read but not write, at start-up rather than at the first command', async () => {
      const config = engineConfig();
      const owner = await openS3EventStore(config);
      opened.push(owner);
      await owner.ping(); // the bucket exists and the owner may write
      const reader = await openS3EventStore({ ...config, credentials: { ...S3_READ_ONLY_IDENTITY } });
      opened.push(reader);
      const error = await pingError(reader);
      expect(error.message).toBe(
        `s3: access denied writing to bucket '${config.bucket}': the identity may read but not write (grant it PutObject, or check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`,
      );
      await owner.ping(); // and the marker the check writes once does not trouble the owner's next start
    });

    it('reports a missing bucket when createBucket=false and names the option', async () => {
      const config = { ...engineConfig(), bucket: freshBucket(), createBucket: false };
      const error = await pingError(await openS3EventStore(config));
      expect(error.message).toBe(
        `s3: bucket '${config.bucket}' does not exist at ${config.endpoint}; create it, or add createBucket=true to STRATA_EVENT_STORE`,
      );
    });

    it('creates a missing bucket when createBucket=true, also when two processes race to do it', async () => {
      const config = { ...engineConfig(), bucket: freshBucket(), createBucket: true };
      const stores = [await openS3EventStore(config), await openS3EventStore(config)];
      opened.push(...stores);
      const results = await Promise.allSettled(stores.map((s) => s.ping()));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      await stores[0]!.append(envelope({ aggregate_type: 'City', aggregate_id: 'NEW', version: 1 }));
      expect((await stores[1]!.readVersion({ type: 'City', id: 'NEW' }, 1))?.aggregate_id).toBe('NEW');
      const raw = rawClient(config);
      try {
        const listed = await raw.send(new ListObjectsV2Command({ Bucket: config.bucket }));
        for (const object of listed.Contents ?? []) {
          await raw.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: object.Key! }));
        }
        await raw.send(new DeleteBucketCommand({ Bucket: config.bucket }));
      } finally {
        raw.destroy();
      }
    });
  });

  it('deleteS3Prefix empties its own prefix only, and refuses a whole bucket', async () => {
    const mine = engineConfig();
    const other = engineConfig();
    const stores = [await openS3EventStore(mine), await openS3EventStore(other)];
    opened.push(...stores);
    for (const store of stores) {
      await store.ping();
      await store.append(envelope({ aggregate_type: 'City', aggregate_id: 'GONE', version: 1 }));
    }
    await deleteS3Prefix(mine);
    const raw = rawClient(mine);
    try {
      const count = async (prefix: string) =>
        (await raw.send(new ListObjectsV2Command({ Bucket: mine.bucket, Prefix: prefix }))).KeyCount ?? 0;
      expect(await count(mine.prefix)).toBe(0);
      expect(await count(other.prefix)).toBeGreaterThan(0);
      await deleteS3Prefix(other);
      expect(await count(other.prefix)).toBe(0);
    } finally {
      raw.destroy();
    }
    await expect(deleteS3Prefix({ ...mine, prefix: '' })).rejects.toThrow(
      /refusing to empty 'strata-test\/': not a folder prefix/,
    );
  });

  it('commits exactly one object for 20 parallel appends at one expected version', async () => {
    const config = engineConfig();
    const store = await openS3EventStore(config);
    opened.push(store);
    await store.ping();
    const candidates = Array.from({ length: 20 }, () =>
      envelope({ aggregate_type: 'City', aggregate_id: 'RACE', version: 1 }),
    );
    const results = await Promise.allSettled(candidates.map((e) => store.append(e)));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [candidates[i]!] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const reason of lost) expect(reason).toBeInstanceOf(ConcurrencyConflict);

    const raw = rawClient(config);
    try {
      const streamPrefix = `${config.prefix}streams/City/RACE/`;
      const listed = await raw.send(
        new ListObjectsV2Command({ Bucket: config.bucket, Prefix: streamPrefix }),
      );
      expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([`${streamPrefix}0000000000000001.json`]);
      const object = await raw.send(
        new GetObjectCommand({ Bucket: config.bucket, Key: `${streamPrefix}0000000000000001.json` }),
      );
      const stored = JSON.parse(await object.Body!.transformToString('utf8')) as { event_id: string };
      expect(stored.event_id).toBe(won[0]!.event_id);
    } finally {
      raw.destroy();
    }
  });
});
