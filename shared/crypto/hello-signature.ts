/**
 * The relay signs its current ephemeral X25519 key and its expiry with its Ed25519 identity key.
 * A peer that pins the identity's fingerprint verifies this before it trusts anything the relay says.
 */
import { sign, verify, type KeyObject } from 'node:crypto';

const CONTEXT = Buffer.from('burrow hello key v1\0');

function signedBytes(version: number, eph: Buffer, exp: number): Buffer {
  const tail = Buffer.alloc(10);
  tail.writeUInt16BE(version, 0);
  tail.writeBigUInt64BE(BigInt(exp), 2);
  return Buffer.concat([CONTEXT, eph, tail]);
}

export function signHelloKey(identity: KeyObject, version: number, eph: Buffer, exp: number): Buffer {
  return sign(null, signedBytes(version, eph, exp), identity);
}

export function verifyHelloKey(identity: KeyObject, version: number, eph: Buffer, exp: number, sig: Buffer): boolean {
  try {
    return verify(null, signedBytes(version, eph, exp), identity, sig);
  } catch {
    // A malformed signature is a failed verification, not a crash.
    return false;
  }
}
