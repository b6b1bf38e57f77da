/**
 * Raw 32-byte X25519 keys <-> node:crypto KeyObjects. Through JWK, not DER: with OpenSSL 3, DER import
 * and export go through its decoder framework and cost ~150-180 us each on this machine, JWK ~5-25 us,
 * and a stream's handshake does several of them on each side.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export function x25519PublicFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function x25519RawPublic(key: KeyObject): Buffer {
  const { x } = key.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new TypeError('not an X25519 key');
  return Buffer.from(x, 'base64url');
}

export function generateX25519(): { privateKey: KeyObject; publicKey: KeyObject; raw: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey, raw: x25519RawPublic(publicKey) };
}
