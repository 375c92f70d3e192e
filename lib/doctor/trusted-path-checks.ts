/** Doctor's view of the trusted paths: the same refusal `run` makes, as checks with their fix. */
import { fail, pass, type Check } from './checks.js';
import type { TrustedPath } from '../workspace/trusted-paths.js';
import { untrustedPaths } from '../workspace/trusted-paths.js';

export function trustedPathChecks(options: { projectDir: string; paths: readonly TrustedPath[] }): Check[] {
  const found = untrustedPaths(options);
  if (found.length === 0) return [pass('agent-writable config', `no allowlist, config or state path is inside the project ${options.projectDir}`)];
  return found.map((f) => {
    const [what, fix] = f.message.split(' — ');
    return fail(`agent-writable ${f.role}`, what!, fix ?? 'move it outside the project');
  });
}
