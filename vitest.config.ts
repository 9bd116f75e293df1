import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { configDefaults, defineConfig } from 'vitest/config';

/** Tests that drive Debian's Chromium; run by `npm run test:browser`, not by `npm test`. */
const BROWSER_TESTS = '**/*.browser.test.ts';

/**
 * Platform-level suites: they run `npm start`, the functions server or the local provider's replicas as real
 * processes, so each takes tens of seconds. Run by `npm run test:e2e`, not by `npm test`.
 */
const E2E_TESTS = [
  'test/e2e/**/*.test.ts',
  'test/start.test.ts',
  'test/provisioner-local.test.ts',
  'test/deploy-truth.test.ts',
  'test/autoscale.test.ts',
  'functions/src/server.test.ts',
  'provisioner/src/providers/local/index.test.ts',
  'app-runtime/src/altinn.test.ts',
  'scripts/storage-check.test.ts',
];

/** Settings shared by the node-side projects (unit and API tests, platform-level suites). */
const NODE_SIDE = {
  environment: 'node' as const,
  // Azurite, for tests that store blobs or run a functions host.
  globalSetup: ['./test/support/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

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
          ...NODE_SIDE,
          name: 'node',
          include: [
            'platform/**/*.test.ts',
            'functions/**/*.test.ts',
            'provisioner/**/*.test.ts',
            'app-runtime/**/*.test.ts',
            'scripts/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, BROWSER_TESTS, ...E2E_TESTS],
        },
      },
      {
        test: {
          ...NODE_SIDE,
          name: 'e2e',
          include: E2E_TESTS,
          exclude: [...configDefaults.exclude, BROWSER_TESTS],
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
