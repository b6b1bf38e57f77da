/**
 * Reads the tunnel's frame stream out of decrypted transport messages. A frame may span messages: its
 * header and a control payload are gathered (a few bytes), data is handed on piece by piece as it
 * arrives, never copied. Headers are checked as soon as they are complete (checkHeader).
 */
import { checkHeader, FRAME, FRAME_HEADER_LENGTH, malformed, type ControlFrame } from './tunnel-frames.js';

export interface FrameSink {
  control(frame: ControlFrame): void;
  /** The peer's next transport message is sealed under its rekeyed key. */
  rekey(): void;
  /** One piece of a data frame's payload (a frame may come in several). */
  data(channel: number, piece: Buffer): void;
}

export class FrameReader {
  readonly #sink: FrameSink;
  readonly #header = Buffer.alloc(FRAME_HEADER_LENGTH);
  #headerHave = 0;
  #type = 0;
  #channel = 0;
  #left = 0; // payload bytes still to come for the current frame
  #inFrame = false;
  #control: Buffer[] = [];

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** True between frames (a stream that ends here ended cleanly). */
  get atBoundary(): boolean {
    return !this.#inFrame && this.#headerHave === 0;
  }

  /**
   * Consumes one message's plaintext, or one piece of it (`last`: the message ends with this piece);
   * throws ERR_MALFORMED_FRAME on a bad header.
   */
  push(plaintext: Buffer, last = true): void {
    let offset = 0;
    while (offset < plaintext.length) {
      if (!this.#inFrame) {
        const take = Math.min(FRAME_HEADER_LENGTH - this.#headerHave, plaintext.length - offset);
        plaintext.copy(this.#header, this.#headerHave, offset, offset + take);
        this.#headerHave += take;
        offset += take;
        if (this.#headerHave < FRAME_HEADER_LENGTH) return;
        if (this.#header.readUInt8(0) === FRAME.rekey) {
          this.#headerHave = 0;
          checkHeader(FRAME.rekey, this.#header.readUInt32BE(1), this.#header.readUInt16BE(5));
          // The key changes at a message boundary: nothing may follow in this message.
          if (offset !== plaintext.length || !last) throw malformed('frames after a rekey in the same message');
          this.#sink.rekey();
          return;
        }
        this.#startFrame();
        continue;
      }
      const take = Math.min(this.#left, plaintext.length - offset);
      const piece = plaintext.subarray(offset, offset + take);
      offset += take;
      this.#left -= take;
      if (this.#type === FRAME.data) {
        if (this.#left === 0) this.#inFrame = false;
        this.#sink.data(this.#channel, piece);
      } else {
        this.#control.push(piece);
        if (this.#left === 0) this.#emitControl();
      }
    }
  }

  #startFrame(): void {
    this.#headerHave = 0;
    const type = this.#header.readUInt8(0);
    const channel = this.#header.readUInt32BE(1);
    const length = this.#header.readUInt16BE(5);
    checkHeader(type, channel, length);
    this.#type = type;
    this.#channel = channel;
    this.#left = length;
    this.#inFrame = true;
    if (length === 0) this.#emitControl();
  }

  #emitControl(): void {
    this.#inFrame = false;
    const payload = this.#control.length === 1 ? (this.#control[0] as Buffer) : Buffer.concat(this.#control);
    this.#control = [];
    if (this.#type === FRAME.window && payload.readUInt32BE(0) === 0) throw malformed('empty window');
    this.#sink.control({ type: this.#type as ControlFrame['type'], channel: this.#channel, payload });
  }
}
