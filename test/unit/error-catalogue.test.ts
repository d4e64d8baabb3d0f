/**
 * The error catalogue, the code and the docs agree (Fastify keeps such a test for its own
 * catalogue): every code is documented with its status and title, and every code is raised somewhere.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS, problemType } from '../../src/core/errors.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('error catalogue', () => {
  it('documents every code in the README with its status and title, and nothing else', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `(STRATA_ERR_[A-Z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map(
      (m) => [m[1], Number(m[2]), m[3]],
    );
    expect(documented).toEqual(Object.entries(ERRORS).map(([code, e]) => [code, e.status, e.title]));
  });

  it('raises every code somewhere outside the catalogue', () => {
    const code = sources(join(root, 'src'))
      .filter((f) => !f.endsWith(join('core', 'errors.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const errorsTs = readFileSync(join(root, 'src/core/errors.ts'), 'utf8');
    // The typed errors in errors.ts (super(...) calls) raise their codes too.
    const typed = errorsTs.slice(errorsTs.indexOf('export class StrataError'));
    const unused = Object.keys(ERRORS).filter((c) => !code.includes(`'${c}'`) && !typed.includes(`'${c}'`));
    expect(unused).toEqual([]);
  });

  it('gives each code a stable problem type URI', () => {
    expect(problemType('STRATA_ERR_LINK_TARGET_MISSING')).toBe(
      'https://strata.dev/problems/link-target-missing',
    );
  });
});
