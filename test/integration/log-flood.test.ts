/**
 * Issue #13: a flooded sidecar's log (hundreds of MB) is streamed by the real teardown reader in
 * bounded memory. The reader runs in a child whose heap is capped far below the log's size, so a
 * reader that held the log (or anything that grows with it) cannot pass; the test also checks that
 * every refusal was counted and that the saved files stay within their cap. Memory is measured and
 * printed; no time is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../..');
const FLOOD_MB = 400;
const HEAP_MB = 64;
const CAP = 4 * 1024 * 1024;
const root = tempDir('flood');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Runs `harness` (a drydock teardown reader) in a child with a HEAP_MB heap, `fake` on its PATH
 * writing `mb` MB of refusals into the log it reads. Its one JSON line, and how many refusals were written.
 */
function floodRead(name: string, fake: 'docker' | 'kubectl', harness: string, mb: number): { report: Record<string, any>; written: number; dir: string } {
  const bin = join(root, `${name}-bin`);
  const dir = join(root, `${name}-session`);
  mkdirSync(bin);
  mkdirSync(dir);
  symlinkSync(join(here, 'harness', 'flood-docker.mjs'), join(bin, fake));
  const countFile = join(root, `${name}-count`);
  const child = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', join(here, 'harness', harness), dir], {
    cwd: repo,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FLOOD_MB: String(mb), FLOOD_HOSTS: '50000', FLOOD_COUNT_FILE: countFile, CAP_BYTES: String(CAP) },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(child.status, child.stderr.slice(-2000)).toBe(0);
  const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, any>;
  const written = Number(readFileSync(countFile, 'utf8'));
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  console.log(`flood (${fake}): ${mb} MB, ${written} refusals; reader peak heap ${mib(report.peakHeap)} MiB, peak RSS ${mib(report.peakRss)} MiB (heap limit ${HEAP_MB} MiB)`);
  return { report, written, dir };
}

it(`streams a ${FLOOD_MB} MB sidecar log through the teardown reader with a ${HEAP_MB} MB heap: every refusal counted, files capped`, () => {
  const { report, written } = floodRead('docker', 'docker', 'flood-read.ts', FLOOD_MB);
  const { saved } = report;

  expect(saved.error).toBeUndefined();
  expect(saved.refusals.complete).toBe(true);
  expect(saved.refusals.refused).toBe(written); // every one, though only 10,000 destinations are listed
  expect(saved.refusals.destinations).toHaveLength(10_000);
  expect(saved.refusals.unlisted).toBe(written - saved.refusals.destinations.reduce((n: number, d: { count: number }) => n + d.count, 0));
  // The saved files: within the cap (plus one marker line), the log's first and last lines kept.
  expect(statSync(saved.path).size).toBeLessThanOrEqual(CAP + 200);
  expect(statSync(saved.decisionsPath).size).toBeLessThanOrEqual(CAP + 300);
  const log = readFileSync(saved.path, 'utf8').trimEnd().split('\n');
  expect(log[0]).toMatch(/Request \(file descriptor 6\): CONNECT h0\.flood\.test:443/);
  expect(log.find((l) => l.startsWith('# drydock:'))).toMatch(/lines \(.*\) of the log left out here/);
  expect(log[log.length - 1]).toMatch(new RegExp(`refused on filtered url "h${(written - 1) % 50000}\\.flood\\.test:443"`));
  expect(saved.omitted.bytes).toBeGreaterThan((FLOOD_MB - 10) * 2 ** 20);
}, 600_000);

const K8S_FLOOD_MB = 200;

it(`streams a ${K8S_FLOOD_MB} MB kubectl log of the proxy Pod through the kubernetes teardown with a ${HEAP_MB} MB heap: every refusal counted, files capped, namespace deleted`, () => {
  const { report, written, dir } = floodRead('k8s', 'kubectl', 'flood-read-k8s.ts', K8S_FLOOD_MB);
  const { teardown } = report;

  // The agent Pod and the namespace deletions succeeded (the fake kubectl says so), the log was read whole.
  expect(teardown.failures).toEqual([]);
  expect(teardown.refusals.complete).toBe(true);
  expect(teardown.refusals.refused).toBe(written);
  expect(statSync(teardown.logPath).size).toBeLessThanOrEqual(CAP + 200);
  expect(statSync(join(dir, 'egress-decisions.jsonl')).size).toBeLessThanOrEqual(CAP + 300);
  const log = readFileSync(teardown.logPath, 'utf8').trimEnd().split('\n');
  expect(log[0]).toMatch(/Request \(file descriptor 6\): CONNECT h0\.flood\.test:443/);
  expect(log.find((l) => l.startsWith('# drydock:'))).toMatch(/lines \(.*\) of the log left out here/);
  expect(teardown.omitted.bytes).toBeGreaterThan((K8S_FLOOD_MB - 10) * 2 ** 20);
}, 600_000);
