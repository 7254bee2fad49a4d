import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure rules, no I/O; also run on Node 24 in CI) and `integration`
 * (a real PostgreSQL: the embedded one, or the server named by DATABASE_URL).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/**/test/**/*.unit.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/**/test/**/*.test.ts'],
          exclude: ['packages/**/test/**/*.unit.test.ts', '**/node_modules/**'],
          globalSetup: ['packages/platform/src/testing/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
