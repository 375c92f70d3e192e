/**
 * Schema validation of rendered Kubernetes objects with kubernetes-models (the Kubernetes OpenAPI
 * schemas as precompiled validators: nothing is compiled at run time), plus what those schemas do
 * not check and the API server would: DNS-1123 names, label keys and values, the ConfigMap size
 * limit. Only the kubernetes target loads this module.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ExternalError, UsageError, errorMessage } from '../errors.js';
import type { KubernetesObject } from './manifests.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, labelKeyProblem, labelValueProblem } from './names.js';

/** The API server refuses a ConfigMap whose data exceeds 1 MiB (etcd's object limit, less overhead). */
export const CONFIG_MAP_MAX_BYTES = 1024 * 1024;

const MODELS: Record<string, (data: never) => { validate(): void }> = {
  Namespace: (d) => new Namespace(d),
  NetworkPolicy: (d) => new NetworkPolicy(d),
  ConfigMap: (d) => new ConfigMap(d),
  Pod: (d) => new Pod(d),
  Service: (d) => new Service(d),
};

/** Every name and label drydock gives, as the API server would check it. */
export function nameProblems(object: KubernetesObject): string[] {
  const meta = object.metadata ?? {};
  const subject = `${object.kind} ${meta.name ?? '(unnamed)'}`;
  const problems: string[] = [];
  const name = meta.name ?? '';
  // Namespaces and Services must be DNS-1123 labels; the other kinds here, subdomains.
  const nameProblem = object.kind === 'Namespace' || object.kind === 'Service' ? dns1123LabelProblem(name) : dns1123SubdomainProblem(name);
  if (nameProblem) problems.push(`${subject}: the name ${nameProblem}`);
  if (meta.namespace !== undefined) {
    const p = dns1123LabelProblem(meta.namespace);
    if (p) problems.push(`${subject}: the namespace "${meta.namespace}" ${p}`);
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    const k = labelKeyProblem(key);
    if (k) problems.push(`${subject}: label key "${key}": ${k}`);
    const v = labelValueProblem(value);
    if (v) problems.push(`${subject}: label ${key}="${value}": the value ${v}`);
  }
  if (object.kind === 'Pod') {
    for (const container of object.spec?.containers ?? []) {
      const p = dns1123LabelProblem(container.name);
      if (p) problems.push(`${subject}: container name "${container.name}" ${p}`);
    }
  }
  if (object.kind === 'ConfigMap') {
    const bytes = Object.entries(object.data ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (bytes > CONFIG_MAP_MAX_BYTES) problems.push(`${subject}: ${bytes} bytes of data, over the API server's limit of ${CONFIG_MAP_MAX_BYTES}`);
  }
  return problems;
}

/**
 * Throws before anything is written or applied. A schema error is a drydock bug: exit 3. A name
 * problem comes from the user's input (the project name, the allowlist's size): exit 2 with the fix.
 */
export function validateKubernetesObjects(objects: readonly KubernetesObject[], label: string): void {
  for (const object of objects) {
    const model = MODELS[object.kind];
    if (!model) throw new ExternalError(`${label}: drydock has no schema for kind ${object.kind}`, { hint: 'this is a drydock bug: please report it' });
    try {
      model(object as never).validate();
    } catch (error) {
      throw new ExternalError(`${label}: ${object.kind} ${object.metadata?.name ?? ''} is not a valid Kubernetes object: ${errorMessage(error)}`, {
        hint: 'this is a drydock bug: nothing was written or applied; please report it with `drydock render --target kubernetes --out DIR`',
      });
    }
  }
  // After the schemas, so every name is a string here; what fails now came from the user's input.
  const problems = objects.flatMap(nameProblems);
  if (problems.length > 0) {
    throw new UsageError(`${label}: ${problems.slice(0, 5).join('; ')}`, {
      hint: 'a shorter --project of lowercase letters, digits and "-", or a smaller allowlist, fixes these; nothing was written',
    });
  }
}
