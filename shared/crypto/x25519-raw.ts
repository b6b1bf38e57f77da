/**
 * Raw 32-byte X25519 keys <-> node:crypto KeyObjects. Through JWK, not DER: with OpenSSL 3, DER import
 * and export go through its decoder framework and cost ~150-180 us each on this machine, JWK ~5-25 us,
 * and a stream's handshake does several of them on each side.
 *
 * New keys are 32 random bytes imported as a private key, never generateKeyPairSync: on Node 20 a key
 * exported while the garbage collector frees an earlier key-generation job deadlocks the process (the
 * export holds a lock that the job's destructor waits for). A skeleton hung that way after a few
 * thousand streams; a loop of generateKeyPairSync('x25519') plus export hangs within seconds.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** Node 20 derives the public half from `d` and ignores `x`, but requires it to be present. */
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

export interface X25519Pair {
  privateKey: KeyObject;
  /** The raw public key. */
  raw: Buffer;
}

export function x25519PublicFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function x25519RawPublic(key: KeyObject): Buffer {
  const { x } = key.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new TypeError('not an X25519 key');
  return Buffer.from(x, 'base64url');
}

/** The key pair of a raw 32-byte private key (RFC 7748: any 32 bytes; clamping is part of X25519). */
export function x25519FromPrivateRaw(rawPrivate: Buffer): X25519Pair {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: rawPrivate.toString('base64url'), x: PLACEHOLDER_X }, format: 'jwk' });
  } catch {
    // A Node that checks `x` against `d`: the slower DER import.
    privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, rawPrivate]), format: 'der', type: 'pkcs8' });
  }
  return { privateKey, raw: x25519RawPublic(createPublicKey(privateKey)) };
}

export function generateX25519(): X25519Pair {
  return x25519FromPrivateRaw(randomBytes(32));
}
