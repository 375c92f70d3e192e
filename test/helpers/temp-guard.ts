/**
 * A tier's leak check (vitest globalSetup), the backstop behind the per-file one
 * (temp-dir-setup.ts). Each tier's workers get their own temp root as TMPDIR (vitest.config.ts:
 * `<tmp>/drydock-tests-<pid>/<tier>`), so what the tests and the code they run put in os.tmpdir()
 * lands there, apart from other tiers' and other runs' files (parallel runs never trip it). When
 * the tier ends, a `drydock-*` entry still in the root or in a file's dir under it (a worker that
 * died before its file's check) fails the run. The root is removed either way.
 */
import { mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';

function leftovers(root: string): string[] {
  const left: string[] = [];
  for (const name of readdirSync(root)) {
    if (name.startsWith('drydock-')) left.push(name);
    else if (name.startsWith('file-') && statSync(join(root, name)).isDirectory()) {
      left.push(...readdirSync(join(root, name)).filter((n) => n.startsWith('drydock-')).map((n) => `${name}/${n}`));
    }
  }
  return left.sort();
}

export default function setup(project: TestProject): () => void {
  const root = project.config.env.TEST_TMP_ROOT;
  if (!root) throw new Error(`temp-guard: project ${project.name} sets no TEST_TMP_ROOT (test/vitest.config.ts)`);
  mkdirSync(root, { recursive: true, mode: 0o755 }); // traversable, as /tmp is (temp-dir-setup.ts)
  return () => {
    const left = leftovers(root);
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    try {
      rmdirSync(dirname(root)); // the run's root, once its last tier is done
    } catch {
      // another tier of this run still uses it
    }
    if (left.length > 0) {
      // vitest reports an error thrown here but does not fail the run for it: set the code too.
      process.exitCode = 1;
      throw new Error(
        `the ${project.name} tier left ${left.length} temp dir(s) behind: ${left.slice(0, 20).join(', ')}${left.length > 20 ? ', …' : ''} — make them with tempDir() (test/helpers/temp-dir.ts)`,
      );
    }
  };
}
