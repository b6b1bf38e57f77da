/**
 * A peer's login (client or skeleton): greet, send the JWE login bound to the relay's challenge, open
 * the Welcome with our fresh client key. The result is a session whose control frames are sealed.
 */
import { randomBytes } from 'node:crypto';
import { sealLogin } from '../crypto/login-token.js';
import { deriveSessionKeys, type SessionKeys } from '../crypto/session-keys.js';
import { openWelcome } from '../crypto/welcome-token.js';
import { BurrowError } from '../errors.js';
import { decodeBody, encodeFrame } from '../protocol/codec.js';
import { FRAME_LIMITS, type PortRole } from '../protocol/messages.js';
import { parseRelayHandshake } from '../protocol/parse.js';
import { Redacted } from '../redacted.js';
import type { FrameChannel } from '../net/frame-channel.js';
import type { RelayTarget } from './relay-address.js';
import { greet } from './relay-greeting.js';

export interface Credentials {
  user: string;
  password: Redacted<string>;
}

export interface PeerSession {
  sid: string;
  keys: SessionKeys;
  pingMs: number;
  channel: FrameChannel;
}

/** A login may wait behind other logins' argon2 work at a busy relay. */
const LOGIN_REPLY_TIMEOUT_MS = 30_000;

export async function login(target: RelayTarget, port: PortRole, creds: Credentials, timeoutMs = 10_000): Promise<PeerSession> {
  const { socket, channel, hello } = await greet(target, port, timeoutMs, { probe: true });
  try {
    const clientKey = new Redacted(randomBytes(32));
    const jwe = await sealLogin(hello.eph, { user: creds.user, password: creds.password, challenge: hello.challenge, clientKey, port });
    channel.send(encodeFrame({ t: 'login', jwe }));
    const reply = parseRelayHandshake(decodeBody(await channel.next(LOGIN_REPLY_TIMEOUT_MS)));
    if (reply.t === 'error') throw new BurrowError(reply.code);
    if (reply.t !== 'welcome') throw new BurrowError('ERR_PROTOCOL', `expected welcome, got ${reply.t}`);
    const grant = await openWelcome(clientKey, reply.jwe);
    channel.maxFrame = FRAME_LIMITS.control;
    return { sid: grant.sid, keys: deriveSessionKeys(grant.sessionKey.reveal(), grant.sid), pingMs: grant.pingMs, channel };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
