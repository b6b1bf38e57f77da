/**
 * Opens one end-to-end stream: a fresh data connection proves the session (S7) and names the server;
 * once the relay has joined it, the Noise handshake proves the server secret to the skeleton (S8).
 */
import type { Duplex } from 'node:stream';
import { secureInitiator, secureProbe } from '../../shared/crypto/secure-stream.js';
import { BurrowError } from '../../shared/errors.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { attachData } from '../../shared/peer/data-connection.js';
import type { PeerSession } from '../../shared/peer/peer-login.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import type { Greeting } from '../../shared/peer/relay-greeting.js';
import type { Semaphore } from '../../shared/semaphore.js';

/** The relay may wait up to its dial timeout (10 s by default) for the skeleton. */
const JOIN_TIMEOUT_MS = 20_000;

export async function openStream(relay: RelayTarget, session: PeerSession, serverId: string, secret: Buffer, slots: Semaphore): Promise<Duplex>;
export async function openStream(relay: RelayTarget, session: PeerSession, serverId: string, secret: Buffer, slots: Semaphore, probe: true): Promise<void>;
export async function openStream(
  relay: RelayTarget, session: PeerSession, serverId: string, secret: Buffer, slots: Semaphore, probe = false,
): Promise<Duplex | void> {
  const joined = await slots.run(() => attachAndJoin(relay, session, serverId));
  const { socket, channel } = joined;
  try {
    const opts = { psk: secret, serverId, leftover: channel.detach() };
    return await (probe ? secureProbe(socket, opts) : secureInitiator(socket, opts));
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** A data connection for the stream, accepted by the relay (its Attach checked) and joined. */
async function attachAndJoin(relay: RelayTarget, session: PeerSession, serverId: string): Promise<Greeting> {
  const greeting = await attachData(relay, 'client', session, { purpose: 'stream', server: serverId });
  const { socket, channel } = greeting;
  try {
    const reply = parseRelayHandshake(decodeBody(await channel.next(JOIN_TIMEOUT_MS, 'ERR_SERVER_UNREACHABLE')));
    if (reply.t === 'error') throw new BurrowError(reply.code, serverId);
    if (reply.t !== 'joined') throw new BurrowError('ERR_PROTOCOL', `expected joined, got ${reply.t}`);
    return greeting;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
