import { UsageError } from '../errors.js';
import type { Env } from '../context.js';

export type Mode = 'contain' | 'dood';

const MODES: readonly Mode[] = ['contain', 'dood'];

/**
 * `--mode`, else `$DRYDOCK_MODE`, else `contain`. A session runs in exactly one mode: asking for
 * both (or for something unknown) is refused rather than guessed, because guessing wrong could
 * mean an unjailed agent.
 */
export function resolveMode(flag: string | undefined, env: Env): Mode {
  const fromEnv = env.DRYDOCK_MODE === undefined || env.DRYDOCK_MODE === '' ? undefined : env.DRYDOCK_MODE;
  const raw = flag ?? fromEnv;
  const source = flag !== undefined ? '--mode' : 'DRYDOCK_MODE';
  if (raw === undefined) return 'contain';
  if ((MODES as readonly string[]).includes(raw)) return raw as Mode;
  const asksForBoth = raw === 'both' || raw === 'all' || /[,+\s|&]/.test(raw.trim());
  if (asksForBoth) {
    throw new UsageError(`${source}: "${raw}" asks for more than one mode; a session runs in exactly one`, {
      hint: 'use --mode contain (egress jail) or --mode dood (docker.sock, host network), one session each',
    });
  }
  throw new UsageError(`${source}: unknown mode "${raw}"`, {
    hint: 'use contain (egress jail, the default) or dood (docker.sock, host network)',
  });
}
