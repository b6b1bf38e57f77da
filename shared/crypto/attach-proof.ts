/**
 * S7: a data connection proves its session with an HMAC over the relay's fresh challenge and what the
 * connection is for. No argon2 and no asymmetric crypto per stream.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AttachPurpose } from '../protocol/messages.js';

export interface AttachClaim {
  sid: string;
  purpose: AttachPurpose;
  server?: string;
  dial?: string;
}

export function attachMac(attachKey: Buffer, challenge: Buffer, claim: AttachClaim): Buffer {
  const hmac = createHmac('sha256', attachKey);
  hmac.update('burrow attach v1\0');
  hmac.update(challenge);
  for (const part of [claim.sid, claim.purpose, claim.server ?? '', claim.dial ?? '']) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(Buffer.byteLength(part));
    hmac.update(len);
    hmac.update(part);
  }
  return hmac.digest();
}

export function verifyAttachMac(attachKey: Buffer, challenge: Buffer, claim: AttachClaim, mac: Buffer): boolean {
  const expected = attachMac(attachKey, challenge, claim);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}
