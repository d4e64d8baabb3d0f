/**
 * The CLI on a data folder: import (a slice of) world-countries through the API, then
 * `strata rebuild all` and `strata verify` (clean, exit 0); corrupt projection rows by hand and
 * verify exits 1 naming each one.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../src/adapters/sql/pglite.js';
import { StrataClient } from '../../src/client/index.js';
import { importDataSet } from '../../src/demo/importer.js';
import { loadWorldCountries, worldDataSet, worldOntology } from '../../src/demo/world-countries.js';
import { eventually } from '../support/fixtures.js';
import { runStrata, startServe } from '../support/process.js';

describe('strata rebuild and verify', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
    const server = await startServe(dataDir);
    try {
      const client = new StrataClient(server.url);
      await client.putOntology(worldOntology);
      const europe = loadWorldCountries().filter((c) => c.region === 'Europe');
      const data = worldDataSet(europe);
      // Keep borders inside the slice so every link target exists.
      const inSlice = new Set(europe.map((c) => c.cca3));
      data.links = data.links.filter((l) => l.linkType !== 'borders' || inSlice.has(l.targetId));
      const pks = Object.fromEntries(worldOntology.objectTypes.map((t) => [t.apiName, t.primaryKey]));
      await importDataSet(client, data, pks);
      await eventually(async () => {
        const lag = await client.admin<{ groups: { lag: number }[] }>('GET', 'lag');
        const outbox = await client.admin<{ pending: number; ready: number }>('GET', 'outbox');
        return outbox.pending + outbox.ready === 0 && lag.groups.every((g) => g.lag === 0) ? true : undefined;
      }, 60_000);
    } finally {
      await server.stop();
    }
  }, 300_000);

  it('refuses to open a data folder another process is using', async () => {
    const server = await startServe(dataDir);
    try {
      const r = await runStrata(['verify', '--data', dataDir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/in use by process \d+/);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('rebuilds every projection from the store and verifies it clean', async () => {
    const rebuilt = await runStrata(['rebuild', 'all', '--data', dataDir]);
    expect(rebuilt.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(rebuilt.stdout).toMatch(/rebuilt graph and search from \d+ aggregates/);
    expect(rebuilt.code).toBe(0);
    const verified = await runStrata(['verify', '--data', dataDir]);
    expect(verified.stdout).toMatch(/verified \d+ aggregates: no drift/);
    expect(verified.code).toBe(0);
  }, 180_000);

  it('exits 1 and names every corrupted row', async () => {
    const sql = await openPglite(join(dataDir, 'pg'));
    try {
      await sql.query(
        `UPDATE strata_search_docs SET properties = jsonb_set(properties, '{name}', '"Gaul"') WHERE type = 'Country' AND id = 'FRA'`,
      );
      await sql.query(
        `UPDATE strata_graph_edges SET valid_to = now() WHERE from_type = 'Country' AND from_id = 'DEU' AND to_id = 'POL' AND valid_to IS NULL`,
      );
      await sql.query(`UPDATE strata_graph_heads SET version = 99 WHERE type = 'Language' AND id = 'fra'`);
      await sql.query(
        `UPDATE strata_graph_nodes SET title = 'Gallia' WHERE type = 'Country' AND id = 'FRA' AND valid_to IS NULL`,
      );
      await sql.query(
        `INSERT INTO strata_graph_nodes (type, id, valid_from, title)
         SELECT type, id, valid_from, title FROM strata_graph_nodes WHERE type = 'Country' AND id = 'ESP' AND valid_to IS NULL`,
      );
    } finally {
      await sql.close();
    }
    const verified = await runStrata(['verify', '--data', dataDir]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain('DRIFT search Country/FRA: properties differ from the store');
    expect(verified.stdout).toContain('DRIFT graph Country/DEU: missing edges borders->Country/POL');
    expect(verified.stdout).toContain('DRIFT graph Language/fra: version 99, store has 1');
    expect(verified.stdout).toContain('DRIFT graph Country/FRA: title "Gallia", store has "France"');
    expect(verified.stdout).toContain('DRIFT graph Country/ESP: 2 open node intervals, 1 expected');
    expect(verified.stdout).toMatch(/: 5 drift/);
    // And a rebuild repairs it.
    expect((await runStrata(['rebuild', 'all', '--data', dataDir])).code).toBe(0);
    expect((await runStrata(['verify', '--data', dataDir])).code).toBe(0);
  }, 240_000);
});
