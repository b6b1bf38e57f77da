/**
 * The end-to-end channel between client and skeleton: Noise_NNpsk0_25519_AESGCM_SHA256 over an already
 * connected byte stream, the prologue binding the server id. The psk is the server secret, so only a
 * client that knows it gets past message 1, and the relay in the middle sees ciphertext only.
 *
 *   initiator -> responder   message 1: psk, e          (payload empty)
 *   responder -> initiator   message 2: e, ee           (payload: verdict, see e2e-frames.ts)
 *
 * The responder touches its target (`accept`) only after message 1 authenticated. The socket must be
 * allowHalfOpen, and its previous owner must have detached its own 'data' listeners.
 */
import type { Duplex } from 'node:stream';
import { BurrowError, codeOf, wireCode } from '../errors.js';
import { decodeVerdict, e2eFrame, e2ePrologue, encodeVerdict } from './e2e-frames.js';
import { E2eHandshakeReader } from './e2e-handshake-reader.js';
import { HandshakeState } from './noise/handshake-state.js';

export interface SecureStreamOptions {
  /** The 32-byte server secret both ends share. */
  psk: Buffer;
  /** The server id both ends expect; bound into the handshake. */
  serverId: string;
  /** Bytes already read off the socket (by an upstream decoder); processed before further socket data. */
  leftover?: Buffer;
  /** How long to wait for the peer's handshake message; default 10 s, then ERR_TIMEOUT. */
  timeoutMs?: number;
}

export interface SecureResponderOptions extends SecureStreamOptions {
  /**
   * Called once the initiator proved the psk, before the handshake completes: open the local target
   * here. A rejection with a BurrowError is sent to the initiator as its code. It must bound its own
   * time; if the socket went away meanwhile, secureResponder rejects after it and the caller cleans up.
   */
  accept: () => Promise<void>;
}

export const E2E_TIMEOUT_MS = 10_000;

const EMPTY = Buffer.alloc(0);

function handshakeFor(initiator: boolean, opts: SecureStreamOptions): HandshakeState {
  return new HandshakeState({
    pattern: 'NNpsk0',
    cipher: 'AESGCM',
    initiator,
    prologue: e2ePrologue(opts.serverId),
    psk: opts.psk,
  });
}

/** Message 1's payload: empty for a stream; this one byte for a probe that only checks the secret. */
const PROBE = Buffer.of(1);

/** Writes message 1 with `payload` and resolves once an ok message 2 arrived; on failure cleans up and throws. */
async function initiate(socket: Duplex, opts: SecureStreamOptions, payload: Buffer): Promise<{ reader: E2eHandshakeReader; handshake: HandshakeState }> {
  const reader = new E2eHandshakeReader(socket, opts.leftover);
  try {
    const handshake = handshakeFor(true, opts);
    socket.write(e2eFrame(handshake.writeMessage(payload)));
    const message = await reader.next(opts.timeoutMs ?? E2E_TIMEOUT_MS);
    const verdict = decodeVerdict(handshake.readMessage(message));
    if (verdict === undefined) throw new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'malformed verdict');
    if (!verdict.ok) throw new BurrowError(verdict.code, 'refused by the server');
    return { reader, handshake };
  } catch (err) {
    reader.release();
    socket.destroy();
    throw err;
  }
}

/**
 * Writes message 1 synchronously (so it may be pipelined behind the caller's own request), then waits
 * for message 2. Resolves the secure Duplex, or rejects with the responder's refusal code,
 * ERR_E2E_HANDSHAKE_FAILED or ERR_TIMEOUT after destroying the socket.
 */
export async function secureInitiator(socket: Duplex, opts: SecureStreamOptions): Promise<Duplex> {
  const { reader, handshake } = await initiate(socket, opts, EMPTY);
  return reader.handOver(handshake.split());
}

/**
 * Proves the secret and gets the responder's ok without it opening its target; then closes. Lets a
 * forwarder check its secret at start instead of on its first stream.
 */
export async function secureProbe(socket: Duplex, opts: SecureStreamOptions): Promise<void> {
  const { reader } = await initiate(socket, opts, PROBE);
  reader.release();
  socket.destroy();
}

/**
 * Reads message 1; a wrong psk destroys the socket and rejects with ERR_E2E_HANDSHAKE_FAILED without
 * calling `accept`. Otherwise awaits `accept` and answers with message 2: ok (resolves the secure
 * Duplex) or the refusal (ends the socket and rejects with accept's error). A probe is answered ok
 * without calling `accept`, and resolves null.
 */
export async function secureResponder(socket: Duplex, opts: SecureResponderOptions): Promise<Duplex | null> {
  const reader = new E2eHandshakeReader(socket, opts.leftover);
  let handshake: HandshakeState;
  let payload: Buffer;
  try {
    handshake = handshakeFor(false, opts);
    payload = handshake.readMessage(await reader.next(opts.timeoutMs ?? E2E_TIMEOUT_MS));
  } catch (err) {
    reader.release();
    socket.destroy();
    throw err;
  }
  if (payload.equals(PROBE)) {
    const answer = e2eFrame(handshake.writeMessage(encodeVerdict()));
    socket.once('close', () => reader.release());
    socket.end(answer, () => socket.destroy());
    return null;
  }

  let refusal: unknown;
  try {
    await opts.accept();
  } catch (err) {
    refusal = err;
  }
  if (refusal !== undefined) {
    refuse(socket, reader, handshake, refusal);
    throw refusal;
  }

  try {
    reader.assertAlive();
    socket.write(e2eFrame(handshake.writeMessage(encodeVerdict())));
    return reader.handOver(handshake.split());
  } catch (err) {
    reader.release();
    socket.destroy();
    throw err;
  }
}

/** Sends the refusal in message 2 and ends the socket; it is destroyed once the end is flushed. */
function refuse(socket: Duplex, reader: E2eHandshakeReader, handshake: HandshakeState, err: unknown): void {
  const alive = !socket.destroyed && socket.writable;
  const message = alive ? e2eFrame(handshake.writeMessage(encodeVerdict(wireCode(codeOf(err))))) : undefined;
  // The reader's listeners stay until the socket closes: a late 'error' still has a listener.
  socket.once('close', () => reader.release());
  if (message) socket.end(message, () => socket.destroy());
  else socket.destroy();
}
