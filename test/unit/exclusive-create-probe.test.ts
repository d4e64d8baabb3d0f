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
