/**
 * What `burrow client trust` learns from a relay without any admin port: the Hello every connection to
 * either relay port starts with carries the relay's identity key and its signature over the current
 * ephemeral key. The signature proves the other end holds the private key of that identity; whether it
 * is the right relay is for the user to confirm (trust on first use), which is why we only read the
 * Hello and close: nothing is sent, no login, no penalty.
 */
import { createPublicKey } from 'node:crypto';
import { fingerprintOf } from '../crypto/fingerprint.js';
import { verifyHelloKey } from '../crypto/hello-signature.js';
import { BurrowError } from '../errors.js';
import { FrameChannel } from '../net/frame-channel.js';
import { decodeBody } from '../protocol/codec.js';
import { FRAME_LIMITS, PROTOCOL_VERSION, type PortRole } from '../protocol/messages.js';
import { parseRelayHandshake } from '../protocol/parse.js';
import { watchNotARelay } from './not-a-relay.js';
import type { RelayTarget } from './relay-address.js';
import { connectSocket, dialRelay, indirect } from './relay-dial.js';

export interface ProbedIdentity {
  fingerprint: string;
  /** Which relay port answered. */
  port: PortRole;
}

/** `via`: a WebSocket endpoint or a proxy to read the Hello through (its client role). */
export async function probeRelayIdentity(host: string, port: number, timeoutMs = 10_000, via: Pick<RelayTarget, 'ws' | 'proxy'> = {}): Promise<ProbedIdentity> {
  const target = { host, port, fingerprint: '', ...via };
  const socket = indirect(target) ? await dialRelay(target, 'client', timeoutMs) : await connectSocket(host, port, timeoutMs);
  const notARelay = watchNotARelay(socket, host, port, { probe: !indirect(target) });
  try {
    const channel = new FrameChannel(socket, FRAME_LIMITS.handshake);
    const msg = parseRelayHandshake(decodeBody(await Promise.race([channel.next(timeoutMs), notARelay.refused])));
    if (msg.t === 'error') throw new BurrowError(msg.code, 'relay refused the connection');
    if (msg.t !== 'hello') throw new BurrowError('ERR_PROTOCOL', `expected hello, got ${msg.t}`);
    if (msg.v !== PROTOCOL_VERSION) throw new BurrowError('ERR_VERSION_MISMATCH', `relay speaks version ${msg.v}, we speak ${PROTOCOL_VERSION}`);
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: msg.key.toString('base64url') } as const;
    let ok = false;
    try {
      ok = verifyHelloKey(createPublicKey({ key: jwk, format: 'jwk' }), msg.v, msg.eph, msg.exp, msg.sig);
    } catch {
      ok = false;
    }
    if (!ok) throw new BurrowError('ERR_RELAY_KEY_MISMATCH', 'the relay did not sign its Hello with the key it presents');
    return { fingerprint: fingerprintOf(jwk), port: msg.port };
  } finally {
    notARelay.stop();
    socket.destroy();
  }
}
