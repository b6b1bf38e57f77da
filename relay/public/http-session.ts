/**
 * One public client connection on the shared HTTP port, parsed both ways by Node's parser
 * (http1-parser.ts) with the bodies passing through as bytes.
 *
 * Routing is per request: each request goes to the publication its own `Host` names (the caller's
 * `decide`). Requests for one publication go up one upstream stream of this connection, one at a time
 * (MAX_IN_FLIGHT); a request for another publication takes that publication's stream (kept per
 * connection, at most MAX_ROUTES_PER_CONNECTION). Responses therefore come back in request order, and
 * a later request naming another host never travels on the first host's stream.
 *
 * A request that went up a reused stream the home server closed before answering (its keep-alive
 * timeout raced the request) goes again once, on a fresh stream, if nothing of it can have had an
 * effect twice: a GET, HEAD or OPTIONS without a body, and no byte of an answer seen. (The other answer
 * RFC 9110 allows, `421` and close, would break browsers that coalesce connections.)
 *
 * What waits (a pipelined request behind one still answered) is held as parsed output, and the
 * public socket is not read while anything is held: memory per connection stays at about one read.
 * More than MAX_OWED requests owed cuts the connection (a flood: no browser pipelines this deep).
 *
 * Deadlines (http-deadlines.ts): the request head must be complete within headTimeoutMs of the
 * connection opening or going idle (slowloris); an idle keep-alive connection closes after
 * keepAliveTimeoutMs without a byte; no byte either way for idleTimeoutMs cuts it, even mid-response.
 *
 * Upgrades (WebSocket): the request goes up once nothing else is owed on its stream; a 101 is relayed as
 * received and both sides are spliced; any other answer is relayed and the connection closes (a blind
 * splice would leave a raw pipe to that home server for a later request naming another host).
 */
import { resetSocket } from '../../shared/net/reset-socket.js';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeBoth } from '../../shared/net/pipe-both.js';
import { rawErrorResponse, statusForUpstreamError, type FrontStatus } from './error-page.js';
export type { Decision } from './http-exchange.js';
import type { HttpRoute } from './http-front-deps.js';
import { answerHead, newExchange, refusedExchange, type Decision, type Exchange } from './http-exchange.js';
import { stripHopHeaders } from './hop-headers.js';
import { Http1Parser, type Http1Head } from './http1-parser.js';
import { CHUNK_END, chunkSizeLine, lastChunk, responseHead } from './http1-wire.js';
import { Upstream, type UpstreamHandler } from './http-upstream.js';
import { writeBatch } from './batch.js';
import { HttpDeadlines } from './http-deadlines.js';

/**
 * Requests of one connection sent up and not yet answered: one. A pipelining client's requests wait
 * their turn here rather than at the home server, so that a home server closing after an answer
 * (`Connection: close`, its keep-alive timeout) never leaves a request behind it unanswered, and what
 * the relay and the home server think one message is cannot drift apart by more than one message.
 * Browsers do not pipeline; wrk and curl do not either.
 */
export const MAX_IN_FLIGHT = 1;
/** Requests parsed and not yet answered, at most; more cut the connection (a flood). */
export const MAX_OWED = 64;
/** The front's own answers (404 pages and the like) one connection gets; the last one closes it. */
export const MAX_OWN_ANSWERS = 32;
/** 1xx answers (100 Continue, 103 Early Hints) relayed before a request's answer, at most. */
export const MAX_INFORMATIONAL = 16;
/** Upstream streams one public connection keeps (one per publication); the least recently used goes first. */
export const MAX_ROUTES_PER_CONNECTION = 8;

export interface SessionOptions {
  headTimeoutMs: number;
  maxHeaderSize: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
}

export interface SessionHooks {
  /** Routes a complete request head (counts and logs its own refusals). */
  decide(head: Http1Head): Decision;
  /** A fresh stream to the home server of `route`. */
  open(route: HttpRoute): Promise<Duplex>;
  /** A complete request head arrived. */
  headRead(): void;
  /** The client's address for forwarding headers. */
  clientAddress: string;
  headTimeout(): void;
  flood(): void;
  /** A head the parser refused (`code`), answered 400 or 431. */
  badHead(code: string): void;
  /** The home server could not be reached or failed before answering: an error page went out. */
  badGateway(): void;
  upgraded(): void;
  debug(fields: Record<string, unknown>, msg: string): void;
}

type Held = { x: Exchange; part: 'head' | 'end' } | { x: Exchange; part: 'body'; data: Buffer };

export class HttpSession {
  readonly #socket: Socket;
  readonly #opts: SessionOptions;
  readonly #hooks: SessionHooks;
  readonly #parser: Http1Parser;
  /** Requests parsed and not yet fully answered, in order. */
  readonly #owed: Exchange[] = [];
  /** Parsed request parts not yet sent up, in order. */
  readonly #held: Held[] = [];
  /** The stream requests go up now; responses come from it only. */
  #current: Upstream<Exchange> | undefined;
  /** Streams ended after their last answer whose home server has not closed its side yet. */
  readonly #retired = new Set<Upstream<Exchange>>();
  /** Streams to other publications, kept for reuse, least recently used first. */
  readonly #parked = new Map<string, Upstream<Exchange>>();
  #toPublic: (string | Buffer)[] = [];
  /** Request bytes made in this turn, for one stream: a part for another stream flushes them first. */
  #batch: { up: Upstream<Exchange>; parts: (string | Buffer)[] } | undefined;
  #parsing: Exchange | undefined;
  #requests = 0;
  /** No more requests are read: the client half-closed, a limit was met, or the head could not be parsed. */
  #noMoreRequests = false;
  #clientEnded = false;
  #draining = false;
  /** An upgrade request went up: public bytes wait here until its answer. */
  #upgradeAhead: Buffer[] | undefined;
  #spliced = false;
  readonly #deadlines: HttpDeadlines;
  /** No request under way: the keep-alive timer runs until the next byte. */
  #idle = true;
  /** The last answer went out: nothing more is sent either way. */
  #over = false;
  /** The public socket has more unsent than its high-water mark (its client is not reading). */
  #publicFull = false;
  /** The front's own answers on this connection so far. */
  #ownAnswers = 0;

  constructor(socket: Socket, opts: SessionOptions, hooks: SessionHooks) {
    this.#socket = socket;
    this.#opts = opts;
    this.#hooks = hooks;
    this.#parser = new Http1Parser('request', opts.maxHeaderSize, {
      head: (head) => this.#requestHead(head),
      body: (chunk) => void (this.#parsing && this.#hold({ x: this.#parsing, part: 'body', data: chunk })),
      trailers: (raw) => void (this.#parsing && (this.#parsing.requestTrailers = raw)),
      complete: () => this.#requestComplete(),
    });
    socket.on('data', this.#onData);
    socket.once('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.once('close', () => this.#closed());
    if (opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs);
      socket.on('timeout', () => socket.destroy());
    }
    this.#deadlines = new HttpDeadlines(opts.headTimeoutMs, opts.keepAliveTimeoutMs, () => {
      this.#hooks.headTimeout();
      this.#socket.destroy();
    }, () => this.#socket.destroy());
    this.#deadlines.awaitHead();
  }

  /** A request is under way (its answer is not complete). */
  get busy(): boolean {
    return this.#owed.length > 0 || this.#spliced;
  }

  /** Requests sent up and not answered yet. */
  get inFlight(): number {
    return this.#current?.sent.length ?? 0;
  }

  /**
   * The relay is stopping: an idle connection closes now, a busy one once the requests under way are
   * answered (a new one gets 503). An upgraded one is a stream: the relay's drain of streams decides.
   */
  drain(): void {
    this.#draining = true;
    if (this.#spliced) return;
    if (this.#owed.length === 0) this.#socket.destroy();
  }

  // ---- the public side ----

  readonly #onData = (chunk: Buffer): void => {
    if (this.#upgradeAhead) {
      this.#upgradeAhead.push(chunk);
      this.#socket.pause();
      return;
    }
    if (this.#noMoreRequests && !this.#parsing) return;
    if (this.#idle) this.#deadlines.byteArrived();
    const result = this.#parser.execute(chunk);
    if (this.#socket.destroyed) return;
    if (!result.ok) this.#refuseHead(result.code);
    else {
      // The parser stopped at an upgrade head's end: what follows is the other protocol's, kept for later.
      const ahead = this.#upgradeAhead as Buffer[] | undefined;
      if (ahead && result.parsed < chunk.length) ahead.push(chunk.subarray(result.parsed));
    }
    this.#pump();
    this.#flushPublic();
  };

  readonly #onEnd = (): void => {
    this.#clientEnded = true;
    if (this.#spliced || this.#upgradeAhead) return;
    const result = this.#parser.finish();
    if (!result.ok) return void this.#socket.destroy(); // gone mid-request: nothing to answer
    this.#noMoreRequests = true;
    if (this.#owed.length === 0) this.#socket.end();
  };

  readonly #onDrain = (): void => {
    this.#publicFull = false;
    this.#current?.pause(false);
    this.#pump();
  };

  #requestHead(head: Http1Head): 'body' | 'skip' | 'upgrade' {
    this.#parsing = undefined;
    // After the last request this connection takes (a close, a limit, an upgrade), heads are ignored.
    if (this.#noMoreRequests || this.#socket.destroyed) return 'skip';
    this.#deadlines.headArrived();
    this.#idle = false;
    this.#requests++;
    this.#hooks.headRead();
    const decision: Decision = this.#draining ? { kind: 'answer', status: 503, close: true } : this.#hooks.decide(head);
    const x = newExchange(head, decision, this.#hooks.clientAddress, this.#requests >= this.#opts.maxRequestsPerConnection);
    if (x.closeAfter || head.upgrade) this.#noMoreRequests = true;
    this.#owed.push(x);
    this.#parsing = x;
    if (this.#owed.length > MAX_OWED) {
      this.#hooks.flood();
      this.#socket.destroy();
      return 'skip';
    }
    if (decision.kind === 'forward') this.#held.push({ x, part: 'head' });
    if (x.upgrade) this.#upgradeAhead = [];
    if (decision.kind === 'answer') this.#answerLocals();
    return 'body';
  }

  #requestComplete(): void {
    const x = this.#parsing;
    if (!x) return;
    this.#parsing = undefined;
    this.#hold({ x, part: 'end' });
    // An answer of the front's own is due as soon as everything before it is answered.
    if (x.decision.kind === 'answer') this.#answerLocals();
    else if (this.#owed.length === 0) this.#becameIdle(); // answered before its body was all in
  }

  #hold(part: Held): void {
    if (part.x.decision.kind !== 'forward' || this.#over) return; // a refused request's body is dropped
    this.#held.push(part);
  }

  /** A head the parser refused: 400 (or 431) after whatever is owed before it, then close. */
  #refuseHead(code: string): void {
    this.#noMoreRequests = true;
    this.#deadlines.headArrived();
    // Bytes after a request that said `Connection: close` are not a bad head: they are ignored.
    if (code === 'HPE_PAUSED_UPGRADE' || code === 'HPE_CLOSED_CONNECTION') return;
    this.#hooks.badHead(code);
    const status: FrontStatus = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    // A request cut mid-body by a framing error is owed nothing more: it never reaches a home server
    // whole (its head may have gone up; the cut below ends that stream too).
    if (this.#parsing) {
      this.#owed.splice(this.#owed.indexOf(this.#parsing), 1);
      if (this.#parsing.upstream) return void this.#socket.destroy();
      for (let i = this.#held.length - 1; i >= 0; i--) if (this.#held[i]!.x === this.#parsing) this.#held.splice(i, 1);
      this.#parsing = undefined;
    }
    this.#owed.push(refusedExchange(status));
    this.#answerLocals();
  }

  // ---- sending requests up ----

  #pump(): void {
    while (this.#held.length > 0 && !this.#socket.destroyed) {
      const item = this.#held[0]!;
      if (item.part === 'head' && !this.#sendHead(item.x)) break;
      if (item.part !== 'head') this.#sendPart(item);
      this.#held.shift();
    }
    this.#flushUpstream();
    // Nothing more is read while anything waits (bounded memory) or the stream up is full.
    const wait = this.#held.length > 0 || this.#current?.full === true || this.#upgradeAhead !== undefined || this.#publicFull;
    if (wait) this.#socket.pause();
    else if (!this.#spliced) this.#socket.resume();
  }

  /** Sends `x`'s head up if its turn has come; false: it waits. */
  #sendHead(x: Exchange): boolean {
    const route = (x.decision as Extract<Decision, { kind: 'forward' }>).route;
    let up = this.#current;
    if (up && (up.route.key !== route.key || up.retiring || x.upgrade)) {
      if (up.sent.length > 0) return false; // its answers first
      this.#park(up);
      up = undefined;
    }
    if (up && up.sent.length >= MAX_IN_FLIGHT) return false;
    if (!up) {
      up = this.#unpark(route) ?? new Upstream<Exchange>(route, () => this.#hooks.open(route), this.#upstreamHandler);
      this.#current = up;
    }
    x.upstream = up;
    if (!up.used && x.retry === 'once') x.retry = 'never'; // a fresh stream that fails is not a keep-alive race
    up.used = true;
    up.sent.push(x);
    this.#up(up, x.upHead);
    return true;
  }

  #sendPart(item: Exclude<Held, { part: 'head' }>): void {
    // To the stream its head went up: the rest of a body never follows another request's head.
    const up = item.x.upstream;
    if (!up) return;
    if (item.part === 'body') {
      if (item.x.chunkedIn) this.#up(up, chunkSizeLine(item.data.length), item.data, CHUNK_END);
      else this.#up(up, item.data);
    } else if (item.x.chunkedIn) this.#up(up, lastChunk(item.x.requestTrailers));
  }

  #up(up: Upstream<Exchange>, ...parts: (string | Buffer)[]): void {
    if (this.#batch && this.#batch.up !== up) this.#flushUpstream();
    if (this.#batch) this.#batch.parts.push(...parts);
    else this.#batch = { up, parts };
  }

  #flushUpstream(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch) batch.up.write(batch.parts);
  }

  #park(up: Upstream<Exchange>): void {
    if (this.#current === up) this.#current = undefined;
    if (up.retiring) {
      up.retire();
      return void this.#retired.add(up);
    }
    if (!up.open && up.sent.length > 0) return void up.destroy();
    const old = this.#parked.get(up.route.key);
    if (old && old !== up) old.destroy();
    this.#parked.delete(up.route.key);
    this.#parked.set(up.route.key, up);
    if (this.#parked.size > MAX_ROUTES_PER_CONNECTION) {
      const [key, oldest] = this.#parked.entries().next().value as [string, Upstream<Exchange>];
      this.#parked.delete(key);
      oldest.destroy();
    }
  }

  #unpark(route: HttpRoute): Upstream<Exchange> | undefined {
    const up = this.#parked.get(route.key);
    if (up) this.#parked.delete(route.key);
    return up;
  }

  // ---- answers coming back ----

  readonly #upstreamHandler: UpstreamHandler<Exchange> = {
    head: (x, head) => this.#responseHead(x, head),
    body: (x, chunk) => {
      if (x.chunkedOut) this.#toPublic.push(chunkSizeLine(chunk.length), chunk, CHUNK_END);
      else this.#toPublic.push(chunk);
    },
    trailers: (x, raw) => void (x.answerTrailers = raw),
    complete: (x) => this.#responseComplete(x),
    informational: (x) => x.answer === 'informational',
    switched: (x, rest) => this.#switched(x, rest),
    read: () => this.#flushPublic(),
    failed: (up, err) => this.#upstreamFailed(up, err),
    gone: (up) => this.#upstreamGone(up),
    drained: () => this.#pump(),
  };

  #responseHead(x: Exchange, head: Http1Head): 'body' | 'skip' | 'upgrade' {
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      // 100 Continue and 103 Early Hints go to an HTTP/1.1 client; the final answer follows. A home
      // server that sends more than a few before answering is not answering: the stream is cut.
      if (++x.informational > MAX_INFORMATIONAL) return this.#cut('too many 1xx answers'), 'skip';
      x.answer = 'informational';
      if (!x.http10 && (head.status === 100 || head.status === 103)) {
        this.#toPublic.push(responseHead(head.status, head.statusMessage, stripHopHeaders(head.rawHeaders)));
      }
      return 'skip';
    }
    if (head.status === 101) {
      if (!x.upgrade) return this.#cut('a 101 nobody asked for'), 'skip';
      x.answer = 'switched';
      this.#toPublic.push(responseHead(head.status, head.statusMessage, head.rawHeaders));
      return 'upgrade';
    }
    if (!head.keepAlive && x.upstream) x.upstream.retiring = true;
    const { bytes, bodyless } = answerHead(x, head, this.#draining);
    this.#toPublic.push(bytes);
    return bodyless ? 'skip' : 'body';
  }

  #responseComplete(x: Exchange): void {
    if (x.answer === 'informational') {
      x.answer = 'none';
      return;
    }
    if (x.answer === 'switched') return;
    if (x.chunkedOut) this.#toPublic.push(lastChunk(x.answerTrailers));
    const up = x.upstream!;
    up.sent.shift();
    this.#finish(x);
  }

  /** `x` is answered whole: the next answer's turn, the next request's turn. */
  #finish(x: Exchange): void {
    if (this.#owed[0] !== x) return this.#cut('answers out of order');
    this.#owed.shift();
    if (x.closeAfter) return this.#endPublic();
    this.#answerLocals();
    if (this.#socket.destroyed) return;
    const up = this.#current;
    if (up && up.retiring && up.sent.length === 0) {
      up.retire();
      this.#retired.add(up);
      this.#current = undefined;
    }
    if (this.#owed.length === 0) this.#becameIdle();
    this.#pump();
  }

  /** Answers of the front's own that have reached the head of the line. */
  #answerLocals(): void {
    while (this.#owed.length > 0 && this.#owed[0]!.decision.kind === 'answer') {
      // A kept-alive answer waits for its request's end (its body is read and dropped); a closing one not.
      if (this.#owed[0] === this.#parsing && !this.#owed[0]!.closeAfter) break;
      const x = this.#owed.shift()!;
      const d = x.decision as Extract<Decision, { kind: 'answer' }>;
      // Answers of its own cost the front more than the requests that ask for them, and the kernel takes
      // what a client does not read until its buffers are full, unseen by backpressure: a connection
      // gets a bounded number of the front's own pages, the last one says close.
      if (++this.#ownAnswers >= MAX_OWN_ANSWERS) x.closeAfter = true;
      this.#toPublic.push(rawErrorResponse(d.status, x.closeAfter, x.method === 'HEAD', d.retryAfter));
      if (x.closeAfter) return this.#endPublic();
    }
    if (this.#owed.length === 0) this.#becameIdle();
  }

  #switched(x: Exchange, rest: Buffer): void {
    const up = x.upstream!;
    const stream = up.takeStream();
    if (!stream) return this.#cut('upgrade without a stream');
    if (this.#current === up) this.#current = undefined;
    this.#spliced = true;
    this.#owed.length = 0;
    this.#deadlines.stop();
    for (const parked of this.#parked.values()) parked.destroy();
    this.#parked.clear();
    this.#hooks.upgraded();
    if (rest.length > 0) this.#toPublic.push(rest);
    this.#flushPublic();
    const ahead = this.#upgradeAhead ?? [];
    this.#upgradeAhead = undefined;
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('drain', this.#onDrain);
    if (ahead.length > 0) writeBatch(stream, ahead);
    // A public socket gone before its upstream ended its way up (cut, reset, idle): the leg goes too.
    this.#socket.once('close', () => {
      if (!stream.writableEnded) stream.destroy();
    });
    if (this.#clientEnded) stream.end();
    this.#socket.resume();
    void pipeBoth(this.#socket, stream).then((result) => this.#hooks.debug(result.error ? { code: result.error } : {}, 'upgraded stream ended'));
  }

  #upstreamFailed(up: Upstream<Exchange>, err: unknown): void {
    if (this.#current === up) this.#current = undefined;
    for (const [key, parked] of this.#parked) if (parked === up) this.#parked.delete(key);
    this.#hooks.debug({ code: Upstream.codeOf(err) }, 'upstream failed');
    // What the same read completed before the failure (a whole answer) goes out first.
    this.#flushPublic();
    const x = up.sent[0];
    if (!x) return;
    if (x.answer === 'none' && x.retry === 'once' && up.sent.length === 1 && this.#owed[0] === x) {
      // The home server closed a reused stream as this request went up: once more, on a fresh one.
      x.retry = 'done';
      x.upstream = undefined;
      this.#held.unshift({ x, part: 'head' });
      this.#pump();
      return this.#flushPublic();
    }
    if (x.answer === 'none' || x.answer === 'informational') {
      // Nothing of the answer went out: an error page, then close (what came after it is not answered).
      this.#hooks.badGateway();
      this.#owed.length = 0;
      this.#toPublic.push(rawErrorResponse(statusForUpstreamError(err), true, x.method === 'HEAD'));
      return this.#endPublic();
    }
    this.#cut('upstream cut mid-answer');
  }

  #upstreamGone(up: Upstream<Exchange>): void {
    this.#retired.delete(up);
    if (this.#current === up) this.#current = undefined;
    for (const [key, parked] of this.#parked) if (parked === up) this.#parked.delete(key);
    this.#pump();
  }

  // ---- the public socket ----

  #flushPublic(): void {
    const parts = this.#toPublic;
    if (parts.length === 0 || this.#socket.destroyed) return;
    this.#toPublic = [];
    // A client that does not read: its home server waits, and nothing more is read from it either.
    if (!writeBatch(this.#socket, parts)) {
      this.#publicFull = true;
      this.#current?.pause(true);
    }
  }

  /** Sends what is owed out and ends the connection once it is flushed. */
  #endPublic(): void {
    this.#over = true;
    this.#flushPublic();
    this.#noMoreRequests = true;
    this.#held.length = 0;
    this.#owed.length = 0;
    this.#deadlines.stop();
    if (!this.#socket.destroyed) this.#socket.end();
    this.#dropUpstreams();
  }

  /** An answer cut mid-way must not look whole: the client sees a reset. */
  #cut(why: string): void {
    this.#hooks.debug({ why }, 'public http connection cut');
    if (!this.#socket.destroyed) resetSocket(this.#socket);
  }

  #becameIdle(): void {
    // A request still arriving (its answer came early, its body has not) keeps the connection busy.
    if (this.#spliced || this.#socket.destroyed || this.#parsing) return;
    if (this.#draining || this.#clientEnded || this.#noMoreRequests) {
      this.#flushPublic();
      if (this.#held.length === 0) this.#socket.end();
      return;
    }
    this.#idle = true;
    this.#deadlines.idle();
  }

  #dropUpstreams(): void {
    this.#current?.destroy();
    this.#current = undefined;
    for (const up of this.#retired) up.destroy();
    this.#retired.clear();
    for (const up of this.#parked.values()) up.destroy();
    this.#parked.clear();
  }

  #closed(): void {
    this.#deadlines.stop();
    this.#held.length = 0;
    this.#owed.length = 0;
    this.#parser.close();
    if (!this.#spliced) this.#dropUpstreams();
  }
}
