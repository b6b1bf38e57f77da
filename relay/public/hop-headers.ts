/**
 * Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection: the public client's or the upstream's,
 * never both. They are dropped on the way through in both directions, together with every header the
 * `Connection` header names; the HTTP front then writes the framing and keep-alive headers of each hop
 * itself (http-session.ts). Headers travel as raw `[name, value, name, value, ...]` lists so case,
 * order and repeated headers (Set-Cookie) survive.
 */

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Names `Connection` may never drop: without Content-Length a body would go upstream unframed (request
 * smuggling), without Host the home server could not route.
 */
const FRAMING = new Set(['content-length', 'host']);

/** Lower-case names the `Connection` header(s) of `raw` list as hop-by-hop. */
function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const name = token.trim().toLowerCase();
      if (!FRAMING.has(name)) tokens.add(name);
    }
  }
  return tokens;
}

/** `raw` without hop-by-hop headers; names in `keep` (lower-case) stay even so. */
export function stripHopHeaders(raw: readonly string[], keep: ReadonlySet<string> = new Set()): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if ((HOP_BY_HOP.has(name) || named.has(name)) && !keep.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Whether the raw list has a header `name` (lower-case). */
export function hasHeader(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return true;
  return false;
}

/**
 * The headers of a request going upstream: hop-by-hop dropped; a body that came chunked goes chunked
 * with the same codings (Node's parser only accepts `chunked` last, and seeing it, Node's client frames
 * the body again; without this a GET body would be written unframed, a smuggling hole); a client
 * that announced it accepts trailers (`TE: trailers`, gRPC needs it) still says so.
 */
export function upstreamRequestHeaders(raw: readonly string[]): string[] {
  const out = stripHopHeaders(raw);
  if (hasHeader(raw, 'transfer-encoding')) out.push('Transfer-Encoding', [...transferCodings(raw), 'chunked'].join(', '));
  if (teTrailers(raw)) out.push('TE', 'trailers');
  return out;
}

/** The transfer codings of a message other than chunked, in order (`gzip` of `gzip, chunked`). */
export function transferCodings(raw: readonly string[]): string[] {
  const codings: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'transfer-encoding') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const coding = token.trim();
      if (coding && coding.toLowerCase() !== 'chunked') codings.push(coding);
    }
  }
  return codings;
}

function teTrailers(raw: readonly string[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'te') continue;
    if (raw[i + 1]!.split(',').some((t) => t.trim().toLowerCase().startsWith('trailers'))) return true;
  }
  return false;
}

/** Whether a request head announces a body (a Transfer-Encoding, or a Content-Length above 0). */
export function announcesBody(raw: readonly string[]): boolean {
  let length = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'transfer-encoding') return true;
    if (name === 'content-length') length = Number(raw[i + 1]);
  }
  return length > 0;
}
