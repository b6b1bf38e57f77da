/**
 * Noise HandshakeState (spec rev 34, §5.3) for the two patterns burrow uses, with X25519 and SHA-256:
 *   NN:      -> e          <- e, ee
 *   NNpsk0:  -> psk, e     <- e, ee      (§9: in psk modes every `e` token also calls MixKey(e.pub))
 * Pure computation: no sockets, no timers. A failed readMessage leaves the state unusable.
 */
import { diffieHellman } from 'node:crypto';
import { BurrowError } from '../../errors.js';
import { generateX25519, x25519FromPrivateRaw, x25519PublicFromRaw, type X25519Pair } from '../x25519-raw.js';
import type { CipherState, NoiseCipher } from './cipher-state.js';
import { SymmetricState } from './symmetric-state.js';

export type NoisePattern = 'NN' | 'NNpsk0';
type Token = 'e' | 'ee' | 'psk';

const PATTERNS: Record<NoisePattern, Token[][]> = {
  NN: [['e'], ['e', 'ee']],
  NNpsk0: [['psk', 'e'], ['e', 'ee']],
};

export const DH_LENGTH = 32;
export const PSK_LENGTH = 32;
/** Noise messages are at most 65535 bytes (§3). */
export const MAX_NOISE_MESSAGE = 65535;

export interface HandshakeOptions {
  pattern: NoisePattern;
  cipher: NoiseCipher;
  initiator: boolean;
  prologue: Buffer;
  /** Required for NNpsk0: 32 bytes. */
  psk?: Buffer;
  /** A fixed raw ephemeral private key: test vectors only. */
  ephemeralPrivate?: Buffer;
  /** Where a fresh ephemeral key pair comes from (default: made on the spot); each pair is used once. */
  ephemeral?: () => X25519Pair;
}

type KeyPair = X25519Pair;

function handshakeFailed(detail: string, cause?: unknown): BurrowError {
  return new BurrowError('ERR_E2E_HANDSHAKE_FAILED', detail, cause === undefined ? undefined : { cause });
}

function keyPairFrom(rawPrivate: Buffer | undefined, fresh: () => KeyPair): KeyPair {
  if (rawPrivate === undefined) return fresh();
  if (rawPrivate.length !== DH_LENGTH) throw new BurrowError('ERR_INTERNAL', 'ephemeral private key must be 32 bytes');
  return x25519FromPrivateRaw(rawPrivate);
}

function dh(own: KeyPair, remoteRaw: Buffer): Buffer {
  try {
    return diffieHellman({ privateKey: own.privateKey, publicKey: x25519PublicFromRaw(remoteRaw) });
  } catch (err) {
    // OpenSSL refuses low-order points (an all-zero shared secret).
    throw handshakeFailed('invalid remote ephemeral key', err);
  }
}

export class HandshakeState {
  readonly initiator: boolean;
  readonly #ss: SymmetricState;
  readonly #tokens: Token[][];
  readonly #psk: Buffer | undefined;
  readonly #ephemeralPrivate: Buffer | undefined;
  readonly #fresh: () => KeyPair;
  #e: KeyPair | undefined;
  #re: Buffer | undefined;
  #index = 0;
  #failed = false;

  constructor(options: HandshakeOptions) {
    const psk = options.psk;
    if (options.pattern === 'NNpsk0' && (psk === undefined || psk.length !== PSK_LENGTH)) {
      throw new BurrowError('ERR_CONFIG', 'NNpsk0 needs a 32-byte psk');
    }
    this.initiator = options.initiator;
    this.#tokens = PATTERNS[options.pattern];
    this.#psk = options.pattern === 'NNpsk0' ? psk : undefined;
    this.#ephemeralPrivate = options.ephemeralPrivate;
    this.#fresh = options.ephemeral ?? generateX25519;
    this.#ss = new SymmetricState(`Noise_${options.pattern}_25519_${options.cipher}_SHA256`, options.cipher);
    this.#ss.mixHash(options.prologue);
  }

  get isComplete(): boolean {
    return this.#index === this.#tokens.length;
  }

  /** The handshake hash h: a transcript digest both sides share once complete (channel binding). */
  get handshakeHash(): Buffer {
    return this.#ss.handshakeHash;
  }

  writeMessage(payload: Buffer): Buffer {
    const tokens = this.#turn(true);
    const parts: Buffer[] = [];
    for (const token of tokens) {
      if (token === 'e') {
        this.#e = keyPairFrom(this.#ephemeralPrivate, this.#fresh);
        parts.push(this.#e.raw);
        this.#mixEphemeral(this.#e.raw);
      } else {
        this.#mixToken(token);
      }
    }
    parts.push(this.#ss.encryptAndHash(payload));
    const message = Buffer.concat(parts);
    if (message.length > MAX_NOISE_MESSAGE) throw new BurrowError('ERR_FRAME_TOO_LARGE', 'noise message over 65535 bytes');
    this.#index += 1;
    return message;
  }

  /** Processes the peer's message and returns its payload; throws ERR_E2E_HANDSHAKE_FAILED on failure. */
  readMessage(message: Buffer): Buffer {
    const tokens = this.#turn(false);
    this.#failed = true; // cleared only once the whole message verified
    let offset = 0;
    for (const token of tokens) {
      if (token === 'e') {
        if (message.length - offset < DH_LENGTH) throw handshakeFailed('message too short');
        this.#re = Buffer.from(message.subarray(offset, offset + DH_LENGTH));
        offset += DH_LENGTH;
        this.#mixEphemeral(this.#re);
      } else {
        this.#mixToken(token);
      }
    }
    const payload = this.#ss.decryptAndHash(message.subarray(offset));
    if (payload === null) throw handshakeFailed('message did not authenticate');
    this.#failed = false;
    this.#index += 1;
    return payload;
  }

  /** The transport ciphers, oriented for this side. Only once the handshake is complete. */
  split(): { send: CipherState; recv: CipherState } {
    if (!this.isComplete || this.#failed) throw new BurrowError('ERR_INTERNAL', 'handshake not complete');
    const [c1, c2] = this.#ss.split();
    return this.initiator ? { send: c1, recv: c2 } : { send: c2, recv: c1 };
  }

  #turn(writing: boolean): Token[] {
    const tokens = this.#tokens[this.#index];
    if (this.#failed || tokens === undefined) throw new BurrowError('ERR_INTERNAL', 'handshake is over or failed');
    const initiatorsTurn = this.#index % 2 === 0;
    if ((initiatorsTurn === this.initiator) !== writing) throw new BurrowError('ERR_INTERNAL', 'not this side\'s turn');
    return tokens;
  }

  #mixEphemeral(pub: Buffer): void {
    this.#ss.mixHash(pub);
    if (this.#psk !== undefined) this.#ss.mixKey(pub);
  }

  #mixToken(token: 'ee' | 'psk'): void {
    if (token === 'psk') {
      if (this.#psk === undefined) throw new BurrowError('ERR_INTERNAL', 'psk token without a psk');
      this.#ss.mixKeyAndHash(this.#psk);
      return;
    }
    if (this.#e === undefined || this.#re === undefined) throw new BurrowError('ERR_INTERNAL', 'ee before both ephemerals');
    this.#ss.mixKey(dh(this.#e, this.#re));
  }
}
