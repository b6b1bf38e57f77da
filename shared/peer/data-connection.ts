/**
 * Extra data connections (S7): greet, then prove the session with an HMAC over the relay's fresh
 * challenge and the purpose. No password and no asymmetric work per stream. `then`: bytes that follow
 * the Attach in the same write (the relay keeps them for the stream it joins).
 */
import { attachMac, type AttachClaim } from '../crypto/attach-proof.js';
import { encodeFrame } from '../protocol/codec.js';
import type { Socket } from 'node:net';
import type { PortRole } from '../protocol/messages.js';
import type { RelayTarget } from './relay-address.js';
import { greet, type Greeting } from './relay-greeting.js';
import type { PeerSession } from './peer-login.js';

export async function attachData(
  target: RelayTarget, port: PortRole, session: Pick<PeerSession, 'sid' | 'keys'>, claim: Omit<AttachClaim, 'sid'> & { ticket?: string }, timeoutMs = 10_000,
  onSocket?: (socket: Socket) => void, then?: Buffer,
): Promise<Greeting> {
  const greeting = await greet(target, port, timeoutMs, onSocket ? { onSocket } : {});
  // A cluster ticket rides along (the relay that checks it is not the one holding the session); the MAC is the same.
  const full: AttachClaim & { ticket?: string } = { sid: session.sid, ...claim };
  const mac = attachMac(session.keys.attach, greeting.hello.challenge, full);
  const attach = encodeFrame({ t: 'attach', ...full, mac });
  greeting.channel.send(then ? Buffer.concat([attach, then]) : attach);
  return greeting;
}
