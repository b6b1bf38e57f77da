/**
 * Every connection to the relay starts with its Hello. The peer checks the relay's identity key against
 * the pinned fingerprint and the signature over the ephemeral key (S3) before it sends anything.
 */
import { createPublicKey } from 'node:crypto';
import type { Socket } from 'node:net';
import { fingerprintMatches, fingerprintOf } from '../crypto/fingerprint.js';
import { verifyHelloKey } from '../crypto/hello-signature.js';
import { BurrowError } from '../errors.js';
import { decodeBody } from '../protocol/codec.js';
import { FRAME_LIMITS, PROTOCOL_VERSION, type Hello, type PortRole } from '../protocol/messages.js';
import { parseRelayHandshake } from '../protocol/parse.js';
import { FrameChannel } from '../net/frame-channel.js';
import { watchNotARelay } from './not-a-relay.js';
import { dialRelay, indirect } from './relay-dial.js';
import { formatHostPort, type RelayTarget } from './relay-address.js';

/** How far a relay's clock may be behind ours before its ephemeral key counts as expired. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface Greeting {
  socket: Socket;
  channel: FrameChannel;
  hello: Hello;
}

export { connectSocket } from './relay-dial.js';

/**
 * Hellos already verified: the relay signs a new ephemeral key about once a minute, so every data
 * connection in that minute carries the same (key, eph, exp, sig); checking it once saves an Ed25519
 * verification and a key import per stream. Only successes are remembered, a handful at most.
 */
const verified = new Set<string>();
const MAX_VERIFIED = 8;

export function checkHello(hello: Hello, target: RelayTarget, port: PortRole, now: number): void {
  if (hello.v !== PROTOCOL_VERSION) throw new BurrowError('ERR_VERSION_MISMATCH', `relay speaks version ${hello.v}, we speak ${PROTOCOL_VERSION}`);
  if (hello.port !== port) {
    const right = port === 'client' ? 'clients use its client port (7000 by default)' : 'skeletons use its skeleton port (7001 by default)';
    throw new BurrowError('ERR_USAGE', `${formatHostPort(target.host, target.port)} is the relay's ${hello.port} port, not its ${port} port: ${right}`);
  }
  if (hello.exp < now - CLOCK_SKEW_MS) throw new BurrowError('ERR_RELAY_KEY_MISMATCH', 'ephemeral key expired (check clocks)');
  const memo = `${target.fingerprint}|${Buffer.concat([hello.key, hello.eph, hello.sig]).toString('base64')}|${hello.exp}`;
  if (verified.has(memo)) return;
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: hello.key.toString('base64url') } as const;
  if (!fingerprintMatches(target.fingerprint, fingerprintOf(jwk))) throw new BurrowError('ERR_RELAY_KEY_MISMATCH', 'its key does not match the fingerprint given (--fingerprint, or the pin in known_relays)');
  const identity = createPublicKey({ key: jwk, format: 'jwk' });
  if (!verifyHelloKey(identity, hello.v, hello.eph, hello.exp, hello.sig)) throw new BurrowError('ERR_RELAY_KEY_MISMATCH', 'bad signature on the ephemeral key');
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.values().next().value as string);
  verified.add(memo);
}

/**
 * Connects to one of the relay's ports and verifies its Hello; `onSocket` sees the socket as soon as it
 * exists. `probe`: a port that stays silent is probed for HTTP (not-a-relay.ts): for logins, not for the
 * data connections that follow one to an address that has just proven to be a relay.
 */
export async function greet(
  target: RelayTarget, port: PortRole, timeoutMs: number, opts: { onSocket?: (socket: Socket) => void; probe?: boolean } = {},
): Promise<Greeting> {
  const socket = await dialRelay(target, port, timeoutMs, opts.onSocket);
  // Through a proxy or a WebSocket the answer to CONNECT or to the upgrade has told already.
  const notARelay = watchNotARelay(socket, target.host, target.port, { probe: opts.probe === true && !indirect(target) });
  const channel = new FrameChannel(socket, FRAME_LIMITS.handshake);
  try {
    const msg = parseRelayHandshake(decodeBody(await Promise.race([channel.next(timeoutMs), notARelay.refused])));
    if (msg.t === 'error') throw new BurrowError(msg.code, 'relay refused the connection');
    if (msg.t !== 'hello') throw new BurrowError('ERR_PROTOCOL', `expected hello, got ${msg.t}`);
    checkHello(msg, target, port, Date.now());
    return { socket, channel, hello: msg };
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    notARelay.stop();
  }
}
