/**
 * Writing HTTP/1.1 back out: heads from raw header lists, and chunked framing. Every name and value
 * here came through Node's parser (http1-parser.ts), which refuses CR, LF and NUL in them, or is the
 * relay's own; the framing of a body is always written from what the parser understood, never copied
 * from the peer, so a message leaves with exactly one framing (no request smuggling through the relay).
 */

const CRLF = '\r\n';

export function requestHead(method: string, target: string, raw: readonly string[]): string {
  return `${method} ${target} HTTP/1.1${CRLF}${headerLines(raw)}${CRLF}`;
}

export function responseHead(status: number, message: string, raw: readonly string[]): string {
  return `HTTP/1.1 ${status} ${message}${CRLF}${headerLines(raw)}${CRLF}`;
}

function headerLines(raw: readonly string[]): string {
  let out = '';
  for (let i = 0; i + 1 < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}${CRLF}`;
  return out;
}

/** The size line before a chunk of `length` bytes (the chunk is followed by CRLF). */
export function chunkSizeLine(length: number): string {
  return `${length.toString(16)}${CRLF}`;
}

export const CHUNK_END = CRLF;

/** The last chunk, with trailers if any. */
export function lastChunk(trailers: readonly string[] = []): string {
  return `0${CRLF}${headerLines(trailers)}${CRLF}`;
}
