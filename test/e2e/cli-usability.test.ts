/** What an operator meets on the command line: one clear line for every mistake, nothing destroyed. */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StrataClient } from '../../src/client/index.js';
import { testOntology } from '../support/fixtures.js';
import { runStrata, startServe } from '../support/process.js';

const oneLine = (r: { stderr: string }) =>
  r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.includes('warning:'));

describe('strata CLI usability', () => {
  it('names every wrong setting or flag in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['verify', '--data', join(dir, 'typo')],
        {},
        /configuration error: --data: there is no data folder at .*typo/,
      ],
      [
        ['serve', '--data', dir, '--role', 'api'],
        {},
        /configuration error: --role: 'api' needs shared engines/,
      ],
      [
        ['serve', '--data', dir, '--port', '99999'],
        {},
        /configuration error: --port: '99999' must be an integer/,
      ],
      [
        ['serve', '--data', dir],
        { STRATA_LOG_LEVEL: 'verbose' },
        /configuration error: STRATA_LOG_LEVEL: 'verbose'/,
      ],
      [
        ['outbox', 'bogus', '--data', dir],
        {},
        /configuration error: outbox: 'bogus' is not an action \(status\)/,
      ],
      [
        ['engines', '--data', dir],
        { STRATA_EVENT_STORE: 's3:/bucket' },
        /STRATA_EVENT_STORE: 's3:\/bucket' looks like a URL but lacks/,
      ],
      [
        ['replay', '--data', dir, '--from', '2026-02-31'],
        {},
        /strata: --from '2026-02-31' is not a calendar date$/m,
      ],
      [
        ['replay', '--data', dir, '--from', '2026-01-01', '--to', '0999-01-01'],
        {},
        /strata: --to '0999-01-01' is outside the instants Strata keeps, 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z/,
      ],
      [
        ['verify', '--url', 'http://127.0.0.1:59999'],
        {},
        /cannot reach http:\/\/127.0.0.1:59999: ECONNREFUSED/,
      ],
    ];
    for (const [args, env, message] of cases) {
      const r = await runStrata(args, env);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(oneLine(r), args.join(' ')).toHaveLength(1);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"foo": 1}');
    const imported = await runStrata(['import', bad, '--url', 'http://127.0.0.1:1']);
    expect(imported.stderr).toMatch(/bad.json must hold \{"objects"/);
  }, 180_000);

  it('import says what it wrote: a re-run imports 0 new objects and links, all already there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
    const server = await startServe(dir);
    try {
      await new StrataClient(server.url).putOntology(testOntology);
      const file = join(dir, 'cities.json');
      await writeFile(
        file,
        JSON.stringify({
          objects: [
            { type: 'Country', properties: { code: 'FR', name: 'France' } },
            { type: 'City', properties: { code: 'PAR', name: 'Paris' } },
          ],
          links: [{ type: 'City', id: 'PAR', linkType: 'inCountry', targetId: 'FR' }],
        }),
      );
      const first = await runStrata(['import', file, '--url', server.url]);
      expect(first.stdout).toMatch(/^imported 2 new objects and 1 new link in \d+ ms \(0 already there\)$/m);
      const again = await runStrata(['import', file, '--url', server.url]);
      expect(again.stdout).toMatch(/^imported 0 new objects and 0 new links in \d+ ms \(3 already there\)$/m);
      expect(again.code).toBe(0);
    } finally {
      await server.stop();
    }
  }, 180_000);

  it('warns about STRATA_* variables nobody reads, suggesting the real name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
    const r = await runStrata(['verify', '--data', dir], { STRATA_DATABSE_URL: 'postgres://x' });
    expect(r.stderr).toContain(
      'warning: STRATA_DATABSE_URL is not a Strata setting (did you mean STRATA_DATABASE_URL?)',
    );
    expect(r.code).toBe(0);
    const outbox = await runStrata(['outbox', 'status', '--data', dir]);
    expect(outbox.stdout).toContain(
      'pending 0, ready 0, dead letters 0, projection failures 0\nrelay partitions: 16, none leased\n',
    );
  }, 120_000);

  it('prints its version, and ends quietly when its output pipe closes early', async () => {
    const v = await runStrata(['--version']);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // `strata --help | head -1`: the reader closes the pipe after one line.
    const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).not.toMatch(/EPIPE|at /);
    expect(code).toBe(0);
  }, 60_000);

  it('never wipes the data folder of a running Strata when a second demo starts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
    const server = await startServe(dir);
    try {
      const r = await runStrata(['demo', '--once', '--port', '0', '--data', dir]);
      expect(r.stderr).toMatch(/in use by process \d+/);
      expect(r.code).toBe(2);
      expect(await new StrataClient(server.url).health()).toEqual({ status: 'ok' });
      expect((await runStrata(['verify', '--url', server.url])).stdout).toContain('no drift');
    } finally {
      await server.stop();
    }
  }, 180_000);
});
