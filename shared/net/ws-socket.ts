/**
 * A WebSocket as the byte stream the rest of burrow uses (a socket-like Duplex): binary messages in
 * order are the bytes of the stream, and an empty binary message ends one direction (a TCP FIN: the
 * relay's splice and the end-to-end layer rely on half-close). When both directions have ended the
 * WebSocket closes with 1000; destroy() without an error sends what is missing of that (as TCP's FIN),
 * with an error it cuts the connection (a reset). A text message: the connection closes with 1003.
 *
 * Backpressure both ways: a push the reader does not take pauses the WebSocket (and so its TCP socket);
 * a write is acknowledged at once while the WebSocket holds less than its high-water mark unsent, else
 * when that message has reached the kernel. It keeps the few net.Socket members the relay and the peers
 * use (bytesRead, setTimeout's idle 'timeout', the addresses), so the existing code takes it unchanged.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Close code for a text message (RFC 6455: 1003, data of a type it cannot accept). */
export const WS_CLOSE_TEXT = 1003;
/** Writes larger than this leave as several messages, so no message nears the receiver's maxPayload. */
export const WS_MESSAGE_MAX = 256 * 1024;
/** The largest message either side accepts (ws's maxPayload): WS_MESSAGE_MAX with room to spare. */
export const WS_MAX_PAYLOAD = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export interface WsSocketOptions {
  /** Ping this often; a connection that has not answered the previous ping by then is cut. 0: never. */
  pingMs?: number;
}

export class WsSocket extends Duplex {
  bytesRead = 0;
  bytesWritten = 0;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  #idleMs = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastActive = Date.now();
  #ping: NodeJS.Timeout | undefined;
  #finSent = false;
  #finReceived = false;
  readonly #tcp: Socket;
  readonly #pingMs: number;

  /** `tcp`: the socket under the WebSocket (its addresses); `remoteAddress`: the real peer's, if a trusted proxy named it. */
  constructor(readonly ws: WebSocket, tcp: Socket, opts: WsSocketOptions & { remoteAddress?: string } = {}) {
    super({ allowHalfOpen: true, decodeStrings: true });
    this.#tcp = tcp;
    this.remoteAddress = opts.remoteAddress ?? tcp.remoteAddress;
    this.remotePort = tcp.remotePort;
    this.localAddress = tcp.localAddress;
    this.localPort = tcp.localPort;
    ws.on('message', this.#onMessage);
    ws.on('error', (err: NodeJS.ErrnoException) => this.destroy(err));
    ws.once('close', (code: number) => {
      clearInterval(this.#ping);
      if (this.destroyed) return;
      // A clean close (1000, or 1005: none given) is the peer's FIN if it sent none: what it sent before
      // is still read, as from a TCP socket the peer closed. Anything else (1006: the TCP connection just
      // went; 1003, 1011: a broken peer) before the peer's FIN is a reset.
      if (code !== 1000 && code !== 1005 && !this.#finReceived) {
        this.destroy(Object.assign(new Error(`websocket closed (${code})`), { code: 'ECONNRESET' }));
        return;
      }
      // Our side stays as TCP leaves it (half-open): what we write now fails; the stream is destroyed
      // (autoDestroy) once it has ended both ways.
      if (!this.#finReceived) this.#receiveFin();
    });
    this.#pingMs = opts.pingMs ?? 0;
    if (ws.readyState === ws.OPEN) this.opened();
  }

  /** The upgrade is done (a peer wraps its WebSocket before that, so its owner can cancel the dial). */
  opened(): void {
    if (this.#pingMs > 0 && !this.#ping && !this.destroyed) this.#startPings(this.#pingMs);
  }

  #onMessage = (data: Buffer, isBinary: boolean): void => {
    if (!isBinary) {
      this.ws.close(WS_CLOSE_TEXT, 'binary frames only');
      this.destroy(Object.assign(new Error('text frame'), { code: 'ERR_WS_TEXT_FRAME' }));
      return;
    }
    if (this.#finReceived) return;
    if (data.length === 0) {
      this.#receiveFin();
      this.#closeIfDone();
      return;
    }
    this.bytesRead += data.length;
    this.#lastActive = Date.now();
    if (!this.push(data)) this.ws.pause();
  };

  /**
   * The peer's FIN. Its 'end' comes in a later turn of the event loop, as TCP's EOF comes in a later
   * read: a reader that took the last frame before the FIN (and awaits a promise to go on) reads on
   * first, instead of finding the stream already ended (the FIN often shares a TCP segment here).
   */
  #receiveFin(): void {
    this.#finReceived = true;
    setImmediate(() => this.push(null));
  }

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#lastActive = Date.now();
    this.bytesWritten += chunk.length;
    let sent = 0;
    do {
      const part = chunk.length - sent > WS_MESSAGE_MAX ? chunk.subarray(sent, sent + WS_MESSAGE_MAX) : sent === 0 ? chunk : chunk.subarray(sent);
      sent += part.length;
      if (sent < chunk.length) this.ws.send(part, { binary: true });
      else this.#sendLast(part, callback);
    } while (sent < chunk.length);
  }

  /** A cork()ed batch leaves as one message (the relay corks a Bind with the bytes held for it). */
  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    const all = Buffer.concat(chunks.map((c) => c.chunk));
    this._write(all, 'binary', callback);
  }

  #sendLast(part: Buffer, callback: (err?: Error | null) => void): void {
    let acknowledged = false;
    this.ws.send(part, { binary: true }, (err) => {
      if (!acknowledged) callback(err);
    });
    if (this.ws.bufferedAmount <= this.writableHighWaterMark) {
      acknowledged = true;
      callback();
    }
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN && !this.#finSent) this.ws.send(EMPTY, { binary: true });
    this.#finSent = true;
    this.#closeIfDone();
    callback();
  }

  #closeIfDone(): void {
    if (this.#finSent && this.#finReceived && this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearInterval(this.#ping);
    clearTimeout(this.#idleTimer);
    // As a TCP socket's destroy(): without an error the peer sees the end of the stream (FIN, then a
    // clean close; ws ends the TCP connection if the peer never answers the close); with one, a reset.
    if (!err && this.ws.readyState === this.ws.OPEN) {
      if (!this.#finSent) this.ws.send(EMPTY, { binary: true });
      this.#finSent = true;
      this.ws.close(1000);
      // Not waiting for the peer's close frame (a dead path would hold the connection for ws's 30 s):
      // as TCP's destroy(), what was written leaves, then the connection is gone.
      this.#tcp.destroySoon();
    } else if ((err || this.ws.readyState === this.ws.CONNECTING) && this.ws.readyState !== this.ws.CLOSED) {
      this.ws.terminate();
    }
    callback(err);
  }

  /** As net.Socket's: 'timeout' after `ms` with no bytes either way (pings do not count); 0 stops it. */
  setTimeout(ms: number, listener?: () => void): this {
    if (listener) this.once('timeout', listener);
    this.#idleMs = ms;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (ms > 0) this.#armIdle(ms);
    return this;
  }

  #armIdle(wait: number): void {
    this.#idleTimer = setTimeout(() => {
      if (this.destroyed || this.#idleMs === 0) return;
      const quiet = Date.now() - this.#lastActive;
      if (quiet >= this.#idleMs) this.emit('timeout');
      else this.#armIdle(this.#idleMs - quiet);
    }, wait);
    this.#idleTimer.unref();
  }

  #startPings(pingMs: number): void {
    let answered = true;
    this.ws.on('pong', () => { answered = true; });
    this.#ping = setInterval(() => {
      if (!answered) {
        this.destroy(Object.assign(new Error('no pong'), { code: 'ETIMEDOUT' }));
        return;
      }
      answered = false;
      this.ws.ping();
    }, pingMs);
    this.#ping.unref();
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  /**
   * As net.Socket's: a cut, never an end. A WebSocket has no RST to send: the TCP connection under it
   * just goes (no FIN message, no close frame), and the peer reads that as a reset (1006).
   */
  resetAndDestroy(): this {
    return this.destroy(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
  }
}

/** The adapter where a net.Socket is expected (it has the members burrow uses). */
export function asSocket(ws: WsSocket): Socket {
  return ws as unknown as Socket;
}
