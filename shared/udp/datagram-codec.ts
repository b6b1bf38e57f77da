/**
 * Datagrams inside one end-to-end stream (one stream per UDP flow): each datagram is one record,
 *
 *   kind (1 byte, 0 = datagram) | length (2 bytes, big-endian) | payload (length bytes, at most 65,507)
 *
 * so a datagram arrives whole or not at all: the byte stream under it may split or merge records any way
 * it likes, the decoder gives back exactly the datagrams that were encoded. A length over 65,507 (the
 * largest UDP payload over IPv4) is ERR_FRAME_TOO_LARGE and an unknown kind ERR_MALFORMED_FRAME: the caller
 * closes that one flow. The decoder holds at most one unfinished record. Sans-IO.
 */
import { BurrowError } from '../errors.js';

/** The largest UDP payload over IPv4: 65,535 - 20 (IP header) - 8 (UDP header). */
export const MAX_DATAGRAM = 65_507;
export const DATAGRAM_HEADER = 3;
const KIND_DATAGRAM = 0;

/** One record for `payload`; a payload longer than MAX_DATAGRAM is a caller bug (a UDP socket never hands one over). */
export function encodeDatagram(payload: Uint8Array): Buffer {
  if (payload.length > MAX_DATAGRAM) throw new BurrowError('ERR_FRAME_TOO_LARGE', `datagram of ${payload.length} bytes`);
  const record = Buffer.allocUnsafe(DATAGRAM_HEADER + payload.length);
  record[0] = KIND_DATAGRAM;
  record.writeUInt16BE(payload.length, 1);
  record.set(payload, DATAGRAM_HEADER);
  return record;
}

export class DatagramDecoder {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Payload length of the record being read, once its header is in. */
  #need: number | undefined;

  /** The datagrams completed by `chunk`, in order; throws a BurrowError on a bad header (the flow is over). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.#need === undefined) {
        if (this.#pendingBytes < DATAGRAM_HEADER) return out;
        const header = this.#take(DATAGRAM_HEADER);
        if (header[0] !== KIND_DATAGRAM) throw new BurrowError('ERR_MALFORMED_FRAME', 'unknown datagram record kind');
        const length = header.readUInt16BE(1);
        if (length > MAX_DATAGRAM) throw new BurrowError('ERR_FRAME_TOO_LARGE', `datagram record of ${length} bytes`);
        this.#need = length;
      }
      if (this.#pendingBytes < this.#need) return out;
      out.push(this.#take(this.#need));
      this.#need = undefined;
    }
  }

  /** The stream ended: a record cut in the middle is ERR_STREAM_TRUNCATED. */
  end(): void {
    if (this.#need !== undefined || this.#pendingBytes > 0) throw new BurrowError('ERR_STREAM_TRUNCATED', 'stream ended inside a datagram record');
  }

  /** Bytes held for the record being read (never more than one record). */
  get buffered(): number {
    return this.#pendingBytes;
  }

  #take(n: number): Buffer {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    // A copy, not a view: a datagram handed on must not pin the (possibly much larger) chunk it came in.
    const taken = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    return taken;
  }
}
