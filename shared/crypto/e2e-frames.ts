/**
 * Wire format of the end-to-end channel: every Noise message, handshake or transport, travels as a
 * 2-byte big-endian length and then the message. Message 2 of the handshake carries the responder's
 * verdict: 0x00 = accepted, 0x01 + ASCII error code = refused.
 */
import { isErrorCode, type ErrorCode } from '../errors.js';
import { TAG_LENGTH } from './noise/cipher-state.js';
import { MAX_NOISE_MESSAGE } from './noise/handshake-state.js';

export const E2E_HEADER_LENGTH = 2;
export const E2E_MAX_MESSAGE = MAX_NOISE_MESSAGE;
/** Largest plaintext of one transport frame: 65535 - 16-byte tag. */
export const E2E_MAX_PLAINTEXT = E2E_MAX_MESSAGE - TAG_LENGTH;

/** Size limits of one message, checked from its header before anything of it is buffered. */
export interface FrameLimits {
  min: number;
  max: number;
}

/**
 * Handshake-phase messages: Noise messages 1 and 2 (an ephemeral key, a tag and a short payload), then
 * the confirm and verdict transport messages (a tag and a byte or a short code).
 */
export const HANDSHAKE_LIMITS: FrameLimits = { min: TAG_LENGTH, max: 256 };
/** Transport messages: a tag and up to 65519 bytes. */
export const TRANSPORT_LIMITS: FrameLimits = { min: TAG_LENGTH, max: E2E_MAX_MESSAGE };

// v2: single streams carry the tunnel's framing (one transport for both); a v1 peer fails the handshake cleanly.
const PROLOGUE_LABEL = Buffer.from('burrow e2e v2\0', 'latin1');
const MAX_CODE_LENGTH = 64;
const VERDICT_OK = 0;
const VERDICT_REFUSED = 1;

/** The prologue both ends hash first, binding the handshake to the server id. */
export function e2ePrologue(serverId: string): Buffer {
  return Buffer.concat([PROLOGUE_LABEL, Buffer.from(serverId, 'utf8')]);
}

export function e2eHeader(messageLength: number): Buffer {
  const header = Buffer.allocUnsafe(E2E_HEADER_LENGTH);
  header.writeUInt16BE(messageLength, 0);
  return header;
}

export function e2eFrame(message: Buffer): Buffer {
  return Buffer.concat([e2eHeader(message.length), message]);
}

export function encodeVerdict(refusal?: ErrorCode): Buffer {
  if (refusal === undefined) return Buffer.of(VERDICT_OK);
  return Buffer.concat([Buffer.of(VERDICT_REFUSED), Buffer.from(refusal, 'ascii')]);
}

/**
 * Message 2's payload: `{ ok: true }`, a refusal with its code (an unknown code becomes
 * ERR_E2E_HANDSHAKE_FAILED), or undefined when the payload has no valid shape.
 */
export function decodeVerdict(payload: Buffer): { ok: true } | { ok: false; code: ErrorCode } | undefined {
  if (payload.length === 1 && payload[0] === VERDICT_OK) return { ok: true };
  if (payload.length < 2 || payload.length > 1 + MAX_CODE_LENGTH || payload[0] !== VERDICT_REFUSED) return undefined;
  const code = payload.toString('latin1', 1);
  return { ok: false, code: isErrorCode(code) ? code : 'ERR_E2E_HANDSHAKE_FAILED' };
}

/**
 * Cuts written chunks into transport plaintexts of at most `max` bytes. A large chunk is sliced
 * without copying; only small chunks that share a frame are joined.
 */
export function slicePlaintexts(chunks: readonly Buffer[], max = E2E_MAX_PLAINTEXT): Buffer[] {
  const out: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingLength = 0;
  const flush = (): void => {
    if (pendingLength === 0) return;
    out.push(pending.length === 1 && pending[0] ? pending[0] : Buffer.concat(pending, pendingLength));
    pending = [];
    pendingLength = 0;
  };
  for (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(max - pendingLength, chunk.length - offset);
      pending.push(chunk.subarray(offset, offset + take));
      pendingLength += take;
      offset += take;
      if (pendingLength === max) flush();
    }
  }
  flush();
  return out;
}
