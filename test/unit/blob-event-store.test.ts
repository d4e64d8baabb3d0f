import { describe, expect, it } from 'vitest';
import { BlobEventStore, type BlobStore } from '../../src/adapters/event-store/blob-event-store.js';
import { EngineUnavailable } from '../../src/core/errors.js';

/** In-memory blobs; `honoursExclusiveCreate: false` mimics an S3 server that ignores If-None-Match. */
function memoryBlobs(honoursExclusiveCreate: boolean): BlobStore & { puts: number } {
  const blobs = new Map<string, string>();
  const store = {
    describe: 'memory',
    puts: 0,
    async putIfAbsent(key: string, body: string) {
      store.puts++;
      if (honoursExclusiveCreate && blobs.has(key)) return false;
      blobs.set(key, body);
      return true;
    },
    async get(key: string) {
      return blobs.get(key);
    },
    async *list() {},
    async *listFolders() {},
    async ping() {},
    async close() {},
  };
  return store;
}

describe('exclusive-create probe at start-up', () => {
  it('refuses storage that lets a second create of the same key succeed', async () => {
    const store = new BlobEventStore(memoryBlobs(false));
    await expect(store.ping()).rejects.toBeInstanceOf(EngineUnavailable);
    await expect(store.ping()).rejects.toThrow(/does not honour exclusive create/);
  });

  it('accepts storage with exclusive create, probing only once', async () => {
    const blobs = memoryBlobs(true);
    const store = new BlobEventStore(blobs);
    await store.ping();
    await store.ping();
    expect(blobs.puts).toBe(2);
  });
});

describe('reading a stream ahead', () => {
  it('surfaces a failed read as an error of the iteration, not an unhandled rejection', async () => {
    const blobs = memoryBlobs(true);
    for (let v = 1; v <= 5; v++)
      await blobs.putIfAbsent(`streams/City/X/${String(v).padStart(16, '0')}.json`, '{}');
    const failing: BlobStore = {
      ...blobs,
      async *list() {
        for (let v = 1; v <= 5; v++) yield `streams/City/X/${String(v).padStart(16, '0')}.json`;
      },
      // Version 1 is slow, version 2 fails at once: the failure happens before its turn.
      get: (key) =>
        key.endsWith('1.json')
          ? new Promise((r) => setTimeout(() => r(JSON.stringify(fakeEvent(1))), 50))
          : Promise.reject(new Error(`cannot read ${key}`)),
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const store = new BlobEventStore(failing);
      const seen: number[] = [];
      await expect(
        (async () => {
          for await (const e of store.readStream({ type: 'City', id: 'X' })) seen.push(e.version);
        })(),
      ).rejects.toThrow(/cannot read streams\/City\/X\/0000000000000002.json/);
      expect(seen).toEqual([1]);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

function fakeEvent(version: number) {
  return {
    event_id: `E${version}`,
    event_type: 'ObjectCreated',
    aggregate_type: 'City',
    aggregate_id: 'X',
    version,
    occurred_at: '2026-01-01T00:00:00.000Z',
    data: {},
  };
}
