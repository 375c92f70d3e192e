/** A scripted kubectl for `run --target kubernetes`: every call of one session, each overridable. */
import type { RunOptions } from '../../lib/docker/runner.js';
import type { FakeRunner } from '../helpers/fake-runner.js';
import type { Step } from '../session/run-fixture.js';

export const CONTEXT = 'kind-drydock';
export const ADDRESS = '10.96.0.42';
export const k = (...args: string[]) => ['kubectl', '--context', CONTEXT, ...args];
export const nsOf = (id: string) => `drydock-${id}`;
/** As `kubectl logs --timestamps` prints it: each line stamped, the container's streams merged on stdout. */
export const PROXY_LOG =
  '2024-05-01T10:00:01.000000001Z CONNECT   May 01 10:00:01.000 [7]: Request (file descriptor 6): CONNECT blocked.test:443 HTTP/1.1\n' +
  '2024-05-01T10:00:01.100000000Z NOTICE    May 01 10:00:01.100 [7]: Proxying refused on filtered url "blocked.test:443"\n';
/** Teardown deletes the agent Pod first, while the proxy's log is read. */
export const deleteAgentArgv = (id: string) => k('-n', nsOf(id), 'delete', 'pod', 'drydock-agent', '--ignore-not-found', '--wait=false');
/** The streamed read of the proxy's log at teardown. */
export const proxyLogsArgv = (id: string) => k('-n', nsOf(id), 'logs', '--timestamps', 'drydock-egress', '-c', 'tinyproxy');
export const ENFORCED = 'drydock-probe: enforced proxy reachable, 10.96.0.1:443 not\n';

export interface K8sScript {
  id: string;
  /** Stop after this step (the steps after it are not expected); default: run to the end. */
  until?: 'proxy-ready' | 'probe' | 'agent-ready' | 'exec';
  proxyReady?: Step;
  address?: string;
  probePhases?: string[];
  probeLog?: string;
  agentReady?: Step;
  exec?: Step;
  execArgv?: string[];
  deleteAgent?: Step;
  proxyLogs?: Step;
  deleteNamespace?: Step;
  timeoutS?: number;
}

/** Records what each `kubectl apply -f -` was given on stdin, in order. */
export class Applied {
  readonly inputs: string[] = [];
  step(): Step {
    return { result: async (_argv: readonly string[], options?: RunOptions) => (this.inputs.push((await options?.input) ?? ''), { stdout: 'applied\n' }) };
  }
}

export function scriptKubernetesSession(fake: FakeRunner, o: K8sScript): Applied {
  const applied = new Applied();
  const ns = nsOf(o.id);
  const timeout = `--timeout=${o.timeoutS ?? 120}s`;
  const order = ['proxy-ready', 'probe', 'agent-ready', 'exec'];
  const reaches = (step: string) => o.until === undefined || order.indexOf(step) <= order.indexOf(o.until);
  fake.expect({ argv: ['kubectl', 'config', 'current-context'], result: { stdout: `${CONTEXT}\n` } });
  fake.expect({ argv: k('get', 'namespace', ns, `${ns}-egress`, '--ignore-not-found', '-o', 'name'), result: { stdout: '' } });
  fake.expect({ argv: k('apply', '-f', '-'), ...applied.step() });
  fake.expect({ argv: k('-n', ns, 'wait', '--for=condition=Ready', 'pod/drydock-egress', timeout), ...(o.proxyReady ?? { result: { stdout: 'pod/drydock-egress condition met\n' } }) });
  if (reaches('probe')) {
    fake.expect({ argv: k('-n', ns, 'get', 'service', 'drydock-egress', '-o', 'jsonpath={.spec.clusterIP}'), result: { stdout: o.address ?? ADDRESS } });
    if (o.address === undefined || o.address === ADDRESS) {
      fake.expect({ argv: k('apply', '-f', '-'), ...applied.step() });
      const phases = o.probePhases ?? ['Pending', 'Succeeded'];
      const last = phases[phases.length - 1];
      for (const phase of phases) {
        // A last phase that is not final repeats for as long as the probe is polled.
        const final = phase === 'Succeeded' || phase === 'Failed';
        fake.expect({ argv: k('-n', ns, 'get', 'pod', 'drydock-probe', '-o', 'jsonpath={.status.phase}'), result: { stdout: phase }, times: phase === last && !final ? Infinity : 1 });
      }
      if (last === 'Succeeded' || last === 'Failed') {
        fake.expect({ argv: k('-n', ns, 'logs', 'drydock-probe', '-c', 'probe'), result: { stdout: o.probeLog ?? ENFORCED } });
        fake.expect({ argv: k('-n', ns, 'delete', 'pod', 'drydock-probe', '--ignore-not-found', '--wait=false'), result: { stdout: 'pod "drydock-probe" deleted\n' } });
      }
    }
  }
  if (reaches('agent-ready')) {
    fake.expect({ argv: k('apply', '-f', '-'), ...applied.step() });
    fake.expect({ argv: k('-n', ns, 'wait', '--for=condition=Ready', 'pod/drydock-agent', timeout), ...(o.agentReady ?? { result: { stdout: 'pod/drydock-agent condition met\n' } }) });
  }
  if (reaches('exec')) {
    fake.expect({ argv: o.execArgv ?? ((a) => a.includes('exec')), ...(o.exec ?? { result: { code: 0 } }) });
  }
  fake.expect({ argv: deleteAgentArgv(o.id), ...(o.deleteAgent ?? { result: { stdout: 'pod "drydock-agent" deleted\n' } }) });
  fake.expect({ argv: proxyLogsArgv(o.id), ...(o.proxyLogs ?? { result: { stdout: PROXY_LOG } }) });
  fake.expect({
    argv: k('delete', 'namespace', '-l', `drydock.session in (${o.id})`, '--ignore-not-found', '--wait=false'),
    ...(o.deleteNamespace ?? { result: { stdout: `namespace "${ns}" deleted\n` } }),
  });
  return applied;
}
