#!/usr/bin/env node
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
// A stand-in for `docker logs --timestamps <container>` of a flooded sidecar: FLOOD_MB megabytes of
// tinyproxy refusal lines on stdout (a new host name every line, FLOOD_HOSTS of them in turn) and
// the resolver's lines on stderr, both timestamped like docker's. Written as fast as the pipe takes
// them, so the reader's memory is what is measured. Any other docker command fails loudly.
//
// Run as `kubectl` (a symlink of that name): `kubectl … logs --timestamps POD -c C` prints the
// container's streams merged on stdout, as kubectl does; `kubectl … delete …` succeeds.
const args = process.argv.slice(2);
const asKubectl = /(^|\/)kubectl$/.test(process.argv[1] ?? '');
if (asKubectl && args.includes('delete')) process.exit(0);
if ((asKubectl ? !args.includes('logs') : args[0] !== 'logs') || !args.includes('--timestamps')) {
  process.stderr.write(`flood-${asKubectl ? 'kubectl' : 'docker'}: unexpected command: ${args.join(' ')}\n`);
  process.exit(2);
}
const totalBytes = Number(process.env.FLOOD_MB ?? '300') * 1024 * 1024;
const hosts = Number(process.env.FLOOD_HOSTS ?? '50000');
let written = 0;
let i = 0;
let second = 0;
const stamp = () => `2026-12-02T01:${String(Math.floor(second / 60) % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}.${String(i % 1e9).padStart(9, '0')}Z`;
function block() {
  const out = [];
  const err = [];
  for (let n = 0; n < 2000; n += 1, i += 1) {
    if (i % 100000 === 0) second += 1;
    const t = stamp();
    const host = `h${i % hosts}.flood.test`;
    out.push(`${t} CONNECT   Dec 02 01:00:00.000 [7]: Request (file descriptor ${6 + (i % 90)}): CONNECT ${host}:443 HTTP/1.1`);
    out.push(`${t} NOTICE    Dec 02 01:00:00.000 [7]: Proxying refused on filtered url "${host}:443"`);
    if (i % 1000 === 0) err.push(`${t} Dec  2 01:00:00 dnsmasq[9]: query[A] ${host} from 127.0.0.1`);
  }
  return { out: `${out.join('\n')}\n`, err: err.length ? `${err.join('\n')}\n` : '' };
}
function pump() {
  while (written < totalBytes) {
    const parts = block();
    // kubectl: the container's two streams come merged on stdout.
    const out = asKubectl ? parts.out + parts.err : parts.out;
    const err = asKubectl ? '' : parts.err;
    written += out.length + err.length;
    if (err) process.stderr.write(err);
    if (!process.stdout.write(out)) {
      process.stdout.once('drain', pump);
      return;
    }
  }
  // How many refusals were written, for the reader's test to check every one was counted.
  if (process.env.FLOOD_COUNT_FILE) require('node:fs').writeFileSync(process.env.FLOOD_COUNT_FILE, String(i));
  process.stdout.end(() => process.exit(0));
}
pump();
