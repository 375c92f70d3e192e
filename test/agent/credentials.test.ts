import { describe, expect, it } from 'vitest';
import { CREDENTIAL_NAMES, passedEnvNames, userPassNames } from '../../lib/agent/credentials.js';
import { UsageError } from '../../lib/errors.js';

describe('credentials by name', () => {
  it('passes the fixed set and the user\'s names that are set, each once, never the values', () => {
    const env = { ANTHROPIC_API_KEY: 'sk-secret', OPENAI_API_KEY: '', GITHUB_TOKEN: 'ghp', NPM_TOKEN: undefined, DRYDOCK_PASS_ENV: 'GITHUB_TOKEN, NPM_TOKEN,ANTHROPIC_API_KEY' };
    expect(passedEnvNames(env)).toEqual(['ANTHROPIC_API_KEY', 'GITHUB_TOKEN']);
    expect(CREDENTIAL_NAMES).toEqual(['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN', 'OPENAI_API_KEY']);
  });

  it.each([
    ['GITHUB_TOKEN=ghp_x', /holds a value; it takes names only/],
    ['1BAD', /not an environment variable name/],
    ['HTTPS_PROXY', /set by drydock itself/],
    ['HOME', /set by drydock itself/],
    ['DRYDOCK_MODE', /set by drydock itself/],
  ])('refuses DRYDOCK_PASS_ENV=%s', (value, message) => {
    expect(() => userPassNames({ DRYDOCK_PASS_ENV: value })).toThrow(UsageError);
    expect(() => userPassNames({ DRYDOCK_PASS_ENV: value })).toThrow(message);
  });

  it('never echoes a value it refuses', () => {
    let message = '';
    try {
      userPassNames({ DRYDOCK_PASS_ENV: 'TOKEN=s3cr3t-value' });
    } catch (error) {
      message = `${(error as UsageError).message} ${(error as UsageError).hint}`;
    }
    expect(message).toContain('TOKEN');
    expect(message).not.toContain('s3cr3t');
  });
});
