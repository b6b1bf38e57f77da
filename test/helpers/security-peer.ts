/**
 * A hand-made peer login built from the product's own pieces (checkHello, sealLogin, openWelcome), over
 * a socket dialled from a chosen loopback address: the product API has no localAddress option, and the
 * brute-force and timing tests need other sources and the raw answer frames.
 */
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { attachMac } from '../../shared/crypto/attach-proof.js';
import { sealLogin } from '../../shared/crypto/login-token.js';
import { deriveSessionKeys } from '../../shared/crypto/session-keys.js';
import { openWelcome } from '../../shared/crypto/welcome-token.js';
import { BurrowError, type ErrorCode } from '../../shared/errors.js';
import { checkHello } from '../../shared/peer/relay-greeting.js';
import type { SessionKeys } from '../../shared/crypto/session-keys.js';
import type { RelayTarget } from '../../shared/peer/relay-address.js';
import { decodeBody, encodeFrame } from '../../shared/protocol/codec.js';
import { FRAME_LIMITS, type Hello, type PortRole } from '../../shared/protocol/messages.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { Redacted } from '../../shared/redacted.js';
import type { RelayCommand } from '../../relay/core/relay-events.js';
import type { RelayHandle } from '../../relay/index.js';
import { RawPeer } from './security-net.js';

/** A session logged in by hand: its id and keys; the connection is the RawPeer beside it. */
export interface HandSession {
  sid: string;
  keys: SessionKeys;
}

export interface LoginAttempt {
  target: RelayTarget;
  port: PortRole;
  user: string;
  password: string;
  /** The source address to dial from (default 127.0.0.1). */
  localAddress?: string;
}

export type LoginOutcome =
  | { ok: true; session: HandSession; peer: RawPeer; elapsedMs: number }
  /** `stage` says whether the relay refused at once (instead of Hello) or answered the login. */
  | { ok: false; code: ErrorCode; stage: 'greeting' | 'login'; frame: Buffer; peer: RawPeer; elapsedMs: number };

/** Greets from `localAddress`: the Hello after checkHello, or the Error frame the relay sent instead. */
export async function greetFrom(
  t: ExecutionContext, target: RelayTarget, port: PortRole, localAddress?: string,
): Promise<{ peer: RawPeer; hello: Hello } | { peer: RawPeer; code: ErrorCode; frame: Buffer }> {
  const peer = await RawPeer.open(t, target.port, localAddress);
  peer.reader.maxFrame = FRAME_LIMITS.handshake;
  const body = await peer.next();
  if (!body) throw new BurrowError('ERR_CONNECTION_CLOSED', 'relay closed before greeting');
  const msg = parseRelayHandshake(decodeBody(body));
  if (msg.t === 'error') return { peer, code: msg.code, frame: body };
  if (msg.t !== 'hello') throw new BurrowError('ERR_PROTOCOL', `expected hello, got ${msg.t}`);
  checkHello(msg, target, port, Date.now());
  return { peer, hello: msg };
}

/** One login attempt; the clock runs from sending the Login frame to its answer (the relay's work only). */
export async function loginFrom(t: ExecutionContext, attempt: LoginAttempt): Promise<LoginOutcome> {
  const greeting = await greetFrom(t, attempt.target, attempt.port, attempt.localAddress);
  const { peer } = greeting;
  if (!('hello' in greeting)) return { ok: false, code: greeting.code, stage: 'greeting', frame: greeting.frame, peer, elapsedMs: 0 };
  const clientKey = new Redacted(randomBytes(32));
  const jwe = await sealLogin(greeting.hello.eph, {
    user: attempt.user, password: new Redacted(attempt.password), challenge: greeting.hello.challenge, clientKey, port: attempt.port,
  });
  const started = process.hrtime.bigint();
  peer.send(encodeFrame({ t: 'login', jwe }));
  const body = await peer.next(30_000);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (!body) throw new BurrowError('ERR_CONNECTION_CLOSED', 'relay closed without answering the login');
  const reply = parseRelayHandshake(decodeBody(body));
  if (reply.t === 'error') return { ok: false, code: reply.code, stage: 'login', frame: body, peer, elapsedMs };
  if (reply.t !== 'welcome') throw new BurrowError('ERR_PROTOCOL', `expected welcome, got ${reply.t}`);
  const grant = await openWelcome(clientKey, reply.jwe);
  peer.reader.maxFrame = FRAME_LIMITS.control;
  const session: HandSession = { sid: grant.sid, keys: deriveSessionKeys(grant.sessionKey.reveal(), grant.sid) };
  return { ok: true, session, peer, elapsedMs };
}

/** Counts the argon2 verifications a relay starts (one per verify-login command) from now on. */
export function countVerifications(relay: RelayHandle): () => number {
  const runtime = relay.runtime;
  const run = runtime.run.bind(runtime);
  let verifications = 0;
  runtime.run = (cmds: RelayCommand[]) => {
    verifications += cmds.filter((c) => c.type === 'verify-login').length;
    run(cmds);
  };
  return () => verifications;
}

/** The error code of an outcome, or 'ok'. */
export function outcomeCode(outcome: LoginOutcome): ErrorCode | 'ok' {
  return outcome.ok ? 'ok' : outcome.code;
}

/** A data connection of a hand-made session from `localAddress`: greeted, then an Attach proving the session. */
export async function attachFrom(
  t: ExecutionContext, target: RelayTarget, port: PortRole, session: HandSession,
  claim: { purpose: 'stream' | 'pool' | 'dial'; server?: string; dial?: string; ticket?: string }, localAddress?: string,
): Promise<RawPeer> {
  const greeting = await greetFrom(t, target, port, localAddress);
  if (!('hello' in greeting)) throw new BurrowError(greeting.code, 'refused before Hello');
  const { ticket, ...proven } = claim;
  const full = { sid: session.sid, ...proven };
  const mac = attachMac(session.keys.attach, greeting.hello.challenge, full);
  greeting.peer.send(encodeFrame({ t: 'attach', ...full, ...(ticket !== undefined ? { ticket } : {}), mac }));
  return greeting.peer;
}
