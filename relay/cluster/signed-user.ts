/**
 * Accounts shared through Redis as signed records: a compact JWS (EdDSA, the relay identity key every relay
 * of a cluster shares) over one account's record and revision, or over a tombstone for a removed account.
 * Redis only carries them: a record that does not verify under the identity key is never used, so write
 * access to Redis without the private key can neither add an account nor change one.
 */
import type { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { isValidUserName, parseUserRecord, type UserRecord } from '../users/user-record.js';

const TYP = 'burrow-user+jws';
/** Bounds what is parsed from Redis before the signature is even checked. */
const MAX_JWS_LENGTH = 16 * 1024;

/** One account as the cluster knows it; no `record` means removed (a tombstone). */
export interface SharedUser {
  name: string;
  revision: number;
  record?: UserRecord;
}

/** The signed payload, fields in a fixed order: also what breaks ties between equal revisions. */
export function canonicalUser(u: SharedUser): string {
  if (!u.record) return JSON.stringify({ name: u.name, revision: u.revision, removed: true });
  const r = u.record;
  return JSON.stringify({
    name: u.name, revision: u.revision, hash: r.hash, roles: r.roles, serve: r.serve, access: r.access, disabled: r.disabled,
    ...(r.created !== undefined ? { created: r.created } : {}),
  });
}

export async function signUser(privateKey: KeyObject, u: SharedUser): Promise<string> {
  return new CompactSign(new TextEncoder().encode(canonicalUser(u))).setProtectedHeader({ alg: 'EdDSA', typ: TYP }).sign(privateKey);
}

/** The record if `jws` is a well-formed record for `name` signed by the identity key; else undefined. */
export async function verifyUser(publicKey: KeyObject, name: string, jws: string): Promise<SharedUser | undefined> {
  if (jws.length > MAX_JWS_LENGTH) return undefined;
  let payload: Uint8Array;
  try {
    const verified = await compactVerify(jws, publicKey, { algorithms: ['EdDSA'] });
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
  const { name: signedName, revision, removed, ...rest } = value as Record<string, unknown>;
  // A record signed for one name and stored under another is refused: names are part of what is signed.
  if (signedName !== name || !isValidUserName(name) || !Number.isSafeInteger(revision) || (revision as number) < 0) return undefined;
  if (removed === true && Object.keys(rest).length === 0) return { name, revision: revision as number };
  if (removed !== undefined) return undefined;
  const record = parseUserRecord(rest);
  return typeof record === 'string' ? undefined : { name, revision: revision as number, record: { ...record, revision: revision as number } };
}
