import { describe, expect, it } from 'vitest';
import { hostGitIdentity, renderGitconfig } from '../../lib/agent/git-identity.js';
import { FakeRunner } from '../helpers/fake-runner.js';

describe('the host\'s git identity', () => {
  it('is read from the global config only, from /, never from the project\'s .git/config', async () => {
    const fake = new FakeRunner()
      .expect({ argv: ['git', 'config', '--global', '--get', 'user.name'], result: (_a, o) => ({ stdout: o?.cwd === '/' ? 'Ada "Countess" L\\\n' : 'WRONG CWD\n' }) })
      .expect({ argv: ['git', 'config', '--global', '--get', 'user.email'], result: { code: 1 } });
    expect(await hostGitIdentity(fake)).toEqual({ name: 'Ada "Countess" L\\' });
  });

  it('is a quoted, escaped gitconfig, or nothing', () => {
    expect(renderGitconfig({ name: 'Ada "C" L\\', email: 'a@x.test\n[core]' })).toBe(
      '# drydock: the host user\'s git identity (git config --global). Generated; do not edit.\n[user]\n\tname = "Ada \\"C\\" L\\\\"\n\temail = "a@x.test[core]"\n',
    );
    expect(renderGitconfig({})).toBeUndefined();
  });
});
