/**
 * Node's own HTTP/1 parser (llhttp, the one node:http runs on), without node:http's per-message objects.
 *
 * The public HTTP front parses every request and every response that crosses it, but it only needs the
 * heads and the message boundaries: the bodies pass through as the bytes they are. `IncomingMessage`,
 * `ServerResponse`, `ClientRequest` and the agent cost about three times what the bytes do on this path
 * (docs/BENCHMARKS.md *Public HTTP keep-alive*), so the front drives the parser directly, as
 * node:http does internally (`_http_common` exports it).
 *
 * The parser is strict (no lenient flags): conflicting Content-Length and Transfer-Encoding, bad chunk
 * sizes and bare LFs are errors, which closes the request-smuggling doors llhttp closes.
 */
import { createRequire } from 'node:module';

/** One parsed head. `rawHeaders` is `[name, value, name, value, ...]` as received. */
export interface Http1Head {
  versionMajor: number;
  versionMinor: number;
  rawHeaders: string[];
  /** Requests only: the method and request target. */
  method: string;
  url: string;
  /** Responses only. */
  status: number;
  statusMessage: string;
  /** A request with `Upgrade` (or CONNECT), or a 101 response: after the head the bytes are not HTTP. */
  upgrade: boolean;
  /** Whether the peer lets the connection live after this message (version and `Connection`). */
  keepAlive: boolean;
}

export interface Http1Events {
  /** A message starts (its first byte was read). */
  begin?(): void;
  /**
   * A head is complete. 'skip': parse no body (a response to HEAD, a 1xx); 'upgrade': a 101 the caller
   * accepts, the parser stops at the head's end.
   */
  head(head: Http1Head): 'body' | 'skip' | 'upgrade';
  /** Body bytes (chunked framing already removed). */
  body(chunk: Buffer): void;
  /** Trailers of a chunked body, just before `complete`. */
  trailers(rawTrailers: string[]): void;
  complete(): void;
}

export type ExecuteResult = { ok: true; parsed: number } | { ok: false; code: string };

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(chunk: Buffer): number | (Error & { code?: string });
  finish(): undefined | (Error & { code?: string });
  close(): void;
  [key: number]: unknown;
}

interface NativeParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kLenientNone: number;
}

const common = createRequire(import.meta.url)('_http_common') as { HTTPParser: NativeParserClass; methods: string[] };
const { HTTPParser, methods } = common;

/**
 * Header lines per head (or trailer block), at most. node:http keeps the first 2000 and drops the rest
 * silently; a relay that dropped lines would still frame the body by all of them (a Content-Length
 * past the cut frames the body here but never reaches the home server: request smuggling). So more is
 * an error here, `HPE_HEADER_OVERFLOW` as for a head too large, and nothing of the message is passed on.
 */
export const MAX_HEADER_LINES = 1000;

export class Http1Parser {
  readonly #native = new HTTPParser();
  #headers: string[] = [];
  #url = '';
  #inBody = false;
  #closed = false;
  /** Set once a message was refused from a callback (see #fail): nothing more is passed on. */
  #failed: string | undefined;
  #executing = false;

  constructor(kind: 'request' | 'response', maxHeaderSize: number, events: Http1Events) {
    const native = this.#native;
    native.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone);
    // Heads split over several reads, or long ones, come in pieces before the head is complete; after it,
    // this callback carries a chunked body's trailers.
    native[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      if (this.#failed) return;
      if (this.#headers.length + headers.length > MAX_HEADER_LINES * 2) return this.#fail('HPE_HEADER_OVERFLOW');
      this.#headers.push(...headers);
      if (!this.#inBody) this.#url += url;
    };
    native[HTTPParser.kOnHeadersComplete] = (versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number | undefined,
      url: string | undefined, status: number | undefined, statusMessage: string | undefined, upgrade: boolean, keepAlive: boolean): number => {
      if (this.#failed) return 1;
      const rawHeaders = headers ?? this.#headers;
      this.#headers = [];
      const target = url ?? this.#url;
      this.#url = '';
      this.#inBody = true;
      if (rawHeaders.length > MAX_HEADER_LINES * 2) return this.#fail('HPE_HEADER_OVERFLOW'), 1;
      const next = events.head({
        versionMajor, versionMinor, rawHeaders,
        method: typeof method === 'number' ? methods[method] ?? '' : '', url: target,
        status: status ?? 0, statusMessage: statusMessage ?? '', upgrade, keepAlive,
      });
      return next === 'body' ? 0 : next === 'skip' ? 1 : 2;
    };
    native[HTTPParser.kOnBody] = (chunk: Buffer) => void (this.#failed || events.body(chunk));
    if (events.begin) native[HTTPParser.kOnMessageBegin] = () => void (this.#failed || events.begin?.());
    native[HTTPParser.kOnMessageComplete] = () => {
      if (this.#failed) return;
      this.#inBody = false;
      if (this.#headers.length > 0) {
        const trailers = this.#headers;
        this.#headers = [];
        this.#url = '';
        events.trailers(trailers);
      }
      events.complete();
    };
  }

  /**
   * Parses `chunk`. After a head with `upgrade` the parser stops at the head's end: `parsed` says where
   * the other protocol's bytes begin.
   */
  execute(chunk: Buffer): ExecuteResult {
    return this.#run(() => this.#native.execute(chunk));
  }

  /** The stream ended: completes a body that runs until the close; an error if a message was cut. */
  finish(): ExecuteResult {
    return this.#run(() => this.#native.finish() ?? 0);
  }

  /**
   * One call into llhttp. A close() from one of its callbacks frees the parser only once the call has
   * returned; a message refused from a callback (#fail) is the call's result.
   */
  #run(call: () => number | (Error & { code?: string })): ExecuteResult {
    if (this.#closed) return { ok: false, code: 'ERR_PARSER_CLOSED' };
    if (this.#failed) return { ok: false, code: this.#failed };
    this.#executing = true;
    let result;
    try {
      result = call();
    } finally {
      this.#executing = false;
      if (this.#closed) this.#native.close();
    }
    if (this.#failed) return { ok: false, code: this.#failed };
    if (typeof result === 'number') return { ok: true, parsed: result };
    return { ok: false, code: result.code ?? 'HPE_ERROR' };
  }

  /**
   * The message is refused from inside a callback: llhttp cannot be stopped there, so every later
   * callback of this parser is ignored and execute() reports the error.
   */
  #fail(code: string): void {
    this.#failed ??= code;
  }

  /** Frees the native parser; from inside one of its own callbacks, once that execute() returns (sooner crashes the process). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#executing) this.#native.close();
  }
}
