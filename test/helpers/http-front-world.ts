/**
 * A public HTTP front on 127.0.0.1:0 in front of local backends: `open` dials the backend with
 * net.connect, the same shape as the broker's stream. Everything is closed at teardown.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { BurrowError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { createHttpFront, type HttpFront, type HttpFrontDeps } from '../../relay/public/http-front.js';
import { matchHost } from '../../relay/public/host-match.js';

export interface SeenRequest {
  method: string;
  url: string;
  host: string | undefined;
  rawHeaders: string[];
  /** The upstream connection it came on (its remote port). */
  conn: number;
}

export interface Backend {
  port: number;
  seen: SeenRequest[];
  server: http.Server;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers `<name> <method> <url>` unless given a handler; records every request head. */
export async function backend(t: ExecutionContext, name: string, handler?: Handler): Promise<Backend> {
  const seen: SeenRequest[] = [];
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host, rawHeaders: req.rawHeaders, conn: req.socket.remotePort ?? 0 });
    if (handler) return handler(req, res);
    req.resume();
    req.once('end', () => res.end(`${name} ${req.method} ${req.url}\n`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, seen, server };
}

export interface Publication {
  /** Backend port; undefined: published but its home server is offline. */
  port: number | undefined;
  forwarded?: boolean;
}

export interface FrontWorld {
  port: number;
  front: HttpFront;
  /** Upstream streams opened, per host name. */
  opened: Map<string, number>;
  /** Every upstream stream handed to the front, in order. */
  upstreams: Duplex[];
  /** The front's side of every public connection, in order of arrival. */
  publicSockets: Socket[];
}

/**
 * `socket` behind a plain Duplex with none of net.Socket's methods (no setKeepAlive, ref, setTimeout):
 * the shape of the broker's encrypted stream. Backpressure and half-close are kept.
 */
export function plainDuplex(socket: Socket): Duplex {
  const duplex = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, done) => void socket.write(chunk, (err) => done(err ?? null)),
    final: (done) => void socket.end(done),
    destroy: (err, done) => {
      socket.destroy();
      done(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.once('end', () => duplex.push(null));
  socket.once('close', () => duplex.destroy());
  return duplex;
}

/** A front serving `publications` (name or `*.` pattern -> backend); `shape: 'duplex'` hands it plainDuplex streams. */
export async function frontFor(t: ExecutionContext, publications: Record<string, Publication>, extra: Partial<HttpFrontDeps> = {}, shape: 'socket' | 'duplex' = 'socket'): Promise<FrontWorld> {
  const names = new Set(Object.keys(publications));
  const opened = new Map<string, number>();
  const upstreams: Duplex[] = [];
  const publicSockets: Socket[] = [];
  const front = createHttpFront({
    log: silentLogger(),
    resolve: (host) => {
      const name = matchHost(host, names);
      return name ? { key: `http://${name}`, forwarded: publications[name]!.forwarded ?? false } : undefined;
    },
    open: async (route) => {
      const name = route.key.slice('http://'.length);
      opened.set(name, (opened.get(name) ?? 0) + 1);
      const port = publications[name]!.port;
      if (port === undefined) throw new BurrowError('ERR_SERVER_UNREACHABLE', 'offline in this test');
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      const stream = shape === 'duplex' ? plainDuplex(socket) : socket;
      upstreams.push(stream);
      return stream;
    },
    ...extra,
  });
  const listener = net.createServer((socket) => {
    publicSockets.push(socket);
    front.handle(socket);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  t.teardown(async () => {
    listener.close();
    await front.close();
  });
  return { port: (listener.address() as AddressInfo).port, front, opened, upstreams, publicSockets };
}

export interface CurlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs Debian's curl (bounded to 60 s). */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '60', ...args], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
  });
}

/** A socket's close, whatever ended it (once() would reject on the 'error' a reset brings). */
export function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
}

/**
 * Writes raw bytes on a fresh socket and resolves with everything the front sends back, once `done`
 * says it is enough or the front closes the connection.
 */
export async function rawExchange(port: number, bytes: string | Buffer, done: (text: string) => boolean = () => false): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  const text = () => Buffer.concat(chunks).toString('latin1');
  const enough = new Promise<void>((resolve) =>
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (done(text())) resolve();
    }));
  socket.write(bytes);
  await Promise.race([enough, closed(socket)]);
  socket.destroy();
  return text();
}

/** A raw TCP home server: `answer` sees each connection's n-th request head (0-based) and its text. */
export async function rawBackend(t: ExecutionContext, answer: (socket: Socket, conn: number, n: number, head: string) => void): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  let conns = 0;
  const server = net.createServer((socket) => {
    const conn = conns++;
    let n = 0;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        heads.push(head);
        answer(socket, conn, n++, head);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => void server.close());
  return { port: (server.address() as AddressInfo).port, heads };
}


/** A raw client of the front that keeps everything it is sent as latin1 text. */
export interface TextClient {
  socket: Socket;
  text(): string;
  /** Resolves once the text received so far passes `done` (or rejects if the socket closes first). */
  until(done: (text: string) => boolean): Promise<void>;
}

export async function textClient(port: number): Promise<TextClient> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  const until = async (done: (text: string) => boolean): Promise<void> => {
    while (!done(text)) {
      if (socket.closed) throw new Error(`closed before the text was there: ${JSON.stringify(text.slice(-200))}`);
      await Promise.race([once(socket, 'data'), once(socket, 'close')]);
    }
  };
  return { socket, text: () => text, until };
}
