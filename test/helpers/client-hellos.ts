/**
 * Real ClientHello bytes for the SNI reader's tests: a loopback listener records what a real TLS client
 * (Node's tls.connect, or `openssl s_client`) sends until its whole first handshake message is in, then
 * hangs up. Also re-frames a hello's handshake bytes into records of another size, as some clients do.
 * The record walk here is deliberately independent of relay/public/client-hello.ts.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { ExecutionContext } from 'ava';
import { listen } from './loopback.js';

/** The handshake bytes of a run of TLS records (the record headers taken off). */
export function handshakeOf(records: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at + 5 <= records.length; ) {
    const length = records.readUInt16BE(at + 3);
    parts.push(records.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return Buffer.concat(parts);
}

/** Whether `bytes` hold a whole first handshake message. */
function complete(bytes: Buffer): boolean {
  const hs = handshakeOf(bytes);
  return hs.length >= 4 && hs.length >= 4 + hs.readUIntBE(1, 3);
}

/** The same handshake bytes in records of `size` payload bytes (the last shorter), with the first record's header. */
export function reframe(records: Buffer, size: number): Buffer {
  const hs = handshakeOf(records);
  const out: Buffer[] = [];
  for (let at = 0; at < hs.length; at += size) {
    const part = hs.subarray(at, at + size);
    const header = Buffer.from([records[0]!, records[1]!, records[2]!, 0, 0]);
    header.writeUInt16BE(part.length, 3);
    out.push(header, part);
  }
  return Buffer.concat(out);
}

/** Listens, runs `start(port)` to make a client connect, and resolves with the hello it sent. */
async function capture(t: ExecutionContext, start: (port: number) => void): Promise<Buffer> {
  let resolve!: (bytes: Buffer) => void;
  const got = new Promise<Buffer>((r) => (resolve = r));
  const port = await listen(t, (socket: Socket) => {
    let bytes = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (!complete(bytes)) return;
      socket.destroy();
      resolve(bytes);
    });
  });
  start(port);
  return got;
}

/** The hello Node's own TLS client sends with these options. */
export function nodeHello(t: ExecutionContext, options: tls.ConnectionOptions): Promise<Buffer> {
  return capture(t, (port) => {
    const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    client.on('error', () => undefined);
    t.teardown(() => client.destroy());
  });
}

/** The hello `openssl s_client` sends with these extra arguments. */
export function opensslHello(t: ExecutionContext, args: string[]): Promise<Buffer> {
  return capture(t, (port) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (err) => t.fail(`openssl s_client: ${err.message}`));
    t.teardown(() => child.kill());
  });
}

/** A length-prefixed vector of these parts. */
export function vector(prefix: 1 | 2, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(prefix);
  head.writeUIntBE(body.length, 0, prefix);
  return Buffer.concat([head, body]);
}

export type Extension = [type: number, data: Buffer];

export function sniExtension(...names: string[]): Extension {
  return [0, vector(2, ...names.map((n) => Buffer.concat([Buffer.from([0]), vector(2, Buffer.from(n, 'latin1'))])))];
}

export function alpnExtension(...names: string[]): Extension {
  return [16, vector(2, ...names.map((n) => vector(1, Buffer.from(n, 'latin1'))))];
}

/** A minimal ClientHello with these extensions, in one record, for the cases no real client sends. */
export function syntheticHello(extensions: Extension[]): Buffer {
  const ext = extensions.map(([type, data]) => Buffer.concat([Buffer.from([type >> 8, type & 0xff]), vector(2, data)]));
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), vector(1, Buffer.alloc(32, 9)), vector(2, Buffer.from([0x13, 0x01])), vector(1, Buffer.from([0])), vector(2, ...ext)]);
  const hs = Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), vector(2, hs)]);
}
