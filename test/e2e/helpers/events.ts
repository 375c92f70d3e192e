/**
 * `docker events` recorded while a test runs: what the engine did, including to containers that
 * are gone by the time the test looks (a sidecar that was created, never healthy, and removed).
 */
import { spawn } from 'node:child_process';
import { track } from './children.js';

export interface EngineEvent {
  type: string;
  action: string;
  name: string;
  labels: Record<string, string>;
  timeMs: number;
}

export interface EventRecorder {
  /** Stops recording (after a moment, so the last events arrive) and returns what was seen. */
  stop: () => Promise<EngineEvent[]>;
}

/** Records container events carrying `label` (e.g. `drydock.project=e2e-x`) from now on. */
export async function recordEvents(label: string): Promise<EventRecorder> {
  const since = (Date.now() / 1000).toFixed(3);
  const child = spawn('docker', ['events', '--since', since, '--filter', 'type=container', '--filter', `label=${label}`, '--format', '{{json .}}'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  track(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
  await new Promise((r) => setTimeout(r, 300)); // let it subscribe before the test acts
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGTERM');
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const e = JSON.parse(line) as { Type: string; Action: string; Actor: { Attributes: Record<string, string> }; timeNano: number };
          return { type: e.Type, action: e.Action, name: e.Actor.Attributes.name ?? '', labels: e.Actor.Attributes, timeMs: e.timeNano / 1e6 };
        });
    },
  };
}
