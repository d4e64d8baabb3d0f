import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/engines/ needs real engines; vitest.engines.config.ts collects it (npm run test:all).
    exclude: [...configDefaults.exclude, 'test/engines/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The locked AWS SDK supports Node 20; its notice is about releases after January 2027.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
