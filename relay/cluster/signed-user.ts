/**
 * Accounts shared through Redis as signed records: a compact JWS (EdDSA, the relay identity key every relay
 * of a cluster shares) over one account's record and revision, or over a tombstone for a removed account.
 * Redis only carries them: a record that does not verify under the identity key is never used, so write
 * access to Redis without the private key can neither add an account nor change one. The argon2id hash
 * inside is sealed (AccountKeys), so read access to Redis gives nothing to guess passwords against.
 */
import { CompactSign, compactVerify } from 'jose';
import { isValidUserName, parseUserRecord, type UserRecord } from '../users/user-record.js';
import type { AccountKeys } from './account-keys.js';

const TYP = 'burrow-user+jws';
/** Bounds what is parsed from Redis before the signature is even checked. */
const MAX_JWS_LENGTH = 16 * 1024;

/** One account as the cluster knows it; no `record` means removed (a tombstone). */
export interface SharedUser {
  name: string;
  revision: number;
  record?: UserRecord;
}

/** The record's content, fields in a fixed order: what breaks ties between equal revisions (never stored). */
export function canonicalUser(u: SharedUser): string {
  if (!u.record) return JSON.stringify({ name: u.name, revision: u.revision, removed: true });
  const r = u.record;
  return JSON.stringify({
    name: u.name, revision: u.revision, hash: r.hash, roles: r.roles, serve: r.serve, access: r.access, disabled: r.disabled,
    ...(r.created !== undefined ? { created: r.created } : {}),
  });
}

/** What is signed: the canonical content with the hash sealed. */
function payloadOf(keys: AccountKeys, u: SharedUser): string {
  if (!u.record) return canonicalUser(u);
  const { hash, ...content } = JSON.parse(canonicalUser(u)) as Record<string, unknown> & { hash: string };
  return JSON.stringify({ ...content, sealedHash: keys.sealHash(u.name, hash) });
}

export async function signUser(keys: AccountKeys, u: SharedUser): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payloadOf(keys, u))).setProtectedHeader({ alg: 'EdDSA', typ: TYP }).sign(keys.privateKey);
}

/** The record if `jws` is a well-formed record for `name` signed by the identity key; else undefined. */
export async function verifyUser(keys: AccountKeys, name: string, jws: string): Promise<SharedUser | undefined> {
  if (jws.length > MAX_JWS_LENGTH) return undefined;
  let payload: Uint8Array;
  try {
    const verified = await compactVerify(jws, keys.publicKey, { algorithms: ['EdDSA'] });
    if (verified.protectedHeader.typ !== TYP) return undefined;
    payload = verified.payload;
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { name: signedName, revision, removed, sealedHash, ...rest } = value as Record<string, unknown>;
  // A record signed for one name and stored under another is refused: names are part of what is signed.
  if (signedName !== name || !isValidUserName(name) || !Number.isSafeInteger(revision) || (revision as number) < 0) return undefined;
  if (removed === true && sealedHash === undefined && Object.keys(rest).length === 0) return { name, revision: revision as number };
  if (removed !== undefined || typeof sealedHash !== 'string' || 'hash' in rest) return undefined;
  const hash = keys.openHash(name, sealedHash);
  if (hash === undefined) return undefined;
  const record = parseUserRecord({ ...rest, hash });
  return typeof record === 'string' ? undefined : { name, revision: revision as number, record: { ...record, revision: revision as number } };
}
