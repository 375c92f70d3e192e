/**
 * What `run` (and `render`) need from lib/agent before anything is created: every agent setting
 * checked, the host's git identity read, the credential names to pass and the image build, so a
 * bad value fails before a session directory or a docker object exists.
 */
import { resolve } from 'node:path';
import type { Env } from '../context.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import type { Mode } from '../render/mode.js';
import { passedEnvNames } from './credentials.js';
import { hostGitIdentity, type GitIdentity } from './git-identity.js';
import { agentBuild, type AgentBuild } from './image.js';
import { agentSetup, type AgentRequest } from './setup.js';

export interface AgentFlags {
  allowRoot?: boolean;
  /** commander's `--no-persist` gives persist: false. */
  persist?: boolean;
  sshAgent?: boolean;
}

export interface AgentDeps {
  /** The host's git identity (default: `git config --global`). */
  gitIdentity?: () => Promise<GitIdentity>;
  hostIds?: { uid: number; gid: number };
}

export interface PreparedAgent {
  request: AgentRequest;
  /** Credential and DRYDOCK_PASS_ENV names set in drydock's environment, passed by name. */
  passEnv: string[];
  build: AgentBuild;
}

export async function prepareAgent(input: { env: Env; cwd: string; project: string; mode: Mode; flags: AgentFlags; deps?: AgentDeps; runner?: CommandRunner }): Promise<PreparedAgent> {
  const passEnv = passedEnvNames(input.env);
  const readIdentity = input.deps?.gitIdentity ?? (() => hostGitIdentity(input.runner ?? processRunner(input.env)));
  const request: AgentRequest = {
    ...(input.flags.allowRoot !== undefined && { allowRoot: input.flags.allowRoot }),
    ...(input.flags.persist !== undefined && { persist: input.flags.persist }),
    ...(input.flags.sshAgent !== undefined && { sshAgent: input.flags.sshAgent }),
    gitIdentity: await readIdentity(),
    ...(input.deps?.hostIds && { hostIds: input.deps.hostIds }),
  };
  // A dry run of the setup: it checks every variable and flag, and gives the user for the build.
  const { user } = agentSetup({ env: input.env, projectDir: resolve(input.cwd), project: input.project, mode: input.mode, request });
  return { request, passEnv, build: agentBuild(input.env, user) };
}
