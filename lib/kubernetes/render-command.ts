/**
 * `drydock render --target kubernetes --out DIR [--proxy-ip ADDR]`: the manifests `run --target
 * kubernetes` would apply, written for review or for applying by hand.
 */
import { resolve } from 'node:path';
import type { CommandContext, CommandResult } from '../context.js';
import { ExitCode } from '../errors.js';
import { newSessionId, validateSessionId } from '../session/id.js';
import { resolveSettings } from '../settings.js';
import { PROXY_SERVICE } from './names.js';
import { assertContainedMode, assertProxyAddress, checkedDocuments, kubernetesSession, writeManifests } from './render.js';

export interface KubernetesRenderOptions {
  mode?: string;
  project?: string;
  session?: string;
  out: string;
  observe?: boolean;
  proxyIp?: string;
}

export async function renderKubernetes(opts: KubernetesRenderOptions, ctx: CommandContext): Promise<CommandResult> {
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, mode: opts.mode, project: opts.project });
  assertContainedMode(settings);
  const sessionId = opts.session !== undefined ? validateSessionId(opts.session) : newSessionId(settings.project);
  const proxyAddress = opts.proxyIp !== undefined ? assertProxyAddress(opts.proxyIp) : undefined;
  const session = kubernetesSession({ settings, observe: !!opts.observe, sessionId });
  for (const warning of session.warnings) ctx.err(warning);
  const docs = checkedDocuments(session.spec, proxyAddress);
  const outDir = resolve(ctx.cwd, opts.out);
  const files = writeManifests(session.spec, docs, outDir);

  if (!ctx.json) {
    const lines = [`rendered session ${sessionId} (kubernetes${opts.observe ? ', observe: NOT a jail' : ''}) into ${outDir}`];
    for (const path of Object.values(files)) lines.push(`  ${path}`);
    lines.push(`apply with: kubectl apply -f ${files.proxy}`);
    if (!files.agent) {
      lines.push(
        'the agent and probe Pods pin the proxy Service\'s ClusterIP (they have no DNS); once the proxy side is applied, render them with:',
        `  drydock render --target kubernetes --session ${sessionId} --out ${outDir} --proxy-ip "$(kubectl -n ${session.namespace} get service ${PROXY_SERVICE} -o jsonpath='{.spec.clusterIP}')"`,
      );
    }
    lines.push('`drydock run --target kubernetes` does all of it, and first checks that the cluster enforces NetworkPolicy');
    ctx.out(lines.join('\n'));
  }
  return {
    exitCode: ExitCode.Ok,
    data: { sessionId, target: 'kubernetes', namespace: session.namespace, observe: !!opts.observe, outDir, files, proxyAddress: proxyAddress ?? null },
  };
}
