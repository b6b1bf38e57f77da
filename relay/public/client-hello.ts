/**
 * Sans-IO reader of the TLS ClientHello that opens a connection to the shared HTTPS port, for SNI
 * routing without terminating TLS. Bytes go in as they arrive (any split: one byte at a time, several
 * records, several TCP segments); out comes 'need-more', the name and ALPN list with every byte received
 * so far (to forward untouched), or a refusal. The handshake message may span several records (a
 * post-quantum hello with an ML-KEM key share is 1.5-2 KB and some clients split it); it is capped at
 * MAX_HELLO_BYTES, checked on its declared length before a byte of it is kept, and everything received is
 * capped at MAX_RECEIVED_BYTES (tiny records cost 5 bytes of header each). The deadline is the caller's.
 * No exception escapes push(): bad input is a refusal.
 */
import { parseClientHelloBody } from './client-hello-parse.js';

/** The largest ClientHello handshake message (4-byte header included) read. */
export const MAX_HELLO_BYTES = 16 * 1024;
/** The most bytes read while looking for it, record headers included. */
export const MAX_RECEIVED_BYTES = 2 * MAX_HELLO_BYTES;

export type HelloRefusal = 'not-tls' | 'too-large' | 'malformed' | 'no-sni';

export type HelloResult =
  | { state: 'need-more' }
  | { state: 'done'; serverName: string; alpn: string[]; bytes: Buffer }
  | { state: 'refused'; reason: HelloRefusal };

const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const RECORD_HEADER = 5;
/** RFC 8446 5.1: a plaintext record carries at most 2^14 bytes. */
const MAX_RECORD_PAYLOAD = 16 * 1024;
const NEED_MORE: HelloResult = { state: 'need-more' };

export class ClientHelloReader {
  readonly #received: Buffer[] = [];
  #receivedBytes = 0;
  readonly #header = Buffer.alloc(RECORD_HEADER);
  #headerFill = 0;
  #records = 0;
  /** Payload bytes of the current record still to come; 0 between records. */
  #recordLeft = 0;
  readonly #hello: Buffer[] = [];
  #helloBytes = 0;
  /** The whole handshake message's length once its header is in. */
  #helloTotal: number | undefined;
  #result: HelloResult = NEED_MORE;

  /** Feeds the next bytes from the connection; once done or refused, the same result again. */
  push(chunk: Buffer): HelloResult {
    if (this.#result.state !== 'need-more') return this.#result;
    this.#received.push(chunk);
    this.#receivedBytes += chunk.length;
    this.#result = this.#consume(chunk);
    if (this.#result.state === 'need-more' && this.#receivedBytes > MAX_RECEIVED_BYTES) this.#result = refused('too-large');
    // Refused: the bytes held are no longer needed.
    if (this.#result.state === 'refused') this.#received.length = this.#hello.length = 0;
    return this.#result;
  }

  #consume(chunk: Buffer): HelloResult {
    let at = 0;
    while (at < chunk.length) {
      if (this.#recordLeft === 0) {
        const n = Math.min(RECORD_HEADER - this.#headerFill, chunk.length - at);
        chunk.copy(this.#header, this.#headerFill, at, at + n);
        this.#headerFill += n;
        at += n;
        const early = this.#checkHeader();
        if (early) return early;
        if (this.#headerFill < RECORD_HEADER) return NEED_MORE;
        this.#headerFill = 0;
        this.#records++;
        this.#recordLeft = this.#header.readUInt16BE(3);
        // RFC 8446 5.1: no zero-length handshake fragments; none longer than 2^14.
        if (this.#recordLeft === 0 || this.#recordLeft > MAX_RECORD_PAYLOAD) return refused('malformed');
        continue;
      }
      const n = Math.min(this.#recordLeft, chunk.length - at);
      const outcome = this.#takeHello(chunk.subarray(at, at + n));
      if (outcome) return outcome;
      this.#recordLeft -= n;
      at += n;
    }
    return NEED_MORE;
  }

  /**
   * Judges a record header as soon as its bytes allow: the first byte of the connection tells TLS from an
   * HTTP request or an SSLv2-style hello (refused as not TLS), before anything more is awaited.
   */
  #checkHeader(): HelloResult | undefined {
    const first = this.#records === 0;
    const fill = this.#headerFill;
    if (fill >= 1 && this.#header[0] !== CONTENT_HANDSHAKE) return refused(first ? 'not-tls' : 'malformed');
    if (fill >= 2 && this.#header[1] !== 3) return refused(first ? 'not-tls' : 'malformed');
    // Legacy record versions TLS 1.0 (0x0301) to 1.3 (0x0304); clients send 0x0301 or 0x0303.
    if (fill >= 3 && (this.#header[2]! < 1 || this.#header[2]! > 4)) return refused(first ? 'not-tls' : 'malformed');
    return undefined;
  }

  /** Takes handshake bytes from a record; a result once the ClientHello is complete or cannot be. */
  #takeHello(part: Buffer): HelloResult | undefined {
    this.#hello.push(part);
    this.#helloBytes += part.length;
    if (this.#helloTotal === undefined) {
      if (this.#helloBytes < 4) return undefined;
      const head = Buffer.concat(this.#hello, 4);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return refused('malformed');
      const total = 4 + head.readUIntBE(1, 3);
      if (total > MAX_HELLO_BYTES) return refused('too-large');
      this.#helloTotal = total;
    }
    if (this.#helloBytes < this.#helloTotal) return undefined;
    // Bytes of the record past the hello are left alone: they are forwarded with the rest.
    const message = Buffer.concat(this.#hello, this.#helloTotal);
    const parsed = parseClientHelloBody(message.subarray(4));
    if (!parsed.ok) return refused(parsed.reason);
    const bytes = Buffer.concat(this.#received, this.#receivedBytes);
    this.#received.length = this.#hello.length = 0;
    return { state: 'done', serverName: parsed.fields.serverName, alpn: parsed.fields.alpn, bytes };
  }
}

function refused(reason: HelloRefusal): HelloResult {
  return { state: 'refused', reason };
}
