/**
 * Welcome: the relay answers a login with the session, sealed (JWE dir + A256GCM) under the client key
 * that came inside the login. Only a relay that opened the login can produce it.
 */
import { compactDecrypt, CompactEncrypt } from 'jose';
import { BurrowError } from '../errors.js';
import { Redacted } from '../redacted.js';

export interface SessionGrant {
  sid: string;
  sessionKey: Redacted<Buffer>;
  /** Session expiry, ms since the epoch (informative; the relay enforces). */
  exp: number;
  /** Heartbeat interval the relay expects, ms. */
  pingMs: number;
}

const encoder = new TextEncoder();

export async function sealWelcome(clientKey: Redacted<Buffer>, grant: SessionGrant): Promise<string> {
  const body = JSON.stringify({ sid: grant.sid, key: grant.sessionKey.reveal().toString('base64url'), exp: grant.exp, ping: grant.pingMs });
  return new CompactEncrypt(encoder.encode(body))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'burrow-welcome-v1' })
    .encrypt(clientKey.reveal());
}

/** A welcome that does not open under our client key came from something that is not the relay. */
export async function openWelcome(clientKey: Redacted<Buffer>, jwe: string): Promise<SessionGrant> {
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, clientKey.reveal(), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      // No compressed JWEs (jose accepts zip: DEF by default): nothing inflates before it is authenticated as ours.
      maxDecompressedLength: 0,
    });
    if (protectedHeader.cty !== 'burrow-welcome-v1') throw new Error('content type');
    const f = JSON.parse(Buffer.from(plaintext).toString('utf8')) as Record<string, unknown>;
    const key = typeof f.key === 'string' ? Buffer.from(f.key, 'base64url') : Buffer.alloc(0);
    if (typeof f.sid !== 'string' || key.length !== 32 || typeof f.exp !== 'number' || typeof f.ping !== 'number') {
      throw new Error('fields');
    }
    return { sid: f.sid, sessionKey: new Redacted(key), exp: f.exp, pingMs: f.ping };
  } catch (err) {
    throw new BurrowError('ERR_RELAY_KEY_MISMATCH', 'welcome did not open under our key', { cause: err });
  }
}
