/** Keys derived from a session key: one per control direction and one for attach proofs. */
import { hkdfSync } from 'node:crypto';

export interface SessionKeys {
  /** Seals control frames peer -> relay. */
  peerToRelay: Buffer;
  /** Seals control frames relay -> peer. */
  relayToPeer: Buffer;
  /** Keys the HMAC of data-connection attach proofs. */
  attach: Buffer;
}

function derive(sessionKey: Buffer, sid: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionKey, Buffer.from(sid), Buffer.from(`burrow v1 ${label}`), 32));
}

export function deriveSessionKeys(sessionKey: Buffer, sid: string): SessionKeys {
  return {
    peerToRelay: derive(sessionKey, sid, 'control peer->relay'),
    relayToPeer: derive(sessionKey, sid, 'control relay->peer'),
    attach: derive(sessionKey, sid, 'attach'),
  };
}
