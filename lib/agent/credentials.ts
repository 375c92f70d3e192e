/**
 * Credentials reach the agent by NAME only: `docker exec -e NAME` makes the docker CLI read the
 * value from its own environment (inherited from drydock's) and send it over the engine socket.
 * The value is never in an argv, a compose file or anything else drydock writes.
 */
import type { Env } from '../context.js';
import { UsageError } from '../errors.js';

/** Always handed over when set: the model APIs' keys and Claude Code's subscription token. */
export const CREDENTIAL_NAMES = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN', 'OPENAI_API_KEY'] as const;
export const PASS_ENV_VARIABLE = 'DRYDOCK_PASS_ENV';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Names drydock sets itself to build the jail or the session: passing the user's value would undo
 * them (a proxy variable pointing elsewhere, a HOME outside the persisted state).
 */
const RESERVED = /^(HTTPS?_PROXY|https?_proxy|ALL_PROXY|all_proxy|NO_PROXY|no_proxy|HOME|USER|PATH|SSH_AUTH_SOCK|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|GIT_SSL_CAINFO|GIT_CONFIG_.*|DRYDOCK_.*)$/;

/** The names in DRYDOCK_PASS_ENV (comma or space separated), checked; bad input is refused. */
export function userPassNames(env: Env): string[] {
  const raw = env[PASS_ENV_VARIABLE] ?? '';
  const names = raw.split(/[\s,]+/).filter((n) => n !== '');
  for (const name of names) {
    if (name.includes('=')) {
      throw new UsageError(`${PASS_ENV_VARIABLE}: "${name.slice(0, name.indexOf('='))}=…" holds a value; it takes names only`, {
        hint: `export the variable in your shell and list only its name: ${PASS_ENV_VARIABLE}=${name.slice(0, name.indexOf('='))}`,
      });
    }
    if (!NAME.test(name)) {
      throw new UsageError(`${PASS_ENV_VARIABLE}: "${name}" is not an environment variable name`, {
        hint: `list names such as GITHUB_TOKEN,NPM_TOKEN (letters, digits, _), separated by commas`,
      });
    }
    if (RESERVED.test(name)) {
      throw new UsageError(`${PASS_ENV_VARIABLE}: ${name} is set by drydock itself and cannot be passed from the host`, {
        hint: `remove ${name} from ${PASS_ENV_VARIABLE}`,
      });
    }
  }
  return names;
}

/** The names to hand over this session: the fixed set plus the user's, those set and non-empty, once each. */
export function passedEnvNames(env: Env): string[] {
  const wanted = [...CREDENTIAL_NAMES, ...userPassNames(env)];
  return [...new Set(wanted)].filter((name) => (env[name] ?? '') !== '');
}
