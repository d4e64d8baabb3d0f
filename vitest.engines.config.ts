import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config';

/** The default suites plus test/engines/, which need the real engines (STRATA_TEST_ENGINES=1). */
export default defineConfig({
  test: {
    ...base.test,
    include: ['test/**/*.test.ts', 'test/engines/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
  },
});
