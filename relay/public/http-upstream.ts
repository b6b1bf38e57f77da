/**
 * One upstream stream of a public HTTP connection: a broker stream to one publication's home server
 * that carries that connection's requests for it, one after the other (keep-alive, pipelined up to the
 * session's limit), and the parser that finds where each response ends.
 *
 * Writes made before the stream is open wait in order; a failed open, a response the parser refuses, or
 * a stream that ends with a response owed all end in `failed`. Responses are matched to requests in
 * order (HTTP/1.1 has no other way), so `sent` is a queue.
 */
import type { Duplex } from 'node:stream';
import { codeOf } from '../../shared/errors.js';
import { writeBatch } from './batch.js';
import type { HttpRoute } from './http-front-deps.js';
import { Http1Parser, type Http1Head } from './http1-parser.js';

/** Largest response head from a home server; Node's client allows 16 KiB, some sites send more cookies. */
const MAX_RESPONSE_HEAD = 64 * 1024;

export interface UpstreamHandler<X> {
  /** A response head for `x` (the oldest request sent); see Http1Events.head. */
  head(x: X, head: Http1Head): 'body' | 'skip' | 'upgrade';
  body(x: X, chunk: Buffer): void;
  trailers(x: X, raw: string[]): void;
  /** The message for `x` is complete (for a 1xx, only that informational message). */
  complete(x: X): void;
  /** Whether the message being completed for `x` is a 1xx (asked just before `complete`). */
  informational(x: X): boolean;
  /** A 101 was parsed for `x`: `rest` are the first bytes of the other protocol. */
  switched(x: X, rest: Buffer): void;
  /** The home server's bytes for one read have been handled (the session flushes its output). */
  read(): void;
  /** Gone with responses owed (`code` says why), or unusable at open. */
  failed(up: Upstream<X>, err: unknown): void;
  /** Ended or closed with nothing owed. */
  gone(up: Upstream<X>): void;
  /** The stream can take more after a write said it was full. */
  drained(): void;
}

export class Upstream<X> {
  /** Requests written, oldest first, whose response is not complete. */
  readonly sent: X[] = [];
  /** The home server said `Connection: close`, or the stream ended: nothing more goes on it. */
  retiring = false;
  /** The stream is congested (a write returned false). */
  full = false;
  /** A request went up it already: a later one reuses it. */
  used = false;
  #stream: Duplex | undefined;
  #pending: (string | Buffer)[] = [];
  #gone = false;
  /** Requests that went up before the read being parsed: how many answers it may hold. */
  #answerable = 0;
  /** The request whose answer is being parsed. */
  #answering: X | undefined;
  /** The home server sent an answer no request was waiting for: it is not to be trusted further. */
  #unsolicited = false;
  /** Ended by us after its last answer (retire): its close is expected. */
  #retired = false;
  /** The request a 101 answered: the stream stops being HTTP after this read. */
  #switchedFor: X | undefined;
  readonly #parser: Http1Parser;

  constructor(readonly route: HttpRoute, open: () => Promise<Duplex>, readonly handler: UpstreamHandler<X>) {
    this.#parser = new Http1Parser('response', MAX_RESPONSE_HEAD, {
      // A message starting once every request sent before this read is answered is one nobody asked for,
      // even if its head ends in a later read (where a request sent meanwhile would seem to own it).
      begin: () => {
        if (this.#answerable === 0) this.#unsolicited = true;
      },
      head: (head) => {
        // Only a request that went up before this read can be answered in it: anything more is a
        // response nobody asked for (a home server answering twice, a body its framing did not
        // count), and it must not be taken for the answer to a request sent meanwhile.
        const x = this.sent[0];
        if (this.#unsolicited || x === undefined || this.#answerable === 0) {
          this.#unsolicited = true;
          return 'skip';
        }
        this.#answering = x;
        const next = handler.head(x, head);
        if (next === 'upgrade') this.#switchedFor = x;
        return next;
      },
      body: (chunk) => void (this.#answering && handler.body(this.#answering, chunk)),
      trailers: (raw) => void (this.#answering && handler.trailers(this.#answering, raw)),
      complete: () => {
        const x = this.#answering;
        if (!x) return;
        this.#answering = undefined;
        // A 1xx is not the answer: the final one still counts against this read's budget.
        if (!handler.informational(x)) this.#answerable--;
        handler.complete(x);
      },
    });
    new Promise<Duplex>((resolve) => resolve(open())).then((stream) => this.#opened(stream), (err: unknown) => this.#fail(err));
  }

  get open(): boolean {
    return this.#stream !== undefined && !this.#gone;
  }

  /** Writes `parts` as one batch; returns false when the stream wants no more for now. */
  write(parts: readonly (string | Buffer)[]): boolean {
    if (this.#gone || parts.length === 0) return !this.full;
    const stream = this.#stream;
    if (!stream) {
      this.#pending.push(...parts);
      return true;
    }
    const ok = writeBatch(stream, parts);
    if (!ok) this.full = true;
    return ok;
  }

  /** Stops or resumes reading responses (the public socket is congested). */
  pause(paused: boolean): void {
    if (!this.#stream || this.#gone) return;
    if (paused) this.#stream.pause();
    else this.#stream.resume();
  }

  /** After a 101: the raw stream, no longer parsed; the caller owns it from here. */
  takeStream(): Duplex | undefined {
    const stream = this.#stream;
    if (!stream) return undefined;
    stream.removeAllListeners('data');
    stream.removeAllListeners('end');
    stream.removeAllListeners('drain');
    stream.removeAllListeners('close');
    this.#gone = true;
    this.#stream = undefined;
    this.#parser.close();
    return stream;
  }

  /**
   * Done with it, nothing owed: our side ends and the home server, which said `Connection: close`, ends
   * its own (a clean end, not a reset, for it and for the stream's audit line). Destroyed at the latest
   * with the public connection (the session's `destroy`).
   */
  retire(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#retired = true;
    this.#parser.close();
    if (this.#stream) this.#stream.end();
    else this.#pending = [];
  }

  destroy(): void {
    if (this.#retired) return void this.#stream?.destroy();
    if (this.#gone) return;
    this.#gone = true;
    this.#parser.close();
    this.#pending = [];
    this.#stream?.destroy();
  }

  #opened(stream: Duplex): void {
    if (this.#gone) return void stream.destroy();
    this.#stream = stream;
    stream.on('error', (err) => this.#fail(err));
    stream.on('data', (chunk: Buffer) => this.#data(chunk));
    stream.once('end', () => this.#ended());
    stream.once('close', () => this.#closed());
    stream.on('drain', () => {
      this.full = false;
      this.handler.drained();
    });
    const pending = this.#pending;
    this.#pending = [];
    this.write(pending);
  }

  #data(chunk: Buffer): void {
    if (this.#gone) return;
    this.#answerable = this.sent.length;
    const result = this.#parser.execute(chunk);
    if (this.#unsolicited) return this.#fail(failure('a response nobody asked for', 'ERR_UNSOLICITED_RESPONSE'));
    if (!result.ok) return this.#fail(failure('bad response from the home server', result.code));
    const x = this.#switchedFor;
    if (x === undefined) return this.handler.read();
    this.handler.switched(x, chunk.subarray(result.parsed)); // the session takes the stream (takeStream)
  }

  #ended(): void {
    this.retiring = true;
    if (this.#gone) return;
    if (this.sent.length > 0) {
      // A body that runs until the close completes here; anything else owed is cut.
      const result = this.#parser.finish();
      if (!result.ok || this.sent.length > 0) return this.#fail(failure('the home server closed mid-response', 'ERR_STREAM_TRUNCATED'));
      this.handler.read(); // the end of a body that ran until the close goes out now
    }
    this.#gone = true;
    this.#stream?.end();
    this.handler.gone(this);
  }

  #closed(): void {
    if (this.#retired) return this.handler.gone(this);
    if (this.#gone) return;
    if (this.sent.length > 0) return this.#fail(failure('the home server stream closed', 'ERR_STREAM_TRUNCATED'));
    this.#gone = true;
    this.handler.gone(this);
  }

  #fail(err: unknown): void {
    if (this.#gone) return;
    this.destroy();
    this.handler.failed(this, err);
  }

  /** A short code for logs. */
  static codeOf(err: unknown): string {
    return (err as { code?: string } | null)?.code ?? codeOf(err);
  }
}

/** An upstream failure with a code for the session's log line. */
function failure(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
