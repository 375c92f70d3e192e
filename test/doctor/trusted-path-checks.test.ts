import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trustedPathChecks } from '../../lib/doctor/trusted-path-checks.js';
import { trustedPathsOf } from '../../lib/workspace/trusted-paths.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('doctor: agent-writable config', () => {
  const root = tempDir('doctor-ws');
  const project = join(root, 'app');
  mkdirSync(project);
  it('passes when everything is outside the project', () => {
    const checks = trustedPathChecks({ projectDir: project, paths: trustedPathsOf({ configDir: join(root, 'config'), stateDir: join(root, 'state'), baseline: join(root, 'baseline'), userAllowlists: [] }) });
    expect(checks).toMatchObject([{ status: 'pass', name: 'agent-writable config' }]);
  });
  it('fails, with the fix, for a config dir inside the project', () => {
    const checks = trustedPathChecks({ projectDir: project, paths: trustedPathsOf({ configDir: join(project, '.drydock'), stateDir: join(root, 'state'), baseline: join(root, 'baseline'), userAllowlists: [join(project, '.drydock', 'egress-allowlist')] }) });
    expect(checks.map((c) => `${c.status} ${c.name}`)).toEqual(['fail agent-writable config dir', 'fail agent-writable allowlist']);
    expect(checks[0]!.fix).toMatch(/set DRYDOCK_CONFIG_DIR to a path outside it/);
  });
});
