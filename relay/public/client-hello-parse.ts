/**
 * The body of a TLS ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2) read into the two things SNI routing
 * needs: the server_name (RFC 6066 3) and the ALPN list (RFC 7301 3.1). Every length is checked against
 * what is left before it is used, every vector against its RFC bounds, and the body must be consumed
 * exactly; anything else is 'malformed'. Nothing is allocated from a declared length: fields are views
 * (subarray) of the body, which the reader has already capped.
 */

export interface HelloFields {
  /** Lower-cased, trailing dot dropped, checked as a DNS host name; undefined if the hello has no server_name. */
  serverName: string | undefined;
  /** Protocol names as the client sent them (latin1): peer-chosen, escape them before they reach a log line. */
  alpn: string[];
}

export type ParseRefusal = 'malformed' | 'no-sni';

const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NAME_TYPE_HOST = 0;

/** Thrown only inside this file, turned into 'malformed' by parseClientHelloBody. */
class Malformed extends Error {}

/** A bounds-checked read position over one buffer. */
class Cursor {
  #at = 0;
  constructor(readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.#at;
  }

  u8(): number {
    return this.bytes(1)[0]!;
  }

  u16(): number {
    return this.bytes(2).readUInt16BE(0);
  }

  bytes(n: number): Buffer {
    if (n > this.left) throw new Malformed();
    const out = this.buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  /** A vector with a u8 or u16 length prefix whose length lies in [min, max]. */
  vector(prefix: 1 | 2, min: number, max: number): Buffer {
    const n = prefix === 1 ? this.u8() : this.u16();
    if (n < min || n > max) throw new Malformed();
    return this.bytes(n);
  }

  end(): void {
    if (this.left !== 0) throw new Malformed();
  }
}

/**
 * A host name as routing compares it: lower case, letters, digits and hyphens in dot-separated labels of
 * 1 to 63 characters (no leading or trailing hyphen), at most 253 characters, one trailing dot dropped.
 */
export function normalizeHostName(raw: string): string | undefined {
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (name.length === 0 || name.length > 253) return undefined;
  for (const label of name.split('.')) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) return undefined;
  }
  return name;
}

function readServerName(data: Buffer): string {
  const c = new Cursor(data);
  const list = new Cursor(c.vector(2, 1, 0xffff));
  c.end();
  let name: string | undefined;
  while (list.left > 0) {
    // Only host_name is defined; an unknown name_type has no known shape, so the list cannot be walked past it.
    if (list.u8() !== NAME_TYPE_HOST) throw new Malformed();
    const host = list.vector(2, 1, 0xffff);
    // RFC 6066: no more than one name of a type.
    if (name !== undefined) throw new Malformed();
    // latin1 maps each byte to one code point, none of which lower-cases into ASCII but A-Z: no folding tricks.
    name = normalizeHostName(host.toString('latin1'));
    if (name === undefined) throw new Malformed();
  }
  if (name === undefined) throw new Malformed();
  return name;
}

function readAlpn(data: Buffer): string[] {
  const c = new Cursor(data);
  const list = new Cursor(c.vector(2, 2, 0xffff));
  c.end();
  const names: string[] = [];
  while (list.left > 0) names.push(list.vector(1, 1, 255).toString('latin1'));
  return names;
}

function readFields(body: Buffer): HelloFields {
  const c = new Cursor(body);
  if (c.u8() !== 3) throw new Malformed(); // legacy_version major: 3 for SSL 3.0 to TLS 1.3
  c.u8();
  c.bytes(32); // random
  c.vector(1, 0, 32); // legacy_session_id
  if (c.vector(2, 2, 0xfffe).length % 2 !== 0) throw new Malformed(); // cipher_suites, two bytes each
  c.vector(1, 1, 0xff); // legacy_compression_methods
  const fields: HelloFields = { serverName: undefined, alpn: [] };
  // Extensions may be absent altogether (an old hello); if present the block must fill the body exactly.
  if (c.left === 0) return fields;
  const extensions = new Cursor(c.vector(2, 0, 0xffff));
  c.end();
  const seen = new Set<number>();
  while (extensions.left > 0) {
    const type = extensions.u16();
    const data = extensions.vector(2, 0, 0xffff);
    // RFC 8446 4.2: no extension type appears twice.
    if (seen.has(type)) throw new Malformed();
    seen.add(type);
    if (type === EXT_SERVER_NAME) fields.serverName = readServerName(data);
    else if (type === EXT_ALPN) fields.alpn = readAlpn(data);
  }
  return fields;
}

/** The fields of a ClientHello body (the handshake message without its 4-byte header), or why not. */
export function parseClientHelloBody(body: Buffer): { ok: true; fields: HelloFields & { serverName: string } } | { ok: false; reason: ParseRefusal } {
  let fields: HelloFields;
  try {
    fields = readFields(body);
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, reason: 'malformed' };
    throw err;
  }
  if (fields.serverName === undefined) return { ok: false, reason: 'no-sni' };
  return { ok: true, fields: { serverName: fields.serverName, alpn: fields.alpn } };
}
