/**
 * The proxy section's scenarios: at each allowlist size, drydock's tinyproxy (rendered exactly as
 * `drydock run` renders a session: the shipped baseline plus the generated list as the project's
 * allowlist) and squid with the same effective rules, timed on the same hosts; plus contrasts.
 */
import { readFileSync } from 'node:fs';
import { effectiveRules } from '../../lib/allowlist/effective.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { baselinePath } from '../../lib/paths.js';
import { renderProxyFiles } from '../integration/harness/session.js';
import { generateAllowlist, naiveFilter } from './gen-allowlist.js';
import { ereToJs } from '../allowlist/filter-eval.js';
import { filterRules, filterSubject, type LastHost } from './last-host.js';
import { lastHostOrThrow, type ProxyScenario } from './proxy-bench.js';

export const PROXY_SIZES: ReadonlyArray<[string, number]> = [['10', 10], ['1,000', 1000], ['10,000', 10_000], ['100,000', 100_000]];

/** The squid scenario's label for a size's label. */
export const squidLabel = (label: string): string => `squid ${label}`;

/** The rules drydock compiles for this session, as squid gets them: baseline + generated list. */
function sessionGroups(allowlistText: string, filterText: string) {
  const parsed = [parseAllowlist(readFileSync(baselinePath({}), 'utf8'), 'baseline'), parseAllowlist(allowlistText, 'bench')];
  const errors = parsed.flatMap((p) => p.errors);
  if (errors.length > 0) throw new Error(`bench allowlist does not parse: ${JSON.stringify(errors[0])}`);
  const { groups, ruleCount } = effectiveRules(parsed.flatMap((p) => p.entries));
  // Same rules on both sides, or the comparison means nothing: the filter's header says how many.
  // The session filter also allows its own check host (drydock-reload-<hex>.invalid, answered by
  // tinyproxy itself for the live swap), which is no destination and has no squid counterpart.
  const compiled = /^# \d+ entries, (\d+) rules\./m.exec(filterText)?.[1];
  const checkHost = /drydock-reload-[0-9a-f]+\\\.invalid/.test(filterText) ? 1 : 0;
  if (Number(compiled) - checkHost !== ruleCount) throw new Error(`squid would get ${ruleCount} rules, the filter has ${compiled}`);
  return groups;
}

/** The filter with the line that first matches the timed CONNECT host moved to the top. */
function timedLineFirst(filterText: string, target: LastHost): { filterText: string; target: LastHost } {
  const rules = filterRules(filterText);
  const line = rules[target.ruleIndex - 1]!;
  if (!ereToJs(line).test(filterSubject('connect', target.host, target.port))) throw new Error(`rule ${target.ruleIndex} does not match ${target.host}`);
  const lines = filterText.split('\n');
  const at = lines.indexOf(line);
  const firstRule = lines.findIndex((l) => l !== '' && !l.startsWith('#'));
  lines.splice(at, 1);
  lines.splice(firstRule, 0, line);
  return { filterText: lines.join('\n'), target: { ...target, ruleIndex: 1 } };
}

export function proxyScenarios(options: { seed: number; quick: boolean; log: (line: string) => void }): Array<{ scenario: ProxyScenario; upstreamAddress: string }> {
  const scenarios: Array<{ scenario: ProxyScenario; upstreamAddress: string }> = [];
  for (const [index, [label, size]] of PROXY_SIZES.entries()) {
    const gen = generateAllowlist({ size, seed: options.seed });
    const rendered = renderProxyFiles({ allowlist: gen.text, project: 'bench' });
    const { confText, filterText } = rendered;
    rendered.cleanup();
    const targets = {
      connect: lastHostOrThrow(label, filterText, gen.entries, 'connect'),
      http: lastHostOrThrow(label, filterText, gen.entries, 'http'),
    };
    const groups = sessionGroups(gen.text, filterText);
    options.log(`proxy: ${label} entries → ${filterRules(filterText).length} filter lines`);
    const peer = squidLabel(label);
    const tinyproxy = { kind: 'tinyproxy' as const, confText, filterText, logTo: 'stdout' as const };
    scenarios.push({ scenario: { label, proxy: tinyproxy, entries: gen.entries, targets, peer }, upstreamAddress: `127.77.${index + 1}.1` });
    scenarios.push({ scenario: { label: peer, proxy: { kind: 'squid', groups }, entries: gen.entries, targets, peer }, upstreamAddress: `127.77.${index + 1}.2` });
    if (size === 10) {
      // Contrasts for what logging costs: the old bench's LogFile (tinyproxy fsyncs after every
      // line, a disk flush each), and the shipped config with the log level lowered.
      const logFile = { ...tinyproxy, logTo: 'file' as const };
      scenarios.push({ scenario: { label: '10 entries, LogFile', proxy: logFile, entries: gen.entries, targets, peer }, upstreamAddress: `127.77.${index + 1}.3` });
      const notice = { ...tinyproxy, confText: confText.replace(/^LogLevel\s+\S+/m, 'LogLevel Notice') };
      scenarios.push({ scenario: { label: '10 entries, LogLevel Notice', proxy: notice, entries: gen.entries, targets, peer }, upstreamAddress: `127.77.${index + 1}.4` });
    }
    if (size === 10_000) {
      // Where the time goes at this size: the same files with the log level lowered (what the
      // shipped Info lines cost), and with the timed CONNECT host's own line moved to the top
      // (what scanning the lines before it costs; the rest is tinyproxy's own per-request work).
      const notice = { ...tinyproxy, confText: confText.replace(/^LogLevel\s+\S+/m, 'LogLevel Notice') };
      scenarios.push({ scenario: { label: '10,000 entries, LogLevel Notice', proxy: notice, entries: gen.entries, targets, peer }, upstreamAddress: `127.77.${index + 1}.3` });
      const first = timedLineFirst(filterText, targets.connect);
      scenarios.push({
        scenario: { label: '10,000 entries, timed line first', proxy: { ...tinyproxy, filterText: first.filterText }, entries: gen.entries, targets: { connect: first.target, http: targets.http }, peer },
        upstreamAddress: `127.77.${index + 1}.4`,
      });
      // The one-regex-per-entry filter, timed on its own last rule. Fewer requests per round: at
      // tens of milliseconds each the usual count would take minutes.
      const naive = naiveFilter(gen.entries);
      const naiveTargets = { connect: lastHostOrThrow('naive', naive, gen.entries, 'connect') };
      scenarios.push({
        scenario: {
          label: 'naive 10,000 (1 regex/entry)',
          proxy: { ...tinyproxy, filterText: naive },
          entries: gen.entries,
          targets: naiveTargets,
          perRound: options.quick ? 5 : 8,
          peer,
        },
        upstreamAddress: '127.77.100.1',
      });
    }
  }
  return scenarios;
}
