/**
 * A filter generation's check host, `drydock-reload-<hex>.invalid` (lib/egress/session-egress.ts):
 * drydock's own probe that a live reload took. It is never the agent's traffic, so the log parser
 * leaves it out of what a session reached or was refused. No imports: the log parser stays light.
 */
const CHECK_HOST = /^drydock-reload-([0-9a-f]{8,32})\.invalid$/;

export function checkHostOf(generation: string): string {
  const host = `drydock-reload-${generation}.invalid`;
  if (!CHECK_HOST.test(host)) throw new Error(`drydock: invalid filter generation ${JSON.stringify(generation)}`);
  return host;
}

export function isCheckHost(host: string): boolean {
  return CHECK_HOST.test(host.toLowerCase().replace(/\.$/, ''));
}
