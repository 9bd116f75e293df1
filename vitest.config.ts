import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            main: './edge/src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { EDGE_ADMIN_TOKEN: 'test-admin-token', UPSTREAM_TIMEOUT_MS: '400', BREAKER_CACHE_MS: '0' },
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
            'functions/**/*.test.ts',
            'provisioner/**/*.test.ts',
            'app-runtime/**/*.test.ts',
            'scripts/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
