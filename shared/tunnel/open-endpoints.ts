/**
 * The payload of an open frame on a relay's public tunnel: the public client's endpoints, for a home
 * server that asked for a PROXY header (and only then: S10). msgpack like every other message body,
 * checked field by field on the way in; a payload that does not decode is a malformed frame.
 */
import { decodeBody, encodeBody } from '../protocol/codec.js';
import type { ClientEndpoints } from '../protocol/messages.js';
import { parseEndpoints } from '../protocol/parse.js';
import { BurrowError } from '../errors.js';
import { MAX_OPEN_PAYLOAD } from './tunnel-frames.js';

export function encodeOpenEndpoints(endpoints: ClientEndpoints): Buffer {
  const { src, srcPort, dst, dstPort } = endpoints;
  const payload = encodeBody({ src, srcPort, dst, dstPort });
  if (payload.length > MAX_OPEN_PAYLOAD) throw new BurrowError('ERR_INTERNAL', 'endpoints too long for an open frame');
  return payload;
}

/** The endpoints an open frame carries, or undefined for an empty payload; throws ERR_MALFORMED_FRAME. */
export function decodeOpenEndpoints(payload: Buffer): ClientEndpoints | undefined {
  if (payload.length === 0) return undefined;
  return parseEndpoints(decodeBody(payload));
}
