/**
 * A tunnel: many channels (one per local TCP connection) over one end-to-end channel, so a stream
 * costs a frame instead of a relay connection and a handshake. The initiator (client) opens channels;
 * the responder (skeleton) connects each to its target. Frames (tunnel-frames.ts) go out through a
 * FrameWriter (one seal and one write per event-loop turn) and come in through a FrameReader; an empty
 * transport message is the authenticated end of the whole tunnel.
 *
 * Flow control is per channel and credit based (CHANNEL_WINDOW, granted back as the local socket takes
 * the bytes), so the tunnel socket is never paused for one slow channel and a peer that sends past its
 * credit is a protocol error.
 * Any protocol error, a frame that fails to open, or a socket end without the end frame closes the
 * tunnel and every channel in it; a bad channel never takes the process down.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { TunnelLink } from '../crypto/secure-stream.js';
import { E2eReceiver, type TransportEvent } from '../transport/e2e-receiver.js';
import { BurrowError, codeOf, type ErrorCode } from '../errors.js';
import { Channel, type ChannelLocal } from './tunnel-channel.js';
import { ChannelTable } from './channel-table.js';
import { CLIENT_TUNNEL_WINDOWS, type ChannelWindows } from './channel-credit.js';
import { FrameWriter, type RekeyOptions } from './tunnel-frame-writer.js';
import { FRAME, type ControlFrame, type FrameType } from './tunnel-frames.js';

const EMPTY = Buffer.alloc(0);
/**
 * Bytes the tunnel socket may hold unsent. Channels stop reading while it is congested, so only
 * replies the peer provokes (refusals, window grants) grow it further: a peer that floods opens and
 * never reads its side is cut off with ERR_LIMIT instead of growing our memory without bound.
 */
export const MAX_BACKLOG = 32 * 1024 * 1024;
/** How long an ended tunnel waits for the peer's end before it is cut. */
const END_GRACE_MS = 5_000;
/**
 * Bytes all channels of a tunnel may hold for targets that are still connecting (each channel may send
 * up to its window before `opened`); past it the tunnel is cut with ERR_LIMIT.
 */
export const MAX_PENDING = 16 * 1024 * 1024;
export { REKEY_BYTES, REKEY_MS } from './tunnel-frame-writer.js';

export type TunnelRole = 'initiator' | 'responder';

export interface TunnelEvents {
  /** Responder: the initiator opened a channel; call accept(socket) or refuse(code) on it. */
  channel: [Channel];
  /** The tunnel is gone; `code` is set when it failed rather than ended. */
  close: [ErrorCode | undefined];
  /** The last channel closed (an idle tunnel may be ended). */
  idle: [];
}

export class Tunnel extends EventEmitter<TunnelEvents> {
  readonly role: TunnelRole;
  readonly #socket: Duplex;
  readonly #receiver: E2eReceiver;
  /** The channel table, sans-IO (channel-table.ts). */
  readonly #table: ChannelTable<Channel>;
  readonly #maxBacklog: number;
  readonly #maxPending: number;
  #pending = 0;
  readonly #endGraceMs: number;
  readonly #openPayloads: boolean;
  readonly windows: ChannelWindows;
  readonly preOpenBytes: number | undefined;
  /** Channels that paused their local socket until the tunnel socket drains. */
  readonly #waitingDrain = new Set<Channel>();
  readonly #writer: FrameWriter;
  /**
   * Local sockets corked while the frames of one read from the tunnel are delivered, uncorked after it:
   * the pieces a read holds for a channel (a frame may span messages) leave in one writev, not one write each.
   */
  readonly #corked = new Set<ChannelLocal>();
  #reading = false;
  #congested = false;
  #socketEnded: boolean;
  #peerEnded = false;
  #ending = false; // our end frame is sent: no new channels
  #closed = false;

  constructor(
    link: TunnelLink, role: TunnelRole,
    opts: {
      maxChannels?: number; maxBacklog?: number; maxPending?: number; endGraceMs?: number; rekey?: RekeyOptions;
      /** Responder: opens may carry a payload (a relay's public tunnel: the public client's endpoints); else one is a protocol error. */
      openPayloads?: boolean;
      /** The channels' windows (both sides must agree): a client tunnel's by default, PUBLIC_* for a public tunnel. */
      windows?: ChannelWindows;
      /**
       * Initiator: data a channel may send before the responder's `opened` (the responder holds it for a
       * target still connecting, MAX_PENDING over all channels); unbounded beyond the credit by default.
       */
      preOpenBytes?: number;
    } = {},
  ) {
    super();
    this.role = role;
    this.#socket = link.socket;
    this.#writer = new FrameWriter(link.socket, link.ciphers.send, (ok) => this.#afterFlush(ok), opts.rekey);
    this.#receiver = new E2eReceiver(link.decoder, link.ciphers.recv, { verdictPending: link.verdictPending });
    this.#socketEnded = link.socketEnded;
    this.#table = new ChannelTable<Channel>(opts.maxChannels);
    this.#maxBacklog = opts.maxBacklog ?? MAX_BACKLOG;
    this.#maxPending = opts.maxPending ?? MAX_PENDING;
    this.#endGraceMs = opts.endGraceMs ?? END_GRACE_MS;
    this.#openPayloads = opts.openPayloads ?? false;
    this.windows = opts.windows ?? CLIENT_TUNNEL_WINDOWS;
    this.preOpenBytes = opts.preOpenBytes;
    const socket = this.#socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onSocketEnd);
    socket.on('error', this.#onSocketError);
    socket.on('close', this.#onSocketClose);
    socket.on('drain', this.#onDrain);
    // Frames that came behind the handshake are read in the next turn, once the owner has listened.
    setImmediate(() => {
      this.#readFrames();
      socket.resume();
    });
  }

  /** Rekeys of the peer's direction seen so far (for tests and diagnostics). */
  get peerRekeys(): number {
    return this.#receiver.peerRekeys;
  }

  get channelCount(): number {
    return this.#table.size;
  }

  /** False once the tunnel failed, ended, or is ending: open no new channel on it. */
  get usable(): boolean {
    return !this.#closed && !this.#ending && !this.#peerEnded && this.#table.idsLeft;
  }

  /**
   * Initiator: a new channel for `local`, whose bytes flow at once (the responder holds them until its
   * target accepts). `openPayload` goes with the open frame (a public tunnel's client endpoints);
   * `windows` replaces the tunnel's for this channel's receive side (the same sizes, another budget).
   */
  openChannel(local: ChannelLocal, openPayload: Buffer = EMPTY, windows?: ChannelWindows): Channel {
    if (this.role !== 'initiator') throw new BurrowError('ERR_INTERNAL', 'only the initiator opens channels');
    if (!this.usable) throw new BurrowError('ERR_CONNECTION_CLOSED', 'tunnel is closing');
    const channel = this.#table.openNext((id) => new Channel(this, id, EMPTY, windows));
    this.send(FRAME.open, channel.id, openPayload);
    channel.attach(local);
    return channel;
  }

  /** Ends the tunnel gracefully: no more frames from us. The end resets every channel still open. */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    for (const channel of this.#table.values()) channel.abort('ERR_CONNECTION_CLOSED');
    this.#writer.end();
    this.#socket.end();
    if (this.#peerEnded) this.#finish(undefined);
    else setTimeout(() => this.#finish('ERR_TIMEOUT'), this.#endGraceMs).unref(); // a peer that never ends its side
  }

  /** Closes the tunnel at once; every channel's local socket is destroyed. */
  destroy(code: ErrorCode = 'ERR_CONNECTION_CLOSED'): void {
    this.#finish(code);
  }

  // --- used by Channel -------------------------------------------------------------------------

  /** True while the tunnel socket's buffer is full: channels should stop reading their local side. */
  get congested(): boolean {
    return this.#congested || this.#writer.full;
  }

  /** A channel is about to write to its local socket: during a read, its writes wait for the read's end. */
  holdWrites(local: ChannelLocal): void {
    if (!this.#reading || this.#corked.has(local)) return;
    local.cork();
    this.#corked.add(local);
  }

  waitForDrain(channel: Channel): void {
    this.#waitingDrain.add(channel);
  }

  /** Queues one frame; frames of one event-loop turn are sealed and written together. */
  send(type: FrameType, channel: number, payload: Buffer = EMPTY): void {
    if (this.#closed || this.#ending) return;
    this.#writer.frame(type, channel, payload);
  }

  /** A channel is done on both sides; a late frame for its id is ignored. */
  forget(channel: Channel): void {
    this.#waitingDrain.delete(channel);
    if (!this.#table.remove(channel.id, channel)) return;
    if (this.#table.size === 0 && !this.#closed) this.emit('idle');
  }

  /** A channel holds `bytes` for a target still connecting; too much over all channels cuts the tunnel. */
  holdPending(bytes: number): void {
    this.#pending += bytes;
    if (this.#pending > this.#maxPending) this.#finish('ERR_LIMIT');
  }

  releasePending(bytes: number): void {
    this.#pending -= bytes;
  }

  /** A protocol error on one channel: the peer is not to be trusted with the tunnel any more. */
  fail(err: BurrowError): void {
    this.#finish(err.code);
  }

  // --- internals -------------------------------------------------------------------------------

  #afterFlush(ok: boolean): void {
    if (!ok) this.#congested = true;
    if (this.#socket.writableLength > this.#maxBacklog) this.#finish('ERR_LIMIT');
  }

  #readFrames(): void {
    while (!this.#closed) {
      let event: TransportEvent | null;
      try {
        event = this.#receiver.next();
      } catch (err) {
        return this.#finish(codeOf(err));
      }
      if (event === null) break;
      if (event.type === 'end') this.#onPeerEnd();
      else if (event.type === 'control') this.#dispatch(event.frame);
      else this.#onDataPiece(event.channel, event.piece);
    }
    if (this.#socketEnded && !this.#peerEnded && !this.#closed) this.#finish(this.#receiver.truncation().code);
  }

  #onDataPiece(id: number, piece: Buffer): void {
    if (this.#closed) return; // the rest of a message behind a frame that failed the tunnel
    const channel = this.#table.get(id);
    if (channel === undefined) {
      if (this.#table.unknown(id) === 'protocol-error') this.#finish('ERR_PROTOCOL');
      return;
    }
    channel.onData(piece);
  }

  #dispatch(frame: ControlFrame): void {
    // A frame that failed the tunnel may have more behind it in the same message: none of them counts,
    // least of all an open (its target would be connected for a tunnel that is gone, and never closed).
    if (this.#closed) return;
    if (frame.type === FRAME.open) {
      const verdict = this.role === 'responder' ? this.#table.admit(frame.channel) : 'protocol-error';
      if (verdict === 'protocol-error' || (frame.payload.length > 0 && !this.#openPayloads)) return this.#finish('ERR_PROTOCOL');
      if (this.#ending) return;
      if (verdict === 'full') {
        this.send(FRAME.refused, frame.channel, Buffer.from('ERR_LIMIT', 'ascii'));
        return;
      }
      const channel = new Channel(this, frame.channel, frame.payload);
      this.#table.add(channel.id, channel);
      this.emit('channel', channel);
      return;
    }
    const channel = this.#table.get(frame.channel);
    if (channel === undefined) {
      // A frame for a channel that is already gone (its reset crossed this frame) is harmless; one for
      // an id never opened is not.
      if (this.#table.unknown(frame.channel) === 'protocol-error') this.#finish('ERR_PROTOCOL');
      return;
    }
    const initiatorOnly = frame.type === FRAME.opened || frame.type === FRAME.refused;
    if (initiatorOnly && this.role !== 'initiator') return this.#finish('ERR_PROTOCOL');
    channel.onFrame(frame);
  }

  #onPeerEnd(): void {
    this.#peerEnded = true;
    for (const channel of this.#table.values()) channel.abort('ERR_CONNECTION_CLOSED');
    if (this.#ending) this.#finish(undefined);
    else this.end();
  }

  #finish(code: ErrorCode | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    // Our end (if any) is flushed already; this drops anything later and stops the rekey timer.
    this.#writer.stop();
    for (const channel of this.#table.drain()) channel.abort(code ?? 'ERR_CONNECTION_CLOSED');
    this.#waitingDrain.clear();
    const socket = this.#socket;
    socket.off('data', this.#onData);
    socket.off('drain', this.#onDrain);
    if (code === undefined) {
      // Our end frame is written; the socket closes once the peer's FIN arrives or after a grace.
      const grace = setTimeout(() => socket.destroy(), this.#endGraceMs);
      grace.unref();
      socket.once('close', () => clearTimeout(grace));
      socket.resume();
    } else {
      socket.destroy();
    }
    this.emit('close', code);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#receiver.push(chunk);
    this.#reading = true;
    try {
      this.#readFrames();
    } finally {
      this.#reading = false;
      for (const local of this.#corked) local.uncork();
      this.#corked.clear();
    }
  };

  readonly #onSocketEnd = (): void => {
    this.#socketEnded = true;
    this.#readFrames();
  };

  readonly #onSocketError = (): void => {
    this.#finish('ERR_CONNECTION_CLOSED');
  };

  readonly #onSocketClose = (): void => {
    if (!this.#closed) this.#finish(this.#peerEnded ? undefined : 'ERR_CONNECTION_CLOSED');
  };

  readonly #onDrain = (): void => {
    this.#congested = false;
    // A snapshot: a channel that finds the tunnel congested again waits for the next drain, not this loop.
    for (const channel of [...this.#waitingDrain]) {
      if (this.congested) break;
      this.#waitingDrain.delete(channel);
      channel.drained();
    }
  };
}

