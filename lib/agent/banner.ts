/** The agent's lines of the `run` banner: who it runs as, where its state lives, what it was handed. */
import type { RenderedSession } from '../render/session-files.js';

export function agentBannerLines(rendered: RenderedSession, passEnv: readonly string[]): string[] {
  const user = rendered.agentUser;
  const lines = [`drydock: agent runs as uid ${user.uid}:${user.gid} (${user.root ? 'ROOT, --allow-root' : user.source})`];
  lines.push(rendered.agentHome
    ? `drydock: agent state (its ~/.claude, ~/.claude.json, ~/.codex, history): ${rendered.agentHome} — clear it with: drydock state clear --project ${rendered.project}`
    : 'drydock: agent state: not kept (--no-persist): a fresh home for this session only');
  lines.push(`drydock: credentials passed by name: ${passEnv.length ? passEnv.join(', ') : 'none (set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN, or log in inside the session)'}`);
  if (rendered.extraCa) lines.push(`drydock: extra CA trusted: ${rendered.extraCa}`);
  return lines;
}
