/** Keys derived from a session key: one per control direction, one for attach proofs, and the public-leg key. */
import { hkdfSync } from 'node:crypto';

export interface SessionKeys {
  /** Seals control frames peer -> relay. */
  peerToRelay: Buffer;
  /** Seals control frames relay -> peer. */
  relayToPeer: Buffer;
  /** Keys the HMAC of data-connection attach proofs. */
  attach: Buffer;
  /** The pre-shared key of the session's public legs (publicLegKey of `attach`), derived once per session. */
  publicLeg: Buffer;
}

function derive(sessionKey: Buffer, sid: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionKey, Buffer.from(sid), Buffer.from(`burrow v1 ${label}`), 32));
}

export function deriveSessionKeys(sessionKey: Buffer, sid: string): SessionKeys {
  const attach = derive(sessionKey, sid, 'attach');
  return {
    peerToRelay: derive(sessionKey, sid, 'control peer->relay'),
    relayToPeer: derive(sessionKey, sid, 'control relay->peer'),
    attach,
    publicLeg: publicLegKey(attach),
  };
}

/**
 * The pre-shared key of a public stream's leg between relay and skeleton (Bind `public`): the relay
 * runs the end-to-end handshake itself with it, so the network between relay and home sees ciphertext
 * only, while the home server needs no secret. Derived from the attach key, which every relay that
 * may take a data connection of the session holds (a cluster relay gets it from the session ticket).
 */
export function publicLegKey(attachKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', attachKey, Buffer.alloc(0), Buffer.from('burrow v1 public leg'), 32));
}
