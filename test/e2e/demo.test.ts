/**
 * The demo as a newcomer runs it (`strata demo --once`): every country and link imported through
 * the API, and every printed answer checked against the source data.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enginesEnabled } from '../support/engines.js';
import { runStrata } from '../support/process.js';

// The same demo on the real engines (npm run test:all) must give the same answers.
const shapes = enginesEnabled() ? ['embedded', 'local'] : ['embedded'];

describe.each(shapes)('strata demo --once --engines %s', (engines) => {
  it('imports all 250 countries and 1,605 links and answers correctly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-demo-'));
    const r = await runStrata(['demo', '--once', '--port', '0', '--data', dir, '--engines', engines]);
    expect(r.stdout).toContain(
      'Imported 595 objects (250 Country, 6 Region, 24 Subregion, 162 Currency, 153 Language)',
    );
    expect(r.stdout).toContain(
      'and 1605 links (649 borders, 245 inSubregion, 24 subregionOf, 275 usesCurrency, 412 speaks)',
    );
    expect(r.stdout).toContain('Andorra, Belgium, Germany, Italy, Luxembourg, Monaco, Spain, Switzerland');
    expect(r.stdout).toContain('✓ 21 countries (matches the source data)');
    expect(r.stdout).toContain('✓ 16 countries (matches the source data)');
    expect(r.stdout).toContain('✓ 37 countries use EUR (matches the source data)');
    expect(r.stdout).toMatch(/as of \S+ \(version \d+\): Czechia/);
    expect(r.stdout).toContain('0 drift between projections and the event store');
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).toContain('All answers match the source data.');
    expect(r.code).toBe(0);
  }, 600_000);
});
