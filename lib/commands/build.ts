/** `drydock build`: (re)build the default agent image, e.g. to pin or update Claude Code. */
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { ExitCode } from '../errors.js';
import { agentBuild, describeBuild } from '../agent/image.js';
import { resolveAgentUser } from '../agent/user.js';
import { DEFAULT_AGENT_IMAGE, agentImage } from '../render/images.js';
import { statSync } from 'node:fs';

export interface BuildOptions {
  claudeCodeVersion?: string;
  codexVersion?: string;
  /** commander's `--no-cache` gives cache: false. */
  cache?: boolean;
  json?: boolean;
}

function ownerOf(dir: string): { uid: number; gid: number } | undefined {
  try {
    const stat = statSync(dir);
    return { uid: stat.uid, gid: stat.gid };
  } catch {
    return undefined;
  }
}

export async function build(opts: BuildOptions, ctx: CommandContext, deps: { runner?: CommandRunner; hostIds?: { uid: number; gid: number } } = {}): Promise<CommandResult> {
  const ids = deps.hostIds ?? { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
  // The same user `run` would pick here; --allow-root is irrelevant to the image's own user.
  const user = resolveAgentUser({ env: ctx.env, hostUid: ids.uid, hostGid: ids.gid, projectOwner: ownerOf(ctx.cwd), allowRootFlag: true });
  const spec = agentBuild(ctx.env, user, { claudeCode: opts.claudeCodeVersion, codex: opts.codexVersion });
  if (agentImage(ctx.env) !== DEFAULT_AGENT_IMAGE) {
    ctx.err(`drydock: warning: DRYDOCK_AGENT_IMAGE=${agentImage(ctx.env)} is set: sessions use that image, not the ${DEFAULT_AGENT_IMAGE} built now`);
  }
  ctx.err(`drydock: building ${describeBuild(spec)}…`);
  const docker = new Docker(deps.runner ?? processRunner(ctx.env));
  await docker.buildImage({ tag: spec.tag, contextDir: spec.contextDir, buildArgs: spec.buildArgs, noCache: opts.cache === false });
  if (!ctx.json) ctx.out(`built ${spec.tag}`);
  return { exitCode: ExitCode.Ok, data: { image: spec.tag, contextDir: spec.contextDir, buildArgs: spec.buildArgs } };
}
