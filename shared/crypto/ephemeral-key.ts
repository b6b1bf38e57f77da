/**
 * The relay's rotating ephemeral X25519 key, signed by its identity. Logins are encrypted to it; each
 * connection keeps the key it was greeted with, so a rotation never breaks a login in flight, and a key
 * is forgotten once no connection holds it (forward secrecy without per-connection asymmetric work).
 */
import type { KeyObject } from 'node:crypto';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { signHelloKey } from './hello-signature.js';
import { generateX25519 } from './x25519-raw.js';

export interface EphemeralKey {
  privateKey: KeyObject;
  raw: Buffer;
  exp: number;
  sig: Buffer;
}

export class EphemeralKeyRing {
  #identity: KeyObject;
  #lifetimeMs: number;
  #current: EphemeralKey | undefined;
  #rotateAt = 0;

  constructor(identity: KeyObject, lifetimeMs = 60_000) {
    this.#identity = identity;
    this.#lifetimeMs = lifetimeMs;
  }

  /** The key to greet a connection with at `now`; rotates once its time is up. */
  current(now: number): EphemeralKey {
    if (!this.#current || now >= this.#rotateAt) {
      const { privateKey, raw } = generateX25519();
      // Valid a while past rotation so a login that was greeted just before it still opens.
      const exp = now + 2 * this.#lifetimeMs;
      this.#current = { privateKey, raw, exp, sig: signHelloKey(this.#identity, PROTOCOL_VERSION, raw, exp) };
      this.#rotateAt = now + this.#lifetimeMs;
    }
    return this.#current;
  }
}
