/**
 * One pass over a proxy log, line by line: parse, count the refusals, turn each event into a
 * typed decision for whoever wants them (a `--json` stream, the saved decisions file). Nothing
 * here grows with the log: the parser, the tally and the decision cache are each bounded. Pure
 * (the sinks are the caller's).
 */
import { decide, type Decision, type DecisionContext, type EgressEvent } from './decision.js';
import { TinyproxyLogParser } from './log.js';
import { RefusalTally, type RefusalReport } from './refusals.js';

export interface PipelineSinks {
  /** Each log line as read, docker's stamp in front when it had one (for the saved egress.log). */
  onLine?: (line: string) => void;
  onEvent?: (event: EgressEvent) => void;
  /** Needs the decision context. */
  onDecision?: (decision: Decision) => void;
  /** False once the decision sink takes no more (a full file): decisions are then not built at all. */
  wantsDecisions?: () => boolean;
}

/** Destinations whose decision (minus time, method, detail) is remembered: a flood of one costs one lookup. */
const DECISION_CACHE = 4096;

export class EgressLogPipeline {
  readonly parser = new TinyproxyLogParser();
  readonly tally: RefusalTally;
  private readonly cache = new Map<string, Decision>();

  constructor(private readonly sinks: PipelineSinks = {}, private readonly decisions?: DecisionContext, tally = new RefusalTally()) {
    this.tally = tally;
  }

  line(text: string, time?: string): void {
    this.sinks.onLine?.(time ? `${time} ${text}` : text);
    for (const event of this.parser.push(text, time)) this.event(event);
  }

  /** Settle what is still open and report; `complete` false when the log was not read to its end. */
  end(complete = true): RefusalReport {
    for (const event of this.parser.end()) this.event(event);
    return this.tally.report({ lines: this.parser.lines, complete });
  }

  private event(event: EgressEvent): void {
    this.sinks.onEvent?.(event);
    if (!this.decisions) {
      this.tally.add(event);
      return;
    }
    // The summary's reasons are the decisions' own (port_not_allowed needs the allowlist); a
    // destination seen before costs no decision, so a flood is as cheap as the parsing.
    this.tally.add(event, (e) => this.decide(e).reason);
    if (this.sinks.onDecision && (this.sinks.wantsDecisions?.() ?? true)) this.sinks.onDecision(this.decide(event));
  }

  private decide(event: EgressEvent): Decision {
    const key = [event.action, event.reason, event.protocol, event.port, event.truncated === true, event.detail, event.host].join(' ');
    let template = this.cache.get(key);
    if (!template) {
      template = decide({ ...event, time: undefined, method: undefined }, this.decisions!);
      this.cache.set(key, template);
      if (this.cache.size > DECISION_CACHE) this.cache.delete(this.cache.keys().next().value!);
    }
    return { ...template, time: event.time ?? null, method: event.method ?? null };
  }
}
