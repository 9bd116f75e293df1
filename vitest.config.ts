import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { configDefaults, defineConfig } from 'vitest/config';

/** Tests that drive Debian's Chromium; run by `npm run test:browser`, not by `npm test`. */
const BROWSER_TESTS = '**/*.browser.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            main: './edge/src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              // local mode: the tests use a short admin token and the development-only egress settings
              bindings: {
                PLATFORM_MODE: 'local',
                EDGE_ADMIN_TOKEN: 'test-admin-token',
                UPSTREAM_TIMEOUT_MS: '400',
                BREAKER_CACHE_MS: '0',
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['edge/**/*.test.ts'],
          globalSetup: ['./edge/test/global-setup.ts'],
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'platform/**/*.test.ts',
            'functions/**/*.test.ts',
            'provisioner/**/*.test.ts',
            'app-runtime/**/*.test.ts',
            'scripts/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, BROWSER_TESTS],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          environment: 'node',
          include: [BROWSER_TESTS],
          exclude: [...configDefaults.exclude],
          // Azurite, for browser tests that run a functions host (test/altinn/*.browser.test.ts).
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
