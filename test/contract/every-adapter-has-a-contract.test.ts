/**
 * Every adapter file under src/adapters/<port>/ is run by its port's contract suite (Emmett once
 * forgot to run its shared suite for two stores). Under npm run test:all the real-engine
 * adapters must actually be in the run, not just declared.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  busFactories,
  ENGINE_ONLY_ADAPTERS,
  eventStoreFactories,
  graphFactories,
  outboxFactories,
  searchFactories,
  sqlEngines,
} from '../support/adapters.js';
import { enginesEnabled } from '../support/engines.js';

/** Files in an adapter folder that are shared building blocks, not adapters of their own. */
const SHARED = new Set(['event-store/blob-event-store']);

function adapterFiles(port: string): string[] {
  const dir = fileURLToPath(new URL(`../../src/adapters/${port}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .filter((name) => !SHARED.has(`${port}/${name}`))
    .sort();
}

const sqlAdapterOf: Record<string, string> = { pglite: 'pglite', postgres: 'pg' };

const runs: Record<string, () => string[]> = {
  'event-store': () => eventStoreFactories().map((f) => f.adapter),
  outbox: () => outboxFactories().map((f) => f.adapter),
  bus: () => busFactories().map((f) => f.adapter),
  graph: () => graphFactories().map((f) => f.adapter),
  search: () => searchFactories().map((f) => f.adapter),
  sql: () => sqlEngines().map((e) => sqlAdapterOf[e.name]!),
};

describe('every adapter runs its port contract suite', () => {
  it('knows every port folder', () => {
    const folders = readdirSync(fileURLToPath(new URL('../../src/adapters/', import.meta.url))).sort();
    expect(folders).toEqual(Object.keys(runs).sort());
  });

  it.each(Object.keys(runs))('%s', (port) => {
    const running = new Set(runs[port]!());
    const declared = enginesEnabled() ? [] : (ENGINE_ONLY_ADAPTERS[port] ?? []);
    const covered = [...new Set([...running, ...declared])].sort();
    expect(covered).toEqual(adapterFiles(port));
    if (enginesEnabled()) expect([...running].sort()).toEqual(adapterFiles(port));
  });
});
