/**
 * The shared HTTPS port: reads the ClientHello (up to 16 KiB, over as many records and segments as it
 * takes, within the head deadline), routes by its SNI to an https:// publication, and passes every
 * byte through untouched: the relay holds no certificate for a published name and never decrypts. An
 * unknown name gets a TLS unrecognized_name alert, a hello without SNI or a malformed one its alert,
 * anything that is not TLS is simply closed.
 */
import type { Socket } from 'node:net';
import type { PublicationRecord } from '../core/publication-registry.js';
import { ClientHelloReader } from './client-hello.js';
import type { PublicDoor } from './public-door.js';
import type { OwnName } from './own-name.js';
import type { RefusalReason } from './public-stats.js';
import { passThrough, type TcpFrontDeps } from './tcp-front.js';
import { alertForRefusal, unrecognizedNameAlert } from './tls-alert.js';

export interface SniFrontDeps extends TcpFrontDeps {
  door: PublicDoor;
  /** The relay's own name on this port (one-port mode): terminated here and handed to the WebSocket endpoint. */
  own?: OwnName;
  resolve(host: string): PublicationRecord | undefined;
  /** The ClientHello must be complete within this (slowloris); default 10 s. */
  headTimeoutMs: number;
}

export function serveHttps(socket: Socket, deps: SniFrontDeps): void {
  const source = socket.remoteAddress ?? '0.0.0.0';
  const arrival = deps.door.arrive(source, 'https');
  if (!arrival.ok) return void socket.destroy();
  socket.once('close', () => arrival.release());
  const reader = new ClientHelloReader();
  const refuse = (reason: RefusalReason, alert?: Buffer): void => {
    cleanup();
    deps.door.refused(source, 'https', reason);
    if (alert) socket.end(alert);
    else socket.destroy();
    // A peer that never reads the alert does not hold the socket.
    socket.setTimeout(1000, () => socket.destroy());
  };
  const timer = setTimeout(() => refuse('head-timeout'), deps.headTimeoutMs);
  const onData = (chunk: Buffer): void => {
    const result = reader.push(chunk);
    if (result.state === 'need-more') return;
    if (result.state === 'refused') {
      return refuse(result.reason === 'no-sni' ? 'no-sni' : result.reason === 'not-tls' ? 'not-tls' : 'bad-head', alertForRefusal(result.reason));
    }
    cleanup();
    socket.pause();
    arrival.headRead();
    if (deps.own && result.serverName === deps.own.name) {
      // A skeleton or client, not the public: the WebSocket endpoint and the relay's guard bound it.
      arrival.release();
      return deps.own.take(socket, result.bytes);
    }
    const pub = deps.resolve(result.serverName);
    if (!pub) return refuse('unknown-host', unrecognizedNameAlert());
    const admission = deps.door.route(source, pub);
    if (!admission.ok) return void socket.destroy();
    void passThrough(socket, pub.url, deps, result.bytes).finally(() => admission.release());
  };
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
  };
  socket.on('data', onData);
  socket.once('close', cleanup);
  socket.resume();
}
