/** What the figures were measured on: printed with the table, since they mean nothing without it. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { squidVersion } from './squid-proc.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  tinyproxy: string;
  squid: string;
  kernel: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAverage: number;
}

export function tinyproxyVersion(binary = 'tinyproxy'): string | undefined {
  const result = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim();
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux: leave it unknown
  }
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    tinyproxy: tinyproxyVersion() ?? 'not installed',
    squid: squidVersion() ?? 'squid not installed',
    kernel,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export function formatMachine(m: MachineInfo): string {
  return `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, ${m.tinyproxy}, squid ${m.squid}; load average ${m.loadAverage} at start`;
}
