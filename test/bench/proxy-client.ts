/**
 * Raw proxy clients and the loopback upstream for the proxy benchmark. Requests are written byte
 * for byte on a net.Socket (no HTTP agent, no pooling): each request is a fresh connection, which
 * is what an agent's tools do through tinyproxy, and what makes tinyproxy run its filter.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { nowMs } from './stats.js';

export interface ProxyTarget {
  proxyHost: string;
  proxyPort: number;
  host: string;
  port: number;
}

export interface RequestOutcome {
  ok: boolean;
  status: number;
  ms: number;
  /** What came back from the upstream through the proxy (the banner or the HTTP body). */
  body: string;
}

const TIMEOUT_MS = 10_000;

/** Open a connection, write `request`, collect until the peer closes; `onData` may end early. */
function exchange(
  target: ProxyTarget,
  request: string,
  onData: (received: string, socket: Socket) => boolean,
): Promise<{ received: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = nowMs();
    let received = '';
    let done = false;
    const socket = connect({ host: target.proxyHost, port: target.proxyPort });
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      const ms = nowMs() - start;
      socket.destroy();
      if (error) reject(error);
      else resolve({ received, ms });
    };
    socket.setNoDelay(true);
    socket.setTimeout(TIMEOUT_MS, () => finish(new Error(`timeout after ${TIMEOUT_MS} ms: ${request.split('\r\n')[0]}`)));
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (onData(received, socket)) finish();
    });
    socket.on('end', () => finish());
    socket.on('error', (error) => finish(error));
  });
}

function statusOf(received: string): number {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
  return match ? Number(match[1]) : 0;
}

/**
 * CONNECT host:port, then one round trip through the tunnel: the upstream greets with a banner
 * line, so a 200 alone (tinyproxy answers it before the tunnel carries anything) is not success.
 */
export async function connectThrough(target: ProxyTarget, expectBanner: string): Promise<RequestOutcome> {
  const authority = `${target.host}:${target.port}`;
  const request = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
  const { received, ms } = await exchange(target, request, (text) => {
    const head = text.indexOf('\r\n\r\n');
    if (head < 0) return false;
    if (statusOf(text) !== 200) return true;
    return text.slice(head + 4).includes('\n');
  });
  const status = statusOf(received);
  const body = received.slice(received.indexOf('\r\n\r\n') + 4);
  return { ok: status === 200 && body.startsWith(expectBanner), status, ms, body };
}

/** GET http://host[:port]/ as an absolute URI, the way HTTP_PROXY clients send plain HTTP. */
export async function getThrough(target: ProxyTarget, expectBody: string): Promise<RequestOutcome> {
  const authority = target.port === 80 ? target.host : `${target.host}:${target.port}`;
  const request = `GET http://${authority}/bench HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`;
  const { received, ms } = await exchange(target, request, () => false);
  const status = statusOf(received);
  const body = received.slice(received.indexOf('\r\n\r\n') + 4);
  return { ok: status === 200 && body.includes(expectBody), status, ms, body };
}

export interface Upstream {
  address: string;
  /** Connections each server accepted: a denied request must leave these unchanged. */
  accepted: { banner: number; http: number };
  close(): Promise<void>;
}

/**
 * Two tiny servers on one loopback address: a banner server on `bannerPort` (the CONNECT target)
 * and an HTTP server on `httpPort` that answers 200 naming itself.
 */
export async function startUpstream(options: { address: string; bannerPort: number; httpPort: number; name: string }): Promise<Upstream> {
  const accepted = { banner: 0, http: 0 };
  const servers: Server[] = [];
  const banner = createServer((socket) => {
    accepted.banner += 1;
    socket.on('error', () => {});
    socket.end(`upstream ${options.name}\n`);
  });
  const http = createServer((socket) => {
    accepted.http += 1;
    socket.on('error', () => {});
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      head += chunk;
      if (!head.includes('\r\n\r\n')) return;
      const body = `upstream ${options.name}\n`;
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  for (const [server, port] of [[banner, options.bannerPort], [http, options.httpPort]] as const) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.address, port, backlog: 511 }, () => resolve());
    });
    servers.push(server);
  }
  return {
    address: options.address,
    accepted,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

export interface LoadResult {
  latenciesMs: number[];
  completed: number;
  failed: number;
  elapsedMs: number;
  rps: number;
  firstFailure?: string;
}

/**
 * Run `request` with `concurrency` workers until `maxRequests` are done or `maxMs` has passed,
 * whichever comes first (bounded in count and in time, so a pathological filter cannot stall the bench).
 */
export async function runLoad(options: {
  concurrency: number;
  maxRequests: number;
  maxMs: number;
  request: () => Promise<RequestOutcome>;
}): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let started = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const start = nowMs();
  const worker = async () => {
    while (started < options.maxRequests && nowMs() - start < options.maxMs) {
      started += 1;
      try {
        const outcome = await options.request();
        if (outcome.ok) latenciesMs.push(outcome.ms);
        else {
          failed += 1;
          firstFailure ??= `status ${outcome.status}: ${outcome.body.slice(0, 80)}`;
        }
      } catch (error) {
        failed += 1;
        firstFailure ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = nowMs() - start;
  const completed = latenciesMs.length;
  return { latenciesMs, completed, failed, elapsedMs, rps: (completed / elapsedMs) * 1000, firstFailure };
}
