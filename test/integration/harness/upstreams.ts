/**
 * Loopback upstreams that record every connection. One upstream = one loopback address listening on
 * several ports. A connection is recorded the moment it is accepted, before any byte, so "the
 * upstream saw nothing" means no TCP connection at all. On the first bytes it decides what to be:
 * an HTTP request line gets `200` with a body naming the upstream; anything else (a TLS-ish tunnel
 * payload after CONNECT) is echoed back after an `ECHO <name>:<port> ` prefix.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface UpstreamSpec {
  name: string;
  address: string;
  ports: readonly number[];
}

export interface UpstreamHit {
  upstream: string;
  address: string;
  port: number;
  /** The HTTP request line, when the connection spoke HTTP. */
  requestLine?: string;
  /** The Host header the upstream received, when it spoke HTTP. */
  hostHeader?: string;
}

export interface Upstreams {
  /** Every connection so far, in order. */
  readonly hits: readonly UpstreamHit[];
  /** Hits after a mark taken with `mark()`: what one request caused. */
  mark(): number;
  since(mark: number): UpstreamHit[];
  stop(): Promise<void>;
}

const HTTP_REQUEST_LINE = /^([A-Za-z]+) (\S+) HTTP\/\d\.\d\r?\n/;

/** The body an HTTP upstream answers with; tests match on it to know who answered. */
export function upstreamBody(name: string, port: number): string {
  return `upstream=${name} port=${port}\n`;
}

export function echoPrefix(name: string, port: number): string {
  return `ECHO ${name}:${port} `;
}

function serve(socket: Socket, spec: UpstreamSpec, port: number, hit: UpstreamHit): void {
  let buffered = '';
  let mode: 'unknown' | 'http' | 'echo' = 'unknown';
  socket.setEncoding('latin1');
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    if (mode === 'echo') {
      socket.write(chunk, 'latin1');
      return;
    }
    buffered += chunk;
    if (mode === 'unknown') {
      if (HTTP_REQUEST_LINE.test(buffered)) mode = 'http';
      else if (buffered.includes('\n') || buffered.length > 64 || !/^[A-Za-z]*$/.test(buffered.split(' ')[0] ?? '')) {
        mode = 'echo';
        socket.write(echoPrefix(spec.name, port) + buffered, 'latin1');
        buffered = '';
        return;
      }
    }
    if (mode === 'http' && buffered.includes('\r\n\r\n')) {
      const head = buffered.slice(0, buffered.indexOf('\r\n\r\n'));
      const [requestLine, ...headers] = head.split('\r\n');
      hit.requestLine = requestLine;
      hit.hostHeader = headers.find((h) => /^host:/i.test(h))?.replace(/^host:\s*/i, '');
      const body = upstreamBody(spec.name, port);
      socket.end(
        `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
  });
}

function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startUpstreams(specs: readonly UpstreamSpec[]): Promise<Upstreams> {
  const hits: UpstreamHit[] = [];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const stop = async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  try {
    for (const spec of specs) {
      for (const port of spec.ports) {
        const server = createServer((socket) => {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          const hit: UpstreamHit = { upstream: spec.name, address: spec.address, port };
          hits.push(hit);
          serve(socket, spec, port, hit);
        });
        await listen(server, spec.address, port);
        servers.push(server);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    hits,
    mark: () => hits.length,
    since: (mark) => hits.slice(mark),
    stop,
  };
}
