/**
 * One channel of a tunnel, bound to a local TCP socket (the app's connection at the client, the
 * target's at the skeleton). Bytes read from the socket go out as data frames within the peer's
 * credit; data frames in are written to the socket and their credit granted back once the socket has
 * taken them. A half-close becomes an end frame and an end frame a half-close; a socket that closes
 * before both directions ended resets the channel, and a reset destroys the socket.
 */
import { BurrowError, wireCode, type ErrorCode } from '../errors.js';
import type { Tunnel } from './tunnel.js';
import { resetSocket, type Resettable } from '../net/reset-socket.js';
import { ChannelReplay } from './channel-replay.js';
import { ChannelCredit, type ChannelWindows } from './channel-credit.js';
import { codePayload, FRAME, MAX_DATA, payloadCode, windowPayload, type ControlFrame } from './tunnel-frames.js';

/**
 * What a channel carries bytes for: a TCP socket (the app's, the target's, a public client's) or any
 * Duplex (the relay's HTTP front hands one end of a pair). A TCP socket is reset on a reset frame.
 */
export type ChannelLocal = Resettable;

export interface ChannelResult {
  /** Initiator: the responder's target accepted. Responder: accept() was called. */
  opened: boolean;
  /** The responder refused the channel (code says why). */
  refused: boolean;
  /** Set unless both directions ended cleanly. */
  code?: ErrorCode;
  /**
   * Initiator: refused, and the local socket was let go whole (keepLocalIfRefused): what it had sent on
   * this channel is back in its read buffer, for another channel to carry from the first byte.
   */
  localKept?: boolean;
}

export { REPLAY_LIMIT } from './channel-replay.js';

export class Channel {
  readonly id: number;
  /** Resolves once the channel is over, whichever way. */
  readonly settled: Promise<ChannelResult>;
  readonly #tunnel: Tunnel;
  #resolve!: (result: ChannelResult) => void;
  #local: ChannelLocal | undefined;
  /** Responder: the open frame's payload (empty unless a public tunnel sent the client's endpoints). */
  readonly openPayload: Buffer;
  /** Flow control, sans-IO (channel-credit.ts). */
  readonly #credit: ChannelCredit;
  /** Initiator: data sent before the responder's `opened` (bounded by the tunnel's preOpenBytes). */
  #sentBeforeOpen = 0;
  #pendingIn: Buffer[] = []; // data that arrived before the responder's target connected
  #pendingBytes = 0;
  #pendingEnd = false;
  #held: Buffer | undefined; // bytes read locally that wait for credit
  #localEnded = false;
  #localClosed = false;
  #sentEnd = false;
  #gotEnd = false;
  #gone = false; // reset, refused or aborted: nothing more is sent or delivered
  #opened = false;
  #refused = false;
  /**
   * Initiator: a refusal for which this says true leaves the local socket as it is (listeners removed,
   * not reset), for the caller to carry on another channel: a stopping skeleton's ERR_SHUTTING_DOWN for
   * a connection whose app has sent nothing yet.
   */
  keepLocalIfRefused: ((code: ErrorCode) => boolean) | undefined;
  /** What was sent before `opened`, kept for a refusal (channel-replay.ts). */
  readonly #replay = new ChannelReplay();
  #localKept = false;
  /** Which way the last data went: from the local socket (true), to it (false), none yet (undefined). */
  #lastFromLocal: boolean | undefined;

  constructor(tunnel: Tunnel, id: number, openPayload: Buffer = Buffer.alloc(0), windows: ChannelWindows = tunnel.windows) {
    this.#tunnel = tunnel;
    this.id = id;
    this.openPayload = openPayload;
    this.#credit = new ChannelCredit(windows);
    this.settled = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** True once the channel can carry nothing more (the peer reset it, or the tunnel went away). */
  get gone(): boolean {
    return this.#gone;
  }

  get opened(): boolean {
    return this.#opened;
  }

  /** Which way the last data went: read from the local socket (true), written to it (false), none yet (undefined). */
  get lastFromLocal(): boolean | undefined {
    return this.#lastFromLocal;
  }

  /**
   * One direction has ended and the other not yet: a download whose server is done while its last bytes
   * still travel to the reader (kernel buffers on the way hold megabytes no process sees move), or an
   * upload whose answer is still to come. Work in flight, not idle.
   */
  get halfClosed(): boolean {
    return this.#sentEnd !== this.#gotEnd;
  }

  /**
   * Bytes wait on a slow reader: read locally and held for the peer's credit (or the tunnel's drain), or
   * written to the local socket and not yet taken. A silent channel that is blocked is not idle.
   */
  get blocked(): boolean {
    return this.#held !== undefined || (this.#local?.writableLength ?? 0) > 0;
  }

  /** Responder: the target accepted; bytes held for it flow now. A channel already gone destroys it. */
  accept(target: ChannelLocal): void {
    if (this.#gone) {
      target.destroy();
      return;
    }
    this.#opened = true;
    this.#tunnel.send(FRAME.opened, this.id);
    this.attach(target);
  }

  /** Responder: the target could not be opened. */
  refuse(code: ErrorCode): void {
    if (this.#gone) return;
    this.#refused = true;
    this.#tunnel.send(FRAME.refused, this.id, codePayload(wireCode(code)));
    this.#end(code);
  }

  /** Binds the local socket: what arrived for it so far is written, and its bytes start to flow. */
  attach(local: ChannelLocal): void {
    this.#local = local;
    local.on('data', this.#onLocalData);
    local.on('end', this.#onLocalEnd);
    local.on('error', this.#ignoreError); // 'close' follows and says what it means for the channel
    local.on('close', this.#onLocalClose);
    for (const chunk of this.#pendingIn) this.#deliver(chunk);
    this.#dropPending();
    if (this.#pendingEnd) local.end();
    if (local.destroyed) this.#onLocalClose();
    else this.resumeLocal();
  }

  /** Lets go of the local socket whole: what it sent (and what waits for credit) back in its read buffer, paused, none of our listeners left. */
  #giveBack(local: ChannelLocal, sent: Buffer[]): void {
    const back = this.#held ? [...sent, this.#held] : sent;
    this.#held = undefined;
    this.#detach(local);
    if (back.length > 0) local.unshift(back.length === 1 ? (back[0] as Buffer) : Buffer.concat(back));
    this.#localKept = true;
  }

  /** Lets go of the local socket: paused, and none of our listeners left on it. */
  #detach(local: ChannelLocal): void {
    local.pause();
    local.off('data', this.#onLocalData);
    local.off('end', this.#onLocalEnd);
    local.off('error', this.#ignoreError);
    local.off('close', this.#onLocalClose);
    this.#local = undefined;
  }

  /** The tunnel socket drained: what was held for it goes out, then the local socket is read again. */
  drained(): void {
    if (!this.#gone) this.#unblock();
  }

  /** Resumes reading the local socket if credit and the tunnel allow. */
  resumeLocal(): void {
    const local = this.#local;
    if (this.#gone || local === undefined || this.#held !== undefined || this.#localEnded) return;
    if (this.#sendable() <= 0) return; // a window frame (or opened) resumes it
    // Congested: the drain resumes it (a channel attached now was never paused by #send, so is not waiting yet).
    if (this.#tunnel.congested) this.#tunnel.waitForDrain(this);
    else local.resume();
  }

  /**
   * The tunnel went away (or ended) with this channel open: the local socket is reset, so its peer sees a
   * cut (RST) and never takes what it got for a whole stream.
   */
  abort(code: ErrorCode): void {
    if (this.#gone) return;
    const local = this.#local;
    if (local && !local.destroyed) resetLocal(local);
    this.#end(code);
  }

  onFrame(frame: ControlFrame): void {
    if (this.#gone) return;
    switch (frame.type) {
      case FRAME.opened:
        if (this.#opened) return this.#tunnel.fail(new BurrowError('ERR_PROTOCOL', 'opened twice'));
        this.#opened = true;
        this.#replay.drop();
        return this.#unblock(); // data held back until the target accepted (preOpenBytes) flows now
      case FRAME.refused: {
        this.#refused = true;
        const code = payloadCode(frame.payload, 'ERR_SERVER_UNREACHABLE');
        const local = this.#local;
        if (local && !local.destroyed) {
          // The app sees its connection reset, the nearest thing to a refused connection once accepted,
          // unless the caller takes it on to another channel.
          if (this.#replay.possible && !this.#localEnded && this.keepLocalIfRefused?.(code)) this.#giveBack(local, this.#replay.pieces);
          else resetLocal(local);
        }
        return this.#end(code);
      }
      case FRAME.end:
        if (this.#gotEnd) return this.#tunnel.fail(new BurrowError('ERR_PROTOCOL', 'end twice'));
        this.#gotEnd = true;
        if (this.#local) this.#local.end();
        else this.#pendingEnd = true;
        return this.#maybeDone();
      case FRAME.reset: {
        const code = frame.payload.length > 0 ? payloadCode(frame.payload, 'ERR_CONNECTION_CLOSED') : 'ERR_CONNECTION_CLOSED';
        const local = this.#local;
        if (local && !local.destroyed) resetLocal(local);
        return this.#end(code);
      }
      case FRAME.window:
        return this.#onWindow(frame.payload.readUInt32BE(0));
      default:
        return this.#tunnel.fail(new BurrowError('ERR_PROTOCOL', `frame ${frame.type} on a channel`));
    }
  }

  /** A piece of a data frame from the peer. */
  onData(payload: Buffer): void {
    if (this.#gone) return;
    if (this.#gotEnd) return this.#tunnel.fail(new BurrowError('ERR_PROTOCOL', 'data after end'));
    if (!this.#credit.received(payload.length)) return this.#tunnel.fail(new BurrowError('ERR_PROTOCOL', 'data beyond the window'));
    // A piece is a view of its whole decrypted message (up to 64 KiB), and the window counts only the
    // piece: held (pendingIn, a slow socket's queue) as a view, one byte of window could pin 64 KiB.
    const own = payload.length < payload.buffer.byteLength / 2 ? Buffer.from(payload) : payload;
    if (this.#local) this.#deliver(own);
    else {
      this.#pendingIn.push(own);
      this.#pendingBytes += own.length;
      this.#tunnel.holdPending(own.length);
    }
  }

  /** Gives the tunnel back what this channel held for a target that was not there yet. */
  #dropPending(): void {
    this.#tunnel.releasePending(this.#pendingBytes);
    this.#pendingBytes = 0;
    this.#pendingIn = [];
  }

  /**
   * Writes to the local socket; once it has taken a quarter window, that much is granted back, plus as
   * much again (up to MAX_CHANNEL_WINDOW) when nothing is queued behind it: a fast reader's window grows.
   */
  #deliver(chunk: Buffer): void {
    this.#lastFromLocal = false;
    const local = this.#local;
    if (local) this.#tunnel.holdWrites(local);
    local?.write(chunk, (err) => {
      if (err || this.#gone) return;
      const grant = this.#credit.delivered(chunk.length, local.writableLength === 0);
      if (grant > 0) this.#tunnel.send(FRAME.window, this.id, windowPayload(grant));
    });
  }

  #onWindow(grant: number): void {
    if (!this.#credit.granted(grant)) return this.#tunnel.fail(new BurrowError('ERR_PROTOCOL', 'window overflow'));
    this.#unblock();
  }

  /** Sends what was held back for credit (or for `opened`), then the end or more of the local socket. */
  #unblock(): void {
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      this.#send(held);
    }
    if (this.#held !== undefined) return;
    if (this.#localEnded && !this.#sentEnd) this.#sendEnd();
    else this.resumeLocal();
  }

  readonly #ignoreError = (): void => undefined;

  readonly #onLocalData = (chunk: Buffer): void => {
    if (this.#gone) return;
    this.#lastFromLocal = true;
    this.#send(chunk);
  };

  /**
   * Sends what credit allows; the rest is held and the local socket paused until more is granted. While
   * the tunnel socket is congested nothing is queued on it: the chunk is held until it drains, so many
   * channels reading at once add at most one chunk each to this process's memory, never to the
   * tunnel's backlog (whose cap would cut every channel).
   */
  #send(chunk: Buffer): void {
    const local = this.#local;
    if (this.#tunnel.congested) {
      this.#held = chunk;
      local?.pause();
      this.#tunnel.waitForDrain(this);
      return;
    }
    let offset = 0;
    for (let room = this.#sendable(); offset < chunk.length && room > 0; room = this.#sendable()) {
      const n = Math.min(chunk.length - offset, MAX_DATA, room);
      this.#tunnel.send(FRAME.data, this.id, chunk.subarray(offset, offset + n));
      this.#credit.spend(n);
      if (!this.#opened) {
        this.#sentBeforeOpen += n;
        if (this.keepLocalIfRefused) this.#replay.keep(chunk.subarray(offset, offset + n));
      }
      offset += n;
    }
    if (offset < chunk.length) {
      this.#held = chunk.subarray(offset);
      local?.pause();
    } else if (this.#tunnel.congested && local) {
      local.pause();
      this.#tunnel.waitForDrain(this);
    }
  }

  /** What may go out now: the peer's credit, and before `opened` no more than the tunnel's preOpenBytes. */
  #sendable(): number {
    const credit = this.#credit.sendable;
    const cap = this.#tunnel.preOpenBytes;
    if (this.#opened || cap === undefined) return credit;
    return Math.min(credit, cap - this.#sentBeforeOpen);
  }

  readonly #onLocalEnd = (): void => {
    this.#localEnded = true;
    if (!this.#gone && this.#held === undefined) this.#sendEnd();
  };

  readonly #onLocalClose = (): void => {
    this.#localClosed = true;
    if (this.#gone) return;
    if (this.#localEnded && this.#gotEnd) return this.#maybeDone();
    // Closed before both directions ended: the app or target reset or failed.
    this.#tunnel.send(FRAME.reset, this.id);
    this.#end('ERR_CONNECTION_CLOSED');
  };

  #sendEnd(): void {
    this.#sentEnd = true;
    this.#tunnel.send(FRAME.end, this.id);
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#sentEnd && this.#gotEnd && (this.#localClosed || this.#local === undefined)) this.#end(undefined);
  }

  #end(code: ErrorCode | undefined): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#credit.release();
    this.#dropPending();
    this.#held = undefined;
    this.#tunnel.forget(this);
    this.#replay.drop();
    this.#resolve({ opened: this.#opened, refused: this.#refused, ...(code ? { code } : {}), ...(this.#localKept ? { localKept: true } : {}) });
  }
}

/** Resets a TCP local (RST); any other Duplex is destroyed (shared/net/reset-socket.ts). */
export function resetLocal(local: ChannelLocal): void {
  resetSocket(local);
}
