/**
 * Frames of a tunnel: many streams ("channels") multiplexed over one end-to-end channel. Each frame is
 * the plaintext of one Noise transport message, so the relay sees neither types, ids nor boundaries:
 *
 *   u8 type | u32be channel id | payload
 *
 * open     initiator -> responder   payload empty; ids strictly increase from 1
 * opened   responder -> initiator   the target accepted; payload empty
 * refused  responder -> initiator   ASCII error code; the channel is gone
 * data     both                      1..MAX_DATA bytes, within the receiver's window
 * end      both                      the sender's half-close; payload empty
 * reset    both                      abort; payload empty or an ASCII error code; the channel is gone
 * window   both                      u32be: more bytes the receiver may now be sent (> 0)
 */
import { BurrowError, isErrorCode, type ErrorCode } from '../errors.js';
import { E2E_MAX_PLAINTEXT } from '../crypto/e2e-frames.js';

export const FRAME = { open: 1, opened: 2, refused: 3, data: 4, end: 5, reset: 6, window: 7 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export const FRAME_HEADER_LENGTH = 5;
/** Largest data payload: one frame fills one Noise transport message. */
export const MAX_DATA = E2E_MAX_PLAINTEXT - FRAME_HEADER_LENGTH;
/** Bytes each side may send on a channel before the receiver grants more; both start with it. */
export const CHANNEL_WINDOW = 1024 * 1024;

const MAX_CODE_LENGTH = 64;
const MAX_CHANNEL_ID = 0xffff_ffff;

export interface Frame {
  type: FrameType;
  channel: number;
  payload: Buffer;
}

export function frameHeader(type: FrameType, channel: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(channel, 1);
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

function malformed(detail: string): BurrowError {
  return new BurrowError('ERR_MALFORMED_FRAME', `tunnel frame: ${detail}`);
}

/** Checks one decrypted frame's shape; throws ERR_MALFORMED_FRAME. The payload is a view. */
export function parseFrame(plaintext: Buffer): Frame {
  if (plaintext.length < FRAME_HEADER_LENGTH) throw malformed('short header');
  const type = plaintext.readUInt8(0);
  const channel = plaintext.readUInt32BE(1);
  const payload = plaintext.subarray(FRAME_HEADER_LENGTH);
  if (channel === 0 || channel > MAX_CHANNEL_ID) throw malformed('channel id 0');
  switch (type) {
    case FRAME.open:
    case FRAME.opened:
    case FRAME.end:
      if (payload.length !== 0) throw malformed('payload where none belongs');
      break;
    case FRAME.data:
      if (payload.length === 0) throw malformed('empty data');
      break;
    case FRAME.refused:
      if (payload.length === 0 || payload.length > MAX_CODE_LENGTH) throw malformed('refusal without a code');
      break;
    case FRAME.reset:
      if (payload.length > MAX_CODE_LENGTH) throw malformed('reset code too long');
      break;
    case FRAME.window:
      if (payload.length !== 4 || payload.readUInt32BE(0) === 0) throw malformed('bad window');
      break;
    default:
      throw malformed(`unknown type ${type}`);
  }
  return { type: type as FrameType, channel, payload };
}
