/** Raw 32-byte X25519 keys <-> node:crypto KeyObjects. */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export function x25519PublicFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function x25519RawPublic(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

export function generateX25519(): { privateKey: KeyObject; publicKey: KeyObject; raw: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey, raw: x25519RawPublic(publicKey) };
}
