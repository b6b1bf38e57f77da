/**
 * The end-to-end channel between client and skeleton: Noise_NNpsk0_25519_AESGCM_SHA256 over an already
 * connected byte stream, the prologue binding the server id. The psk is the server secret, so only a
 * client that knows it gets past message 1, and the relay in the middle sees ciphertext only.
 *
 *   initiator -> responder   message 1: psk, e          (payload empty; one byte for a probe)
 *   responder -> initiator   message 2: e, ee           (payload empty; a verdict for a probe)
 *   initiator -> responder   transport 0: confirm       (proves the initiator holds the e of message 1)
 *   responder -> initiator   transport 0: verdict       (ok, or the refusal code; see e2e-frames.ts)
 *
 * Message 1 may be written before the relay has joined the stream (`beginInitiator`), behind the
 * caller's own request, and with `earlyData` the initiator's first transport data may follow the
 * confirm at once instead of after the verdict (as TLS False Start does): the responder buffers it
 * and reads it only after its target accepted, and a refusal verdict then fails the stream.
 *
 * The responder touches its target (`accept`) only after the confirm decrypted: message 1 alone proves
 * the psk but carries nothing fresh from the responder, so a replayed message 1 must not reach the
 * target. The socket must be allowHalfOpen, and its previous owner must have detached its 'data'
 * listeners.
 */
import type { Duplex } from 'node:stream';
import { BurrowError, codeOf, wireCode } from '../errors.js';
import { decodeVerdict, e2eFrame, e2ePrologue, encodeVerdict } from './e2e-frames.js';
import type { E2eFrameDecoder } from './e2e-frame-decoder.js';
import { E2eHandshakeReader } from './e2e-handshake-reader.js';
import type { CipherState } from './noise/cipher-state.js';
import { HandshakeState } from './noise/handshake-state.js';
import { takeEphemeral } from './spare-ephemeral.js';
import type { RekeyOptions } from '../tunnel/tunnel-frame-writer.js';

export interface SecureStreamOptions {
  /** The 32-byte server secret both ends share. */
  psk: Buffer;
  /** The server id both ends expect; bound into the handshake. */
  serverId: string;
  /** Bytes already read off the socket (by an upstream decoder); processed before further socket data. */
  leftover?: Buffer;
  /** How long to wait for the peer's handshake message; default 10 s, then ERR_TIMEOUT. */
  timeoutMs?: number;
  /** When the stream replaces its sending key (default every 10 minutes and every GiB); tests make it often. */
  rekey?: RekeyOptions;
}

/** A finished tunnel handshake: the socket, its decoder and the transport ciphers, for `Tunnel`. */
export interface TunnelLink {
  socket: Duplex;
  decoder: E2eFrameDecoder;
  ciphers: { send: CipherState; recv: CipherState };
  /** The socket already emitted 'end'. */
  socketEnded: boolean;
  /** Initiator: the responder's verdict is the first transport message still to come. */
  verdictPending: boolean;
}

export interface SecureResponderOptions extends SecureStreamOptions {
  /**
   * Called instead of `accept` when the initiator asked for a tunnel (many streams over this one; see
   * shared/tunnel): the verdict ok is already written. Without it a tunnel request is refused.
   */
  tunnel?: (link: TunnelLink) => void;
  /**
   * Called once the initiator proved the psk, before the handshake completes: open the local target
   * here. A rejection with a BurrowError is sent to the initiator as its code. It must bound its own
   * time; if the socket went away meanwhile, secureResponder rejects after it and the caller cleans up.
   */
  accept: () => Promise<void>;
}

export interface SecureInitiatorOptions extends SecureStreamOptions {
  /** Message 1 made by `beginInitiator` and already written by the caller. */
  start?: InitiatorStart;
  /** Resolve as soon as the confirm is written; the verdict is checked by the stream's first read. */
  earlyData?: boolean;
}

/** A handshake whose message 1 is made and ready to write. */
export interface InitiatorStart {
  readonly handshake: HandshakeState;
  readonly message1: Buffer;
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
    ephemeral: takeEphemeral,
  });
}

/**
 * Message 1's payload: empty for a stream; one byte for a probe that only checks the secret, another for
 * a tunnel that carries many streams (shared/tunnel). Message 1 is encrypted under the psk-derived key.
 */
const PROBE = Buffer.of(1);
const TUNNEL = Buffer.of(3);
export type InitiatorKind = 'stream' | 'probe' | 'tunnel';
/** The initiator's first transport message: it holds the ephemeral key of this handshake. */
const CONFIRM = Buffer.of(2);

type Ciphers = { send: CipherState; recv: CipherState };

/** Runs `step`; on failure detaches the reader, destroys the socket and rethrows. */
async function orDestroy<T>(socket: Duplex, reader: E2eHandshakeReader, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    reader.release();
    socket.destroy();
    throw err;
  }
}

function checkVerdict(plaintext: Buffer | null): void {
  const verdict = plaintext === null ? undefined : decodeVerdict(plaintext);
  if (verdict === undefined) throw new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'malformed verdict');
  if (!verdict.ok) throw new BurrowError(verdict.code, 'refused by the server');
}

/** Makes message 1 (of a stream, or of a probe) for the caller to write when it likes. */
export function beginInitiator(opts: Pick<SecureStreamOptions, 'psk' | 'serverId'>, kind: InitiatorKind = 'stream'): InitiatorStart {
  const handshake = handshakeFor(true, opts);
  const payload = kind === 'probe' ? PROBE : kind === 'tunnel' ? TUNNEL : EMPTY;
  return { handshake, message1: e2eFrame(handshake.writeMessage(payload)) };
}

/**
 * A tunnel's initiator side: as `secureInitiator` with early data, but the transport is handed over raw
 * (the tunnel frames it) with the verdict still to read. Rejects as secureInitiator does.
 */
export async function secureTunnel(socket: Duplex, opts: SecureStreamOptions & { start?: InitiatorStart }): Promise<TunnelLink> {
  const reader = new E2eHandshakeReader(socket, opts.leftover);
  const start = opts.start ?? beginInitiator(opts, 'tunnel');
  return orDestroy(socket, reader, async () => {
    if (!opts.start) socket.write(start.message1);
    start.handshake.readMessage(await reader.next(opts.timeoutMs ?? E2E_TIMEOUT_MS));
    const ciphers: Ciphers = start.handshake.split();
    socket.write(e2eFrame(ciphers.send.encryptWithAd(EMPTY, CONFIRM)));
    return { socket, ciphers, ...reader.handOverRaw(), verdictPending: true };
  });
}

/**
 * Writes message 1 unless the caller did, answers message 2 with the confirm, and resolves the secure
 * Duplex once the responder's verdict is ok (or at once with `earlyData`); else rejects with the refusal
 * code, ERR_E2E_HANDSHAKE_FAILED or ERR_TIMEOUT after destroying the socket.
 */
export async function secureInitiator(socket: Duplex, opts: SecureInitiatorOptions): Promise<Duplex> {
  const reader = new E2eHandshakeReader(socket, opts.leftover);
  const timeoutMs = opts.timeoutMs ?? E2E_TIMEOUT_MS;
  const start = opts.start ?? beginInitiator(opts);
  const { handshake } = start;
  return orDestroy(socket, reader, async () => {
    if (!opts.start) socket.write(start.message1);
    handshake.readMessage(await reader.next(timeoutMs));
    const ciphers: Ciphers = handshake.split();
    const confirm = e2eFrame(ciphers.send.encryptWithAd(EMPTY, CONFIRM));
    if (opts.earlyData) {
      // The caller's first data joins the confirm in one write if it is written in this same turn: the
      // stream uncorks the socket once it has sealed that data (SecureDuplex `corked`).
      socket.cork();
      socket.write(confirm);
      return reader.handOver(ciphers, { verdictPending: true, corked: true, ...(opts.rekey ? { rekey: opts.rekey } : {}) });
    }
    socket.write(confirm);
    checkVerdict(ciphers.recv.decryptWithAd(EMPTY, await reader.next(timeoutMs)));
    return reader.handOver(ciphers, opts.rekey ? { rekey: opts.rekey } : {});
  });
}

/**
 * Proves the secret and gets the responder's ok without it opening its target; then closes. Lets a
 * forwarder check its secret at start instead of on its first stream.
 */
export async function secureProbe(socket: Duplex, opts: SecureStreamOptions & { start?: InitiatorStart }): Promise<void> {
  const reader = new E2eHandshakeReader(socket, opts.leftover);
  const start = opts.start ?? beginInitiator(opts, 'probe');
  const { handshake } = start;
  await orDestroy(socket, reader, async () => {
    if (!opts.start) socket.write(start.message1);
    checkVerdict(handshake.readMessage(await reader.next(opts.timeoutMs ?? E2E_TIMEOUT_MS)));
  });
  reader.release();
  socket.destroy();
}

/**
 * Reads message 1 (a wrong psk destroys the socket and rejects with ERR_E2E_HANDSHAKE_FAILED), answers
 * with message 2, and waits for the confirm; only then awaits `accept` and sends the verdict: ok
 * (resolves the secure Duplex) or the refusal (ends the socket and rejects with accept's error). A
 * probe is answered in message 2 without calling `accept`, and resolves null.
 */
export async function secureResponder(socket: Duplex, opts: SecureResponderOptions): Promise<Duplex | null> {
  const reader = new E2eHandshakeReader(socket, opts.leftover);
  const timeoutMs = opts.timeoutMs ?? E2E_TIMEOUT_MS;
  const handshake = handshakeFor(false, opts);
  const payload = await orDestroy(socket, reader, async () => {
    const read = handshake.readMessage(await reader.next(timeoutMs));
    const known = read.length === 0 || read.equals(PROBE) || (read.equals(TUNNEL) && opts.tunnel !== undefined);
    if (!known) throw new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'unknown or unsupported stream kind');
    return read;
  });
  if (payload.equals(PROBE)) {
    const answer = e2eFrame(handshake.writeMessage(encodeVerdict()));
    socket.once('close', () => reader.release());
    socket.end(answer, () => socket.destroy());
    return null;
  }
  const ciphers = await orDestroy(socket, reader, async () => {
    socket.write(e2eFrame(handshake.writeMessage(EMPTY)));
    const split: Ciphers = handshake.split();
    const confirm = split.recv.decryptWithAd(EMPTY, await reader.next(timeoutMs));
    if (confirm === null || !confirm.equals(CONFIRM)) throw new BurrowError('ERR_E2E_HANDSHAKE_FAILED', 'no valid confirm');
    return split;
  });
  if (payload.equals(TUNNEL) && opts.tunnel) {
    const link = await orDestroy(socket, reader, async () => {
      socket.write(e2eFrame(ciphers.send.encryptWithAd(EMPTY, encodeVerdict())));
      return { socket, ciphers, ...reader.handOverRaw(), verdictPending: false };
    });
    opts.tunnel(link);
    return null;
  }

  let refusal: unknown;
  try {
    await opts.accept();
  } catch (err) {
    refusal = err;
  }
  if (refusal !== undefined) {
    refuse(socket, reader, ciphers, refusal);
    throw refusal;
  }
  return orDestroy(socket, reader, async () => {
    reader.assertAlive();
    socket.write(e2eFrame(ciphers.send.encryptWithAd(EMPTY, encodeVerdict())));
    return reader.handOver(ciphers, opts.rekey ? { rekey: opts.rekey } : {});
  });
}

/** Sends the refusal as the verdict and ends the socket; it is destroyed once the end is flushed. */
function refuse(socket: Duplex, reader: E2eHandshakeReader, ciphers: Ciphers, err: unknown): void {
  const alive = !socket.destroyed && socket.writable;
  const message = alive ? e2eFrame(ciphers.send.encryptWithAd(EMPTY, encodeVerdict(wireCode(codeOf(err))))) : undefined;
  // The reader's listeners stay until the socket closes: a late 'error' still has a listener.
  socket.once('close', () => reader.release());
  if (message) socket.end(message, () => socket.destroy());
  else socket.destroy();
}
