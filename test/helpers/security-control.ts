/**
 * A logged-in control channel driven by hand: seal frames ourselves so a test can replay, reorder,
 * drop or tamper with them, and open what the relay seals back.
 */
import { ControlOpener, ControlSealer } from '../../shared/crypto/control-cipher.js';
import type { SessionKeys } from '../../shared/crypto/session-keys.js';
import type { PeerSession } from '../../shared/peer/peer-login.js';
import { decodeBody, encodeBody, frame } from '../../shared/protocol/codec.js';
import type { PeerControlMessage, RelayControlMessage } from '../../shared/protocol/messages.js';
import { parseRelayControl } from '../../shared/protocol/parse.js';
import { FrameReader } from './security-net.js';

export class HandControl {
  readonly sealer: ControlSealer;
  readonly opener: ControlOpener;

  constructor(readonly keys: SessionKeys, readonly reader: FrameReader) {
    this.sealer = new ControlSealer(keys.peerToRelay);
    this.opener = new ControlOpener(keys.relayToPeer);
  }

  /** Takes over the connection of a session made by the product's login(). */
  static fromSession(session: PeerSession): HandControl {
    const { channel } = session;
    const leftover = channel.detach();
    // The relay ends its side when it closes us; end ours so the socket closes at once.
    channel.socket.on('end', () => channel.socket.end());
    return new HandControl(session.keys, new FrameReader(channel.socket, { leftover }));
  }

  get closed(): Promise<void> {
    return this.reader.closed;
  }

  /** A sealed frame for `msg`, with the next counter; not sent. */
  seal(msg: PeerControlMessage | Record<string, unknown>): Buffer {
    return this.sealBytes(encodeBody(msg));
  }

  sealBytes(plaintext: Buffer): Buffer {
    return frame(this.sealer.seal(plaintext));
  }

  send(bytes: Buffer): void {
    this.reader.send(bytes);
  }

  /** The next message the relay sealed to us (heartbeats skipped), or undefined once it has closed. */
  async next(timeoutMs = 10_000): Promise<RelayControlMessage | undefined> {
    for (;;) {
      const body = await this.reader.next(timeoutMs);
      if (!body) return undefined;
      const msg = parseRelayControl(decodeBody(this.opener.open(body)));
      if (msg.t !== 'ping') return msg;
    }
  }

  /** The next sealed body, opened and msgpack-decoded but not validated: what the relay really sent. */
  async nextRaw(timeoutMs = 10_000): Promise<unknown> {
    const body = await this.reader.next(timeoutMs);
    return body ? decodeBody(this.opener.open(body)) : undefined;
  }

  /** Every message until the relay closes the connection. */
  async untilClosed(): Promise<RelayControlMessage[]> {
    const got: RelayControlMessage[] = [];
    for (let msg = await this.next(); msg; msg = await this.next()) got.push(msg);
    await this.closed;
    return got;
  }
}
