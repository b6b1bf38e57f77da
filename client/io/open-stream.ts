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

/** The relay may wait up to its dial timeout (10 s by default) for the skeleton. */
const JOIN_TIMEOUT_MS = 20_000;

export async function openStream(relay: RelayTarget, session: PeerSession, serverId: string, secret: Buffer): Promise<Duplex>;
export async function openStream(relay: RelayTarget, session: PeerSession, serverId: string, secret: Buffer, probe: true): Promise<void>;
export async function openStream(relay: RelayTarget, session: PeerSession, serverId: string, secret: Buffer, probe = false): Promise<Duplex | void> {
  const { socket, channel } = await attachData(relay, 'client', session, { purpose: 'stream', server: serverId });
  try {
    const reply = parseRelayHandshake(decodeBody(await channel.next(JOIN_TIMEOUT_MS, 'ERR_SERVER_UNREACHABLE')));
    if (reply.t === 'error') throw new BurrowError(reply.code, serverId);
    if (reply.t !== 'joined') throw new BurrowError('ERR_PROTOCOL', `expected joined, got ${reply.t}`);
    const opts = { psk: secret, serverId, leftover: channel.detach() };
    return await (probe ? secureProbe(socket, opts) : secureInitiator(socket, opts));
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
