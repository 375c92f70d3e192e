/**
 * Fail closed: a sidecar that never becomes healthy means no agent, a non-zero exit with a clear
 * message, and nothing left behind. The "deaf" sidecar image runs drydock's own healthcheck but
 * never listens, like a proxy that crashed or hangs on start.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { BASE_IMAGE, REPO, containersOf, drydock, dumpDiagnostics, makeSandbox, networksOf, report, sessionDirs, type Sandbox } from './helpers/drydock.js';
import { describeE2E, dockerOk } from './helpers/engine.js';
import { recordEvents } from './helpers/events.js';
import { tempDir } from '../helpers/temp-dir.js';

const DEAF_IMAGE = 'drydock-e2e-deaf-egress:latest';

describeE2E('a sidecar that never becomes healthy', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    const context = tempDir('e2e-deaf');
    copyFileSync(join(REPO, 'templates/egress/drydock-egress-healthcheck'), join(context, 'drydock-egress-healthcheck'));
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        `FROM ${BASE_IMAGE}`,
        'COPY drydock-egress-healthcheck /usr/local/bin/drydock-egress-healthcheck',
        'RUN chmod 0755 /usr/local/bin/drydock-egress-healthcheck',
        'USER 10001:10001',
        // Says where the proxy would listen, then never listens.
        `ENTRYPOINT ["bash", "-c", "echo 127.0.0.1 > /tmp/drydock-listen; echo 'deaf: not listening' >&2; exec sleep infinity"]`,
        '',
      ].join('\n'),
    );
    try {
      await dockerOk(['build', '-q', '-t', DEAF_IMAGE, context]);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    sb = makeSandbox({ project: 'e2e-deaf', allowlist: ['allowed.test'], env: { DRYDOCK_EGRESS_IMAGE: DEAF_IMAGE } });
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('never starts the agent, exits non-zero saying why, and leaves no container, network or half-run session behind', async () => {
    const events = await recordEvents(`drydock.project=${sb.project}`);
    const result = await drydock(sb, ['run', '--project', sb.project, '--', 'bash', '-c', 'echo AGENT-RAN']);
    const seen = await events.stop();
    report('fail closed: drydock run → gives up on a sidecar that never listens', result.ms);

    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).not.toContain('AGENT-RAN');
    expect(result.stderr).toMatch(/sidecar never became healthy/);
    expect(result.stderr).toMatch(/agent was not started/);

    // The engine's own record: the sidecar started, the agent container never did.
    const started = seen.filter((e) => e.action === 'start');
    expect(started.map((e) => e.labels['drydock.role'])).toContain('egress');
    expect(started.filter((e) => e.labels['drydock.role'] === 'agent')).toEqual([]);

    expect(await containersOf({ project: sb.project })).toEqual([]);
    expect(await networksOf({ project: sb.project })).toEqual([]);
    // The session dir stays for the post-mortem (its egress.log), and says how the session ended.
    const [session] = sessionDirs(sb);
    expect(session).toBeDefined();
  });
});
