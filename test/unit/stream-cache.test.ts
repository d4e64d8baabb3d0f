import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFsEventStore } from '../../src/adapters/event-store/fs.js';
import { StreamCache } from '../../src/app/stream-cache.js';
import type { EventStore, ReadStreamOptions } from '../../src/ports/event-store.js';
import { envelope } from '../support/fixtures.js';

describe('StreamCache', () => {
  it('reads only the tail after the cached versions, and sees other writers', async () => {
    const store = openFsEventStore(await mkdtemp(join(tmpdir(), 'strata-cache-')));
    const reads: (ReadStreamOptions | undefined)[] = [];
    const spy: Pick<EventStore, 'readStream'> = {
      readStream: (ref, options) => {
        reads.push(options);
        return store.readStream(ref, options);
      },
    };
    const cache = new StreamCache(spy, 2);
    const ref = { type: 'City', id: 'X' };
    for (let v = 1; v <= 3; v++)
      await store.append(envelope({ aggregate_type: 'City', aggregate_id: 'X', version: v }));
    expect((await cache.load(ref)).map((e) => e.version)).toEqual([1, 2, 3]);
    await store.append(envelope({ aggregate_type: 'City', aggregate_id: 'X', version: 4 }));
    expect((await cache.load(ref)).map((e) => e.version)).toEqual([1, 2, 3, 4]);
    expect(reads.map((r) => r?.fromVersion)).toEqual([1, 4]);
    // Capacity 2: the least recently used aggregate is evicted and read in full next time.
    for (const id of ['Y', 'Z'])
      await store.append(envelope({ aggregate_type: 'City', aggregate_id: id, version: 1 }));
    await cache.load({ type: 'City', id: 'Y' });
    await cache.load({ type: 'City', id: 'Z' });
    await cache.load(ref);
    expect(reads.at(-1)?.fromVersion).toBe(1);
  });
});
