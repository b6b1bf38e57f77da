/**
 * Session tickets (relay cluster): a short-lived JWT, EdDSA-signed with the relay identity key that every
 * relay of a cluster shares, that lets a data connection attach at a relay other than the one holding its
 * session. The ticket does not authenticate on its own: it carries the session's attach key sealed
 * (AES-256-GCM) under a cluster key derived from the identity private key, which only relays can derive.
 * The attaching peer must still answer the relay's fresh challenge with an HMAC under that attach key (S7),
 * so a ticket seen by anyone else, or kept in a log, is useless without the session secret.
 */
import type { KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { ClusterSealKey } from './cluster-seal.js';
import { BurrowError } from '../errors.js';
import type { PortRole } from '../protocol/messages.js';
import { Redacted } from '../redacted.js';

const TYP = 'burrow-ticket+jwt';
const SEAL_CONTEXT = 'burrow ticket v1';

export interface TicketClaims {
  sid: string;
  user: string;
  port: PortRole;
  /** Id of the relay that holds the session and issued the ticket. */
  relay: string;
  /** Seconds since the epoch. */
  exp: number;
  attachKey: Redacted<Buffer>;
}

/** The identity private key, and what relays derive from it to seal attach keys into tickets. */
export class TicketKeys {
  readonly #seal: ClusterSealKey;

  constructor(readonly privateKey: KeyObject, readonly publicKey: KeyObject) {
    this.#seal = new ClusterSealKey(privateKey, 'ticket attach key');
  }

  seal(attachKey: Buffer, aad: string): string {
    return this.#seal.seal(attachKey, aad);
  }

  open(sealed: string, aad: string): Buffer {
    const key = this.#seal.open(sealed, aad);
    if (key?.length !== 32) throw new BurrowError('ERR_AUTH_FAILED', 'ticket key does not open');
    return key;
  }
}

function aadOf(sid: string, port: PortRole, user: string): string {
  return `${SEAL_CONTEXT}\0${sid}\0${port}\0${user}`;
}

export async function issueTicket(keys: TicketKeys, claims: Omit<TicketClaims, 'exp'>, nowMs: number, ttlSeconds: number): Promise<string> {
  const ak = keys.seal(claims.attachKey.reveal(), aadOf(claims.sid, claims.port, claims.user));
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ sid: claims.sid, port: claims.port, ak })
    .setProtectedHeader({ alg: 'EdDSA', typ: TYP })
    .setSubject(claims.user)
    .setIssuer(claims.relay)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(keys.privateKey);
}

/** Checks signature, type and expiry, and opens the attach key; ERR_AUTH_FAILED for anything wrong. */
export async function verifyTicket(keys: TicketKeys, ticket: string, nowMs: number): Promise<TicketClaims> {
  let payload;
  try {
    ({ payload } = await jwtVerify(ticket, keys.publicKey, { algorithms: ['EdDSA'], typ: TYP, currentDate: new Date(nowMs), clockTolerance: 5 }));
  } catch {
    throw new BurrowError('ERR_AUTH_FAILED', 'ticket rejected');
  }
  const { sid, port, ak, sub, iss, exp } = payload;
  if (typeof sid !== 'string' || (port !== 'client' && port !== 'skeleton') || typeof ak !== 'string' || typeof sub !== 'string' || typeof iss !== 'string' || typeof exp !== 'number') {
    throw new BurrowError('ERR_AUTH_FAILED', 'ticket claims malformed');
  }
  const attachKey = new Redacted(keys.open(ak, aadOf(sid, port, sub)));
  return { sid, port, user: sub, relay: iss, exp, attachKey };
}
