/**
 * A proxy client that sends bytes exactly as written (no URL parsing, no header fixing), so attack
 * requests reach tinyproxy as the attacker would write them.
 */
import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the proxy sent back (latin1), including a tunnelled echo. */
  response: string;
  /** The status code of the proxy's first response line, if there was one. */
  status?: number;
  /** The proxy closed the connection (rather than the client giving up). */
  closedByProxy: boolean;
}

export interface RawRequestOptions {
  port: number;
  host?: string;
  /** The request, byte for byte (latin1). */
  request: string;
  /** After a `200` to a CONNECT, send this through the tunnel and wait for the echo. */
  tunnelPayload?: string;
  timeoutMs?: number;
}

const statusOf = (text: string): number | undefined => {
  const match = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
};

export function rawRequest(options: RawRequestOptions): Promise<RawExchange> {
  const { port, host = '127.0.0.1', request, tunnelPayload, timeoutMs = 3000 } = options;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let response = '';
    let tunnelSent = false;
    let settled = false;
    const finish = (closedByProxy: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, status: statusOf(response), closedByProxy });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(request, 'latin1'));
    socket.on('data', (chunk: string) => {
      response += chunk;
      if (tunnelPayload === undefined || statusOf(response) !== 200) return;
      const headEnd = response.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      if (!tunnelSent) {
        tunnelSent = true;
        socket.write(tunnelPayload, 'latin1');
      } else if (response.slice(headEnd + 4).includes(tunnelPayload)) {
        finish(false);
      }
    });
    socket.once('end', () => finish(true));
    socket.once('close', () => finish(true));
    socket.once('error', (error) => {
      if (settled) return;
      if (response === '') {
        settled = true;
        clearTimeout(timer);
        reject(error);
      } else finish(true);
    });
  });
}

/** The part of a response after the first blank line: an HTTP body or the tunnel's echo. */
export function bodyOf(exchange: RawExchange): string {
  const headEnd = exchange.response.indexOf('\r\n\r\n');
  return headEnd < 0 ? '' : exchange.response.slice(headEnd + 4);
}
