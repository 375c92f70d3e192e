import { defineConfig } from 'vitest/config';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// Each tier's tests get their own temp dir as TMPDIR, and the tier fails if a drydock-* dir is
// left in it when the tier ends (test/helpers/temp-guard.ts). Per run (pid), so parallel runs on
// one machine never see each other's files; tests make theirs with test/helpers/temp-dir.ts.
const runTmp = join(tmpdir(), `drydock-tests-${process.pid}`);
const tier = (name: string) => ({
  name,
  env: { TMPDIR: join(runTmp, name), TEST_TMP_ROOT: join(runTmp, name) },
  globalSetup: ['test/helpers/temp-guard.ts'],
});

export default defineConfig({
  test: {
    root,
    reporters: reporters as never,
    projects: [
      {
        extends: true,
        test: {
          ...tier('unit'),
          include: ['test/**/*.test.ts'],
          setupFiles: ['test/helpers/temp-dir-setup.ts', 'test/helpers/setup.ts'],
          exclude: ['test/integration/**', 'test/e2e/**', 'node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          ...tier('integration'),
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/helpers/temp-dir-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          ...tier('e2e'),
          include: ['test/e2e/**/*.test.ts'],
          setupFiles: ['test/helpers/temp-dir-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
