/** Building blocks for abusive peers: raw frame headers, msgpack nests, and what the relay answers them. */
import type { ExecutionContext } from 'ava';
import type { ErrorCode } from '../../shared/errors.js';
import { decodeBody } from '../../shared/protocol/codec.js';
import { parseRelayHandshake } from '../../shared/protocol/parse.js';
import { RawPeer } from './security-net.js';

/** Abusive connections come from here, so the normal clients' source (127.0.0.1) earns no penalty. */
export const ABUSER = '127.0.0.2';

/** A bare 4-byte frame header declaring `length`. */
export function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(length, 0);
  return h;
}

/** `depth` nested one-element containers (the bytes `open`) around a msgpack nil. */
export function nested(depth: number, open: number[]): Buffer {
  return Buffer.concat([Buffer.alloc(depth * open.length).fill(Buffer.from(open)), Buffer.from([0xc0])]);
}

/** Greets from ABUSER, lets `send` misbehave, and returns what the relay sent after its Hello until it closed. */
export async function answerTo(t: ExecutionContext, port: number, send: (peer: RawPeer) => void): Promise<(ErrorCode | string)[]> {
  const peer = await RawPeer.open(t, port, ABUSER);
  peer.reader.maxFrame = 0xffffffff;
  const hello = await peer.next();
  if (!hello || parseRelayHandshake(decodeBody(hello)).t !== 'hello') throw new Error('no hello');
  send(peer);
  const frames = await peer.reader.rest();
  return frames.map((f) => {
    const msg = parseRelayHandshake(decodeBody(f));
    return msg.t === 'error' ? msg.code : msg.t;
  });
}
