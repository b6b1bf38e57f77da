/**
 * Opens one end-to-end stream: a fresh data connection proves the session (S7) and names the server;
 * Noise message 1 follows the Attach in the same segment, held by the relay until it has joined the
 * stream, and the handshake then proves the server secret to the skeleton (S8).
 */
import type { Duplex } from 'node:stream';
import { beginInitiator, secureInitiator, secureProbe, secureTunnel, type InitiatorStart, type TunnelLink } from '../../shared/crypto/secure-stream.js';
import { BurrowError } from '../../shared/errors.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { attachData } from '../../shared/peer/data-connection.js';
import type { PeerSession } from '../../shared/peer/peer-login.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import type { Greeting } from '../../shared/peer/relay-greeting.js';
import type { Semaphore } from '../../shared/semaphore.js';
import type { RekeyOptions } from '../../shared/tunnel/tunnel-frame-writer.js';

/** The relay may wait up to its dial timeout (10 s by default) for the skeleton. */
const JOIN_TIMEOUT_MS = 20_000;

/**
 * `stream`: resolves once the skeleton's target accepted. `early`: resolves once the handshake is done,
 * so the first data goes with the confirm; a refusal then fails the stream. `probe`: checks the secret only.
 */
export type OpenMode = 'stream' | 'early' | 'probe';

/** A session, and a cluster session ticket when the stream attaches at another relay than the session's. */
export type StreamSession = PeerSession & { ticket?: string };

export async function openStream(relay: RelayTarget, session: StreamSession, serverId: string, secret: Buffer, slots: Semaphore, mode?: 'stream' | 'early', rekey?: RekeyOptions): Promise<Duplex>;
export async function openStream(relay: RelayTarget, session: StreamSession, serverId: string, secret: Buffer, slots: Semaphore, mode: 'probe'): Promise<void>;
export async function openStream(
  relay: RelayTarget, session: StreamSession, serverId: string, secret: Buffer, slots: Semaphore, mode: OpenMode = 'stream', rekey?: RekeyOptions,
): Promise<Duplex | void> {
  const start = beginInitiator({ psk: secret, serverId }, mode === 'probe' ? 'probe' : 'stream');
  const { socket, channel } = await slots.run(() => attachAndJoin(relay, session, serverId, start));
  try {
    const opts = { psk: secret, serverId, leftover: channel.detach(), start };
    if (mode === 'probe') return await secureProbe(socket, opts);
    return await secureInitiator(socket, { ...opts, earlyData: mode === 'early', ...(rekey ? { rekey } : {}) });
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * Opens a tunnel: one stream as above whose handshake asks the skeleton for many channels over it
 * (shared/tunnel). Resolves once the confirm is written; the verdict is the tunnel's first frame.
 */
export async function openTunnelLink(relay: RelayTarget, session: StreamSession, serverId: string, secret: Buffer, slots: Semaphore): Promise<TunnelLink> {
  const start = beginInitiator({ psk: secret, serverId }, 'tunnel');
  const { socket, channel } = await slots.run(() => attachAndJoin(relay, session, serverId, start));
  try {
    return await secureTunnel(socket, { psk: secret, serverId, leftover: channel.detach(), start });
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** A data connection for the stream, accepted by the relay (its Attach checked) and joined. */
async function attachAndJoin(relay: RelayTarget, session: StreamSession, serverId: string, start: InitiatorStart): Promise<Greeting> {
  const claim = { purpose: 'stream' as const, server: serverId, ...(session.ticket !== undefined ? { ticket: session.ticket } : {}) };
  const greeting = await attachData(relay, 'client', session, claim, undefined, undefined, start.message1);
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
