/**
 * The one send path of the end-to-end transport, for single streams and tunnels alike: frames queued
 * in one turn of the event loop are sealed together, cut into Noise transport messages of at most
 * E2E_MAX_PLAINTEXT bytes (a frame may span two), and handed to the socket corked, so they leave in
 * one write. The sending key is replaced (Noise Rekey, announced by a rekey frame) every `rekeyMs`
 * and after every `rekeyBytes` sealed, so a long-lived stream keeps forward secrecy in windows: a key
 * taken from memory opens at most the last window. The reader's counterpart.
 */
import type { Duplex } from 'node:stream';
import { E2E_MAX_PLAINTEXT, e2eHeader } from '../crypto/e2e-frames.js';
import type { CipherState } from '../crypto/noise/cipher-state.js';
import { FRAME, FRAME_HEADER_LENGTH, frameHeader, type FrameType } from './tunnel-frames.js';

const EMPTY = Buffer.alloc(0);
/** Each side replaces its sending key this often, and after this many bytes. */
export const REKEY_MS = 10 * 60_000;
export const REKEY_BYTES = 1024 ** 3;

export interface RekeyOptions {
  ms?: number;
  bytes?: number;
}
/** Queued plaintext past which the writer flushes at once (and counts as congested until then). */
const FLUSH_AT = 256 * 1024;

export class FrameWriter {
  readonly #socket: Duplex;
  readonly #cipher: CipherState;
  /** Called after each flush with whether the socket took everything without backing up. */
  readonly #flushed: (ok: boolean) => void;
  #queue: Buffer[] = []; // plaintext frame bytes not yet sealed
  #queued = 0;
  #scheduled = false;
  #stopped = false;
  readonly #rekeyBytes: number;
  readonly #rekeyTimer: NodeJS.Timeout | undefined;
  #sealedSinceRekey = 0;
  /** Rekeys of our direction so far. */
  rekeys = 0;

  /** The key is changed (rekey()) every `rekeyMs` and once `rekeyBytes` plaintext bytes were sealed under it. */
  constructor(socket: Duplex, cipher: CipherState, flushed: (ok: boolean) => void, rekey: RekeyOptions = {}) {
    this.#socket = socket;
    this.#cipher = cipher;
    this.#flushed = flushed;
    this.#rekeyBytes = rekey.bytes ?? REKEY_BYTES;
    this.#rekeyTimer = setInterval(() => this.rekey(), rekey.ms ?? REKEY_MS).unref();
  }

  /** True while a flush is due at once: the queue itself is full. */
  get full(): boolean {
    return this.#queued >= FLUSH_AT;
  }

  /** Queues one frame; it is sealed at the end of this turn, or at once when the queue is full. */
  frame(type: FrameType, channel: number, payload: Buffer = EMPTY): void {
    if (this.#stopped) return;
    this.#queue.push(frameHeader(type, channel, payload.length));
    this.#queued += FRAME_HEADER_LENGTH + payload.length;
    if (payload.length > 0) this.#queue.push(payload);
    if (this.#queued >= FLUSH_AT) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Flushes what is queued, then writes the empty message (the end of the tunnel); nothing after it. */
  end(): void {
    if (this.#stopped) return;
    this.flush();
    this.#message([]);
    this.#stop();
  }

  /**
   * Flushes what is queued, then sends the rekey frame alone in the last message under the old key;
   * every later message is sealed under Rekey(k), and the old key is gone.
   */
  rekey(): void {
    if (this.#stopped) return;
    this.flush();
    this.#message([frameHeader(FRAME.rekey, 0, 0)]);
    this.#cipher.rekey();
    this.#sealedSinceRekey = 0;
    this.rekeys++;
  }

  /** Drops what is queued and writes nothing more (the stream or tunnel failed). */
  stop(): void {
    this.#stop();
    this.#queue = [];
    this.#queued = 0;
  }

  #stop(): void {
    this.#stopped = true;
    clearInterval(this.#rekeyTimer);
  }

  /** Seals the queued frame bytes into messages and writes them, corked. */
  readonly flush = (): void => {
    this.#scheduled = false;
    if (this.#queued === 0 || this.#stopped) return;
    const queue = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    this.#socket.cork();
    let ok = true;
    let pieces: Buffer[] = [];
    let room = E2E_MAX_PLAINTEXT;
    const seal = (): void => {
      ok = this.#message(pieces);
      pieces = [];
      room = E2E_MAX_PLAINTEXT;
    };
    for (let piece of queue) {
      while (piece.length > room) {
        pieces.push(piece.subarray(0, room));
        piece = piece.subarray(room);
        room = 0;
        seal();
      }
      if (piece.length > 0) {
        pieces.push(piece);
        room -= piece.length;
      }
      if (room === 0) seal();
    }
    if (pieces.length > 0) seal();
    if (this.#sealedSinceRekey >= this.#rekeyBytes) this.rekey();
    this.#socket.uncork();
    this.#flushed(ok);
  };

  /** Seals one transport message (its plaintext in pieces) and writes it; false once the socket is full. */
  #message(pieces: Buffer[]): boolean {
    const sealed = this.#cipher.encryptPieces(EMPTY, pieces);
    let length = 0;
    for (const p of pieces) this.#sealedSinceRekey += p.length;
    for (const p of sealed) length += p.length;
    this.#socket.write(e2eHeader(length));
    let ok = true;
    for (const p of sealed) ok = this.#socket.write(p);
    return ok;
  }
}
