/**
 * Every tier's per-file setup: the file runs with its own TMPDIR (a fresh dir in the tier's temp
 * root), so that when it ends anything named drydock-* still in there was left by this file — by a
 * test, or by drydock code it ran (child processes inherit TMPDIR) — and fails the file by name.
 * Temp dirs made outside a test (tempDir at top level or in beforeAll) go first.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { removeFileTempDirs } from './temp-dir.js';

const tierRoot = process.env.TEST_TMP_ROOT;
if (!tierRoot) throw new Error('temp-dir-setup: TEST_TMP_ROOT is not set (test/vitest.config.ts sets it per tier)');
const fileTmp = mkdtempSync(join(tierRoot, 'file-'));
// Traversable, as /tmp is: a test that runs a program as another user (tinyproxy as nobody) gives
// that user its own dir; the dirs in here are still each test's own (mkdtemp, 0700).
chmodSync(fileTmp, 0o755);
process.env.TMPDIR = fileTmp;

afterAll(() => {
  removeFileTempDirs();
  const left = readdirSync(fileTmp).filter((name) => name.startsWith('drydock-')).sort();
  rmSync(fileTmp, { recursive: true, force: true, maxRetries: 3 });
  process.env.TMPDIR = tierRoot;
  if (left.length > 0) {
    throw new Error(
      `this file left ${left.length} temp dir(s) behind: ${left.slice(0, 10).join(', ')}${left.length > 10 ? ', …' : ''} — make them with tempDir() (test/helpers/temp-dir.ts); if drydock made them, it must remove them on every path`,
    );
  }
});
