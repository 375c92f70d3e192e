import { describe, expect, it } from 'vitest';
import { ExitCode, ExternalError, UsageError } from '../../lib/errors.js';
import { agentPod, probePod, proxySideObjects, type KubernetesObject } from '../../lib/kubernetes/manifests.js';
import {
  assertKubernetesSessionId,
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  labelKeyProblem,
  labelValueProblem,
} from '../../lib/kubernetes/names.js';
import { CONFIG_MAP_MAX_BYTES, nameProblems, validateKubernetesObjects } from '../../lib/kubernetes/validate.js';
import { k8sSpec } from './spec.js';

const rendered = (): KubernetesObject[] => structuredClone([...proxySideObjects(k8sSpec()), probePod(k8sSpec(), '10.96.0.42'), agentPod(k8sSpec(), '10.96.0.42')]);

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('DNS-1123 and label checks', () => {
  it.each([
    ['drydock-demo-1a2b', true],
    ['a', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['Demo', false],
    ['my_app', false],
    ['-a', false],
    ['a-', false],
    ['a.b', false],
    ['', false],
  ])('label %j valid: %s', (name, ok) => {
    expect(dns1123LabelProblem(name) === undefined).toBe(ok);
  });

  it.each([
    ['drydock-egress-config', true],
    ['a.b-c.d', true],
    ['a..b', false],
    ['a.-b', false],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}`, true],
    ['a'.repeat(254), false],
  ])('subdomain %j valid: %s', (name, ok) => {
    expect(dns1123SubdomainProblem(name) === undefined).toBe(ok);
  });

  it('checks label keys and values as the API server does', () => {
    expect(labelKeyProblem('drydock.session')).toBeUndefined();
    expect(labelKeyProblem('pod-security.kubernetes.io/enforce')).toBeUndefined();
    expect(labelKeyProblem('Bad_Prefix/x')).toMatch(/prefix/);
    expect(labelKeyProblem(`${'a'.repeat(64)}`)).toMatch(/1 to 63/);
    expect(labelValueProblem('my_app.v2')).toBeUndefined();
    expect(labelValueProblem('')).toBeUndefined();
    expect(labelValueProblem('-x')).toMatch(/starting and ending/);
    expect(labelValueProblem('a'.repeat(64))).toMatch(/at most 63/);
  });

  it('refuses a session id whose namespace name is not a DNS-1123 label, with the fix', () => {
    expect(() => assertKubernetesSessionId('demo-1a2b')).not.toThrow();
    const error = thrown(() => assertKubernetesSessionId('my_app-1a2b'));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).hint).toMatch(/--project .* at most 50 characters/);
  });
});

describe('validateKubernetesObjects', () => {
  it('accepts every rendered object', () => {
    expect(() => validateKubernetesObjects(rendered(), 'test')).not.toThrow();
  });

  it('refuses a schema error as a drydock bug (exit 3), naming the field', () => {
    const objects = rendered();
    const pod = objects.find((o) => o.kind === 'Pod')! as unknown as { spec: { securityContext: Record<string, unknown> } };
    pod.spec.securityContext.runAsUser = 'root';
    const error = thrown(() => validateKubernetesObjects(objects, 'test'));
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).message).toMatch(/Pod drydock-egress is not a valid Kubernetes object: .*securityContext\/runAsUser must be integer/);
  });

  it('refuses a missing required field (a container without a name)', () => {
    const objects = rendered();
    const agent = objects.find((o) => o.metadata?.name === 'drydock-agent') as unknown as { spec: { containers: Array<Record<string, unknown>> } };
    delete agent.spec.containers[0]!.name;
    expect(() => validateKubernetesObjects(objects, 'test')).toThrow(/Pod drydock-agent is not a valid Kubernetes object: data\/spec\/containers\/0 must have required property name/);
  });

  it('refuses names and labels the API server would, as bad input (exit 2)', () => {
    const objects = rendered();
    objects[0]!.metadata!.labels!['drydock.project'] = `x${'y'.repeat(63)}`;
    const error = thrown(() => validateKubernetesObjects(objects, 'test'));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((error as UsageError).message).toMatch(/Namespace drydock-demo-1a2b: label drydock.project="xy+": the value is 64 characters long/);
  });

  it('refuses a ConfigMap over the API server\'s size limit', () => {
    const big = proxySideObjects(k8sSpec({ egressFiles: { 'egress-filter': 'x'.repeat(CONFIG_MAP_MAX_BYTES), 'tinyproxy.conf': 'Port 8888\n' } }));
    expect(big.flatMap(nameProblems).join('\n')).toMatch(/ConfigMap drydock-egress-config: \d+ bytes of data, over the API server's limit/);
  });
});
