/**
 * Login (S1, S2): the peer encrypts its user, password, the relay's fresh challenge and a fresh client
 * key to the relay's signed ephemeral key (JWE, ECDH-ES + A256GCM). Only the holder of that ephemeral
 * private key, the real relay, can open it; the challenge binds it to one connection.
 */
import { compactDecrypt, CompactEncrypt } from 'jose';
import type { KeyObject } from 'node:crypto';
import { BurrowError } from '../errors.js';
import type { PortRole } from '../protocol/messages.js';
import { Redacted } from '../redacted.js';
import { x25519PublicFromRaw } from './x25519-raw.js';

export interface LoginClaims {
  user: string;
  password: Redacted<string>;
  challenge: Buffer;
  clientKey: Redacted<Buffer>;
  port: PortRole;
}

const encoder = new TextEncoder();

export async function sealLogin(ephemeralRaw: Buffer, claims: LoginClaims): Promise<string> {
  const body = JSON.stringify({
    u: claims.user,
    p: claims.password.reveal(),
    c: claims.challenge.toString('base64url'),
    k: claims.clientKey.reveal().toString('base64url'),
    port: claims.port,
  });
  return new CompactEncrypt(encoder.encode(body))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'burrow-login-v1' })
    .encrypt(x25519PublicFromRaw(ephemeralRaw));
}

/** Opens a login; anything that does not open or does not fit is ERR_AUTH_FAILED, like a bad password. */
export async function openLogin(ephemeralPrivate: KeyObject, jwe: string): Promise<LoginClaims> {
  let fields: Record<string, unknown>;
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, ephemeralPrivate, {
      keyManagementAlgorithms: ['ECDH-ES'],
      contentEncryptionAlgorithms: ['A256GCM'],
      // No compressed JWEs (jose accepts zip: DEF by default): nothing inflates before it is authenticated as ours.
      maxDecompressedLength: 0,
    });
    if (protectedHeader.cty !== 'burrow-login-v1') throw new Error('content type');
    fields = JSON.parse(Buffer.from(plaintext).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new BurrowError('ERR_AUTH_FAILED', 'login did not open', { cause: err });
  }
  const { u, p, c, k, port } = fields;
  if (typeof u !== 'string' || u.length > 64 || typeof p !== 'string' || p.length > 1024 || typeof c !== 'string' || typeof k !== 'string'
    || (port !== 'client' && port !== 'skeleton')) {
    throw new BurrowError('ERR_AUTH_FAILED', 'login fields');
  }
  const challenge = Buffer.from(c, 'base64url');
  const clientKey = Buffer.from(k, 'base64url');
  if (challenge.length !== 32 || clientKey.length !== 32) throw new BurrowError('ERR_AUTH_FAILED', 'login fields');
  return { user: u, password: new Redacted(p), challenge, clientKey: new Redacted(clientKey), port };
}
