import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// Three tiers: unit (pure, no I/O beyond temp dirs), integration (a real tinyproxy on loopback),
// e2e (a real Docker engine in its own network namespace; needs root).
// CI asks for a machine-readable report as well (DRYDOCK_TEST_REPORT_DIR), so that .ci/run can
// print one closing 'N passed, N failed' line over every tier it ran.
const reportDir = process.env.DRYDOCK_TEST_REPORT_DIR;
const reporters = reportDir
  ? ['default', ['json', { outputFile: `${reportDir}/vitest-${Date.now()}-${process.pid}.json` }]]
  : ['default'];

export default defineConfig({
  test: {
    root,
    reporters: reporters as never,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          setupFiles: ['test/helpers/setup.ts'],
          exclude: ['test/integration/**', 'test/e2e/**', 'node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
