/**
 * Frames of a tunnel: many streams ("channels") multiplexed over one end-to-end channel. The frames
 * form one plaintext byte stream that the tunnel cuts into Noise transport messages as it flushes, so
 * frames written in one turn share one seal, and the relay sees neither types, ids nor boundaries:
 *
 *   u8 type | u32be channel id | u16be payload length | payload
 *
 * open     initiator -> responder   payload empty, or (a relay's public tunnel only) the public client's
 *                                    endpoints for a PROXY header (msgpack, at most MAX_OPEN_PAYLOAD bytes);
 *                                    ids strictly increase from 1
 * opened   responder -> initiator   the target accepted; payload empty
 * refused  responder -> initiator   ASCII error code; the channel is gone
 * data     both                      1..MAX_DATA bytes, within the receiver's window
 * end      both                      the sender's half-close; payload empty
 * reset    both                      abort; payload empty or an ASCII error code; the channel is gone
 * window   both                      u32be: more bytes the receiver may now be sent (> 0); granting more than
 *                                    was consumed grows the window (the receiver decides, up to MAX_CHANNEL_WINDOW)
 * rekey    both, channel 0           payload empty; the last frame of its transport message: the sender's
 *                                    direction continues under Noise Rekey(k) from the next message on
 */
import { BurrowError, isErrorCode, type ErrorCode } from '../errors.js';

export const FRAME = { open: 1, opened: 2, refused: 3, data: 4, end: 5, reset: 6, window: 7, rekey: 8 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export const FRAME_HEADER_LENGTH = 7;
/** Largest data payload of one frame. */
export const MAX_DATA = 0xffff;
/** Largest payload of any other frame (an error code). */
export const MAX_CONTROL_PAYLOAD = 64;
/** Largest payload of an open frame (a public client's endpoints, shared/tunnel/open-endpoints.ts). */
export const MAX_OPEN_PAYLOAD = 192;
/** Bytes each side may send on a channel before the receiver grants more; both start with it. */
export const CHANNEL_WINDOW = 1024 * 1024;
/**
 * A receiver whose local socket keeps up grows its window up to this by granting more than it consumed:
 * one bulk stream needs ~4 MiB in flight to fill the pipe (iperf3 through the tunnel: 4.2 Gbit/s with a
 * fixed 1 MiB, 4.9-5.0 with 4 or 8 MiB). A stalled local socket never grows it.
 */
export const MAX_CHANNEL_WINDOW = 4 * 1024 * 1024;

/**
 * A relay's public tunnel (its channels are connections from anyone on the internet) starts each channel
 * at a smaller window: the relay holds at most that for a public client that never reads. A reader that
 * keeps up grows it as on a client tunnel (one bulk stream needs ~4 MiB in flight), at the relay within
 * a budget shared by all its public channels (channel-credit.ts PUBLIC_GROWTH_BUDGET).
 */
export const PUBLIC_CHANNEL_WINDOW = 64 * 1024;
export const PUBLIC_MAX_CHANNEL_WINDOW = 4 * 1024 * 1024;

/** A frame other than data, with its whole payload. */
export interface ControlFrame {
  type: FrameType;
  channel: number;
  payload: Buffer;
}

export function frameHeader(type: FrameType, channel: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(channel, 1);
  header.writeUInt16BE(length, 5);
  return header;
}

export function windowPayload(bytes: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(bytes, 0);
  return payload;
}

export function codePayload(code: ErrorCode): Buffer {
  return Buffer.from(code, 'ascii');
}

/** An error code carried by refused or reset; an unknown code reads as `fallback`. */
export function payloadCode(payload: Buffer, fallback: ErrorCode): ErrorCode {
  const code = payload.toString('latin1');
  return isErrorCode(code) ? code : fallback;
}

export function malformed(detail: string): BurrowError {
  return new BurrowError('ERR_MALFORMED_FRAME', `tunnel frame: ${detail}`);
}

/** Checks a frame header as soon as it is read, before its payload; throws ERR_MALFORMED_FRAME. */
export function checkHeader(type: number, channel: number, length: number): asserts type is FrameType {
  if (type === FRAME.rekey) {
    if (channel !== 0 || length !== 0) throw malformed('rekey is for the tunnel, without payload');
    return;
  }
  if (channel === 0) throw malformed('channel id 0');
  switch (type) {
    case FRAME.open:
      if (length > MAX_OPEN_PAYLOAD) throw malformed('open payload too long');
      return;
    case FRAME.opened:
    case FRAME.end:
      if (length !== 0) throw malformed('payload where none belongs');
      return;
    case FRAME.data:
      if (length === 0) throw malformed('empty data');
      return;
    case FRAME.refused:
      if (length === 0 || length > MAX_CONTROL_PAYLOAD) throw malformed('refusal without a code');
      return;
    case FRAME.reset:
      if (length > MAX_CONTROL_PAYLOAD) throw malformed('reset code too long');
      return;
    case FRAME.window:
      if (length !== 4) throw malformed('bad window');
      return;
    default:
      throw malformed(`unknown type ${type}`);
  }
}
