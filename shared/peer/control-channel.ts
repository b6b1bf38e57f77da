/**
 * The sealed control channel after login: requests with ids and their replies, unsolicited messages
 * (Dial, Goodbye) for the role, heartbeats both ways, and one close reason.
 */
import { EventEmitter } from 'node:events';
import { ControlOpener, ControlSealer } from '../crypto/control-cipher.js';
import { BurrowError, codeOf } from '../errors.js';
import { decodeBody, encodeBody, frame } from '../protocol/codec.js';
import type { PeerControlMessage, RelayControlMessage } from '../protocol/messages.js';
import { parseRelayControl } from '../protocol/parse.js';
import type { PeerSession } from './peer-login.js';

type Reply = Extract<RelayControlMessage, { id?: number }>;
type Pending = { resolve: (msg: Reply) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export interface ControlChannelEvents {
  message: [RelayControlMessage];
  close: [BurrowError];
}

export class ControlChannel extends EventEmitter<ControlChannelEvents> {
  readonly #sealer: ControlSealer;
  readonly #opener: ControlOpener;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #lastHeard = Date.now();
  #heartbeat: NodeJS.Timeout;
  #closed: BurrowError | undefined;

  constructor(readonly session: PeerSession, opts: { deadMs?: number } = {}) {
    super();
    this.#sealer = new ControlSealer(session.keys.peerToRelay);
    this.#opener = new ControlOpener(session.keys.relayToPeer);
    const deadMs = opts.deadMs ?? session.pingMs * 3;
    let n = 0;
    this.#heartbeat = setInterval(() => {
      if (Date.now() - this.#lastHeard > deadMs) this.close(new BurrowError('ERR_TIMEOUT', 'relay silent'));
      else this.send({ t: 'ping', n: ++n });
    }, session.pingMs).unref();
    const { channel } = session;
    channel.socket.once('close', () => this.close(channel.closedError ?? new BurrowError('ERR_CONNECTION_CLOSED')));
    channel.onFrame((body) => this.#onFrame(body));
  }

  get closed(): BurrowError | undefined {
    return this.#closed;
  }

  send(msg: PeerControlMessage): void {
    if (!this.#closed) this.session.channel.send(frame(this.#sealer.seal(encodeBody(msg))));
  }

  /** Sends a request built with a fresh id and resolves with the reply carrying that id. */
  request(build: (id: number) => PeerControlMessage, timeoutMs = 10_000): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new BurrowError('ERR_TIMEOUT', 'no reply from the relay'));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.send(build(id));
    });
  }

  close(reason: BurrowError = new BurrowError('ERR_CONNECTION_CLOSED', 'closed by us')): void {
    if (this.#closed) return;
    this.#closed = reason;
    clearInterval(this.#heartbeat);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.#pending.clear();
    this.session.channel.socket.destroy();
    this.emit('close', reason);
  }

  #onFrame(body: Buffer): void {
    let msg: RelayControlMessage;
    try {
      msg = parseRelayControl(decodeBody(this.#opener.open(body)));
    } catch (err) {
      this.close(err instanceof BurrowError ? err : new BurrowError(codeOf(err)));
      return;
    }
    this.#lastHeard = Date.now();
    if (msg.t === 'ping') return this.send({ t: 'pong', n: msg.n });
    if ('id' in msg && msg.id !== undefined) {
      const pending = this.#pending.get(msg.id);
      if (pending) {
        this.#pending.delete(msg.id);
        clearTimeout(pending.timer);
        if (msg.t === 'error') pending.reject(new BurrowError(msg.code));
        else pending.resolve(msg);
        return;
      }
    }
    this.emit('message', msg);
  }
}
