/**
 * The files drydock trusts on the host — the allowlists, the config dir, the state dir (session
 * files, compose files, persistent agent state) — must not be writable by the agent. The agent can
 * write exactly one host directory: the project, mounted at /workspace. So each trusted path is
 * resolved to its real path (through every symlink) and refused when it lies inside the project,
 * or when it is a file with a second hard link (which could sit inside the project under another
 * name). Pure apart from the two injected look-ups, so every case is tested without a filesystem.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

export interface TrustedPath {
  /** What it is, in the words of the message: "config dir", "project allowlist", … */
  role: string;
  path: string;
  /** The variable that moves it, for the fix. */
  setting?: string;
}

export interface UntrustedPath extends TrustedPath {
  /** The path with every symlink resolved (of its deepest existing ancestor, for a missing path). */
  realPath: string;
  reason: 'inside-project' | 'hard-linked';
  /** One line: what is wrong and how to fix it. */
  message: string;
}

export interface PathLookups {
  /** realpath(3) of an existing path; throws ENOENT when it does not exist. */
  realpath: (path: string) => string;
  /** The link count of a regular file, or undefined for anything else (or a missing path). */
  regularFileLinks: (path: string) => number | undefined;
}

export const hostLookups: PathLookups = {
  realpath: (path) => realpathSync(path),
  regularFileLinks: (path) => {
    try {
      const stat = lstatSync(path);
      return stat.isFile() ? stat.nlink : undefined;
    } catch {
      return undefined;
    }
  },
};

/**
 * The real path of `path`, also when it does not exist yet: the deepest existing ancestor is
 * resolved and the missing rest appended (a missing file under a symlinked dir resolves through it).
 */
export function realPathOf(path: string, lookups: PathLookups): string {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(lookups.realpath(current), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = dirname(current);
      if (parent === current) return join(current, ...missing.reverse());
      missing.push(basename(current));
      current = parent;
    }
  }
}

export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/** Every trusted path that the agent could write through the project directory. */
export function untrustedPaths(options: { projectDir: string; paths: readonly TrustedPath[]; lookups?: PathLookups }): UntrustedPath[] {
  const lookups = options.lookups ?? hostLookups;
  const project = realPathOf(options.projectDir, lookups);
  const found: UntrustedPath[] = [];
  const moveIt = (p: TrustedPath) => (p.setting ? `set ${p.setting} to a path outside it` : 'move it outside the project');
  for (const p of options.paths) {
    const realPath = realPathOf(p.path, lookups);
    if (isWithin(realPath, project)) {
      const via = realPath === resolve(p.path) ? '' : ` (through a symlink: ${realPath})`;
      found.push({
        ...p, realPath, reason: 'inside-project',
        message: `the ${p.role} ${p.path}${via} is inside the project directory ${project}, which the agent can write — ${moveIt(p)}, or run drydock from the project directory itself`,
      });
      continue;
    }
    const links = lookups.regularFileLinks(realPath);
    if (links !== undefined && links > 1) {
      found.push({
        ...p, realPath, reason: 'hard-linked',
        message: `the ${p.role} ${p.path} has ${links} hard links; one may be inside the project, where the agent can write it — replace it with a copy (cp --remove-destination) that has one link`,
      });
    }
  }
  return found;
}

/** The paths drydock trusts for a session of `project`: what decides the filter, and where sessions live. */
export function trustedPathsOf(locations: { configDir: string; stateDir: string; baseline: string; userAllowlists: readonly string[] }): TrustedPath[] {
  return [
    { role: 'config dir', path: locations.configDir, setting: 'DRYDOCK_CONFIG_DIR' },
    { role: 'state dir', path: locations.stateDir, setting: 'DRYDOCK_STATE_DIR' },
    { role: 'baseline allowlist', path: locations.baseline, setting: 'DRYDOCK_BASELINE' },
    ...locations.userAllowlists.map((path) => ({ role: 'allowlist', path, setting: 'DRYDOCK_CONFIG_DIR' })),
  ];
}
