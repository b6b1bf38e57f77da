/**
 * The one codec: a frame is a 4-byte big-endian length and then a body. Handshake bodies are msgpack;
 * sealed control bodies are AEAD ciphertext of msgpack. The length is checked against the maximum
 * before anything is buffered for it.
 */
import { addExtension, Packr } from 'msgpackr';
import { BurrowError } from '../errors.js';

// Every decoder option set, none left at msgpackr's default: no records, plain objects for maps, no
// bundled strings, no structured clones, 64-bit integers as numbers (parse.ts refuses unsafe ones).
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false, structuredClone: false, int64AsType: 'number' });

/**
 * msgpackr decodes its own extension types whatever the options (Set, RegExp, Error, BigInt, typed
 * arrays): burrow's messages hold none, so each is refused as soon as it is met instead of being built
 * and then rejected by parse.ts. (Timestamps still decode to a Date, which parse.ts refuses.)
 */
class NotAMessageValue {}
for (const type of [0x42, 0x62, 0x65, 0x69, 0x70, 0x73, 0x74, 0x78]) {
  addExtension({
    Class: NotAMessageValue, type,
    pack: () => { throw new BurrowError('ERR_INTERNAL', 'not a message value'); },
    unpack: () => { throw new BurrowError('ERR_MALFORMED_FRAME', `msgpack extension type ${type} is not accepted`); },
  });
}

export function encodeBody(message: object): Buffer {
  return packr.pack(message);
}

/** Decodes a msgpack body into an unchecked value; garbage becomes ERR_MALFORMED_FRAME. */
export function decodeBody(body: Buffer): unknown {
  try {
    return packr.unpack(body);
  } catch (err) {
    throw new BurrowError('ERR_MALFORMED_FRAME', 'undecodable body', { cause: err });
  }
}

export function frame(body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

export function encodeFrame(message: object): Buffer {
  return frame(encodeBody(message));
}

/**
 * Splits a byte stream into frame bodies. push(chunk) returns the complete bodies; a declared length
 * above the current maximum throws ERR_FRAME_TOO_LARGE without buffering the body.
 */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #maxFrame: number;

  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  set maxFrame(value: number) {
    this.#maxFrame = value;
  }

  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const bodies: Buffer[] = [];
    for (;;) {
      const body = this.#next();
      if (!body) return bodies;
      bodies.push(body);
    }
  }

  /** Buffers bytes without decoding; take frames with next(), so a caller can stop after any frame. */
  append(chunk: Buffer): void {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
  }

  /** Next whole frame already buffered, if any. */
  next(): Buffer | undefined {
    return this.#next();
  }

  /** Bytes received beyond the frames taken so far; the decoder is empty afterwards. */
  takeRest(): Buffer {
    const rest = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#buffered = 0;
    return rest;
  }

  get buffered(): number {
    return this.#buffered;
  }

  #next(): Buffer | undefined {
    if (this.#buffered < 4) return undefined;
    const head = this.#peek(4);
    const length = head.readUInt32BE(0);
    if (length > this.#maxFrame) {
      throw new BurrowError('ERR_FRAME_TOO_LARGE', `declared ${length} bytes, limit ${this.#maxFrame}`);
    }
    if (this.#buffered < 4 + length) return undefined;
    const all = this.#take(4 + length);
    return all.subarray(4);
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    // Merge once, so a frame trickling in byte by byte is copied a linear number of times.
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined.subarray(0, n);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length === n) {
      this.#chunks.shift();
      this.#buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return first.subarray(0, n);
    }
    const joined = Buffer.concat(this.#chunks);
    const rest = joined.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered -= n;
    return joined.subarray(0, n);
  }
}
