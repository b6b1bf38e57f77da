/**
 * One port for everything (issue 18): on the shared HTTPS port, the relay's own host name is not passed
 * through like a publication's: the relay terminates TLS for it with the certificate the operator gives
 * (re-read on SIGHUP) and hands the connection to its WebSocket endpoint, so skeletons and clients
 * behind a firewall that allows only port 443 reach the relay on the same port as the public reaches
 * the published names. The ClientHello already read is given back to the TLS layer first.
 */
import { readFile } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { BurrowError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { canonicalHost } from '../../shared/protocol/publication-url.js';

export interface OwnNameOptions {
  /** The relay's host name on the HTTPS port. */
  name: string;
  certFile: string;
  keyFile: string;
}

export interface OwnName {
  readonly name: string;
  /** Terminates TLS on `socket` (whose ClientHello is `hello`) and gives it to the WebSocket endpoint. */
  take(socket: Socket, hello: Buffer): void;
  /** Re-reads the certificate and key (SIGHUP); a bad pair is reported and the old one kept. */
  reload(): Promise<void>;
}

async function contextOf(opts: OwnNameOptions): Promise<SecureContext> {
  try {
    const [cert, key] = await Promise.all([readFile(opts.certFile), readFile(opts.keyFile)]);
    return createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (err) {
    throw new BurrowError('ERR_CONFIG', `the relay's TLS certificate (${opts.certFile}) and key (${opts.keyFile}) could not be used: ${(err as Error).message}`);
  }
}

/** The public socket, with the bytes already read put back in front of what it still sends. */
function replayed(socket: Socket, first: Buffer): Duplex {
  const joined = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, done) {
      socket.write(chunk, done);
    },
    final(done) {
      socket.end();
      done();
    },
    destroy(err, done) {
      socket.destroy();
      done(err);
    },
  });
  joined.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!joined.push(chunk)) socket.pause();
  });
  socket.once('end', () => joined.push(null));
  socket.once('close', () => joined.destroy());
  return joined;
}

export async function ownName(opts: OwnNameOptions, wsServer: Server, log: Logger): Promise<OwnName> {
  const name = canonicalHost(opts.name);
  if (!name || name.startsWith('*.')) throw new BurrowError('ERR_CONFIG', `relay-name: ${JSON.stringify(opts.name)} is not a host name`);
  let context = await contextOf(opts);
  return {
    name,
    take(socket, hello) {
      const tls = new TLSSocket(replayed(socket, hello), { isServer: true, secureContext: context });
      // The relay core and its guard see the public peer's own address, not the in-memory stream's.
      Object.defineProperty(tls, 'remoteAddress', { value: socket.remoteAddress });
      Object.defineProperty(tls, 'remotePort', { value: socket.remotePort });
      tls.on('error', () => tls.destroy());
      wsServer.emit('connection', tls);
    },
    async reload() {
      try {
        context = await contextOf(opts);
        log.info({ cert: opts.certFile }, 'relay TLS certificate reloaded');
      } catch (err) {
        log.error({ err: (err as Error).message }, 'relay TLS certificate not reloaded; the old one stays');
      }
    },
  };
}
