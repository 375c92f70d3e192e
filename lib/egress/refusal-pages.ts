/**
 * The pages the sidecar's tinyproxy serves when it refuses a request, so that the refusal the
 * agent sees explains itself: what was refused, why, and the exact command that would allow it.
 * Pure: session in, one page per HTTP status out (tinyproxy's `ErrorFile <status> "<path>"`).
 *
 * tinyproxy 1.11 (src/html-error.c) reads the page file at each refusal and replaces `{name}`
 * with what it knows of the request: {url} (CONNECT: `host:port`; plain HTTP: the URL), {cause}
 * (403 "Filtered" when the filter refused it, 403 "Access violation" when no ConnectPort allows the
 * port), {detail}, {request} (the request line), {errno} (the status), {clientip}, {date}. It
 * escapes nothing and has no conditionals, so one page per status must read true for every
 * refusal that status is used for; the reasons are therefore listed by tinyproxy's own {cause}.
 * The destination is the agent's own text: the page says so before the command that names it.
 *
 * Other refusals get their status's page by adding a RefusalKind (a resolver that refuses private
 * answers, for one, makes tinyproxy answer 500 "Unable to connect").
 */

export interface RefusalKind {
  /** The HTTP status tinyproxy answers with. */
  status: number;
  /** One line per reason this status can mean, each led by the {cause} tinyproxy gives it. */
  reasons: readonly string[];
  /** Whether an allowlist entry could allow the destination (then the page gives the command). */
  allowable: boolean;
}

export const FILTER_REFUSAL: RefusalKind = {
  status: 403,
  reasons: [
    '"Filtered": not on the allowlist: no entry allows this host (with this port)',
    '"Access violation": port not allowed: no entry allows CONNECT to this port',
    'an IP address cannot be allowed at all: drydock allows host names only',
  ],
  allowable: true,
};

/**
 * tinyproxy answers 500 "Unable to connect" when it cannot reach an allowed destination: the name
 * does not resolve, the server does not answer, or the address floor (the sidecar's resolver,
 * address-floor.ts) refused the answer because it held a private or local address. No entry of
 * the ordinary kind can help, so the page gives no command; `egress log` tells which it was.
 */
export const CONNECT_FAILURE: RefusalKind = {
  status: 500,
  reasons: [
    '"Unable to connect": the name resolved to a private or local address (loopback, RFC 1918, link-local and cloud metadata, CGNAT, ULA, multicast, IPv4 inside IPv6, the Docker host\'s own networks), which the address floor refuses; only RFC 1918 and ULA can be opted in, by the user, with a `private:HOST` allowlist entry',
    '"Unable to connect": the name does not resolve',
    '"Unable to connect": the server did not answer',
  ],
  allowable: false,
};

/** Every refusal page a contained session serves; a later refusal kind adds itself here. */
export const REFUSAL_KINDS: readonly RefusalKind[] = [FILTER_REFUSAL, CONNECT_FAILURE];

export interface RefusalPageContext {
  sessionId: string;
  project: string;
}

export interface RefusalPage {
  status: number;
  /** File name inside the session's egress directory. */
  file: string;
  content: string;
}

/** `drydock allowlist add` for this session's project list: what the page tells the user to run. */
export function allowCommand(project: string, destination: string): string {
  return `drydock allowlist add --project ${project} ${destination}`;
}

export function refusalPage(kind: RefusalKind, ctx: RefusalPageContext): RefusalPage {
  const lines = [
    `drydock refused {url} ({errno} {cause})`,
    `This session (${ctx.sessionId}, project ${ctx.project}) reaches only the destinations on its egress allowlist.`,
    'Why, by the cause above:',
    ...kind.reasons.map((reason) => `  - ${reason}`),
  ];
  if (!kind.allowable) {
    lines.push(`\`drydock egress log ${ctx.sessionId}\` on the host says which it was for each refusal.`);
  }
  if (kind.allowable) {
    lines.push(
      'To allow it, ask the user to run this on the host (the running session is updated within seconds; then retry):',
      `  ${allowCommand(ctx.project, '{url}')}`,
      'For a plain-HTTP URL add only its http://HOST[:PORT] part. The destination is what the request said:',
      `check it before running the command. \`drydock egress log --follow ${ctx.sessionId}\` prints the checked command for each refusal.`,
    );
  }
  const body = lines.map((line) => `${line}\n`).join('');
  // tinyproxy sends `Content-Type: text/html`; <pre> keeps the lines as written for a browser,
  // and the text reads the same to an agent that prints the raw body.
  const content = `<!DOCTYPE html>\n<html><head><title>{errno} {cause}: refused by drydock</title></head><body><pre>\n${body}</pre></body></html>\n`;
  return { status: kind.status, file: `refused-${kind.status}.html`, content };
}

export function refusalPages(ctx: RefusalPageContext, kinds: readonly RefusalKind[] = REFUSAL_KINDS): RefusalPage[] {
  return kinds.map((kind) => refusalPage(kind, ctx));
}
