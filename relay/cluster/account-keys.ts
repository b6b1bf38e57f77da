/**
 * The keys a cluster uses for shared accounts, all from the relay identity every relay holds: the Ed25519
 * pair signs and verifies account records, and an AES-256-GCM key derived from the private key (HKDF,
 * its own label, apart from the ticket key) seals each argon2id hash, so Redis never holds a readable
 * hash to guess passwords against offline.
 */
import type { KeyObject } from 'node:crypto';
import { ClusterSealKey } from '../../shared/crypto/cluster-seal.js';

export class AccountKeys {
  readonly #seal: ClusterSealKey;

  constructor(readonly privateKey: KeyObject, readonly publicKey: KeyObject) {
    this.#seal = new ClusterSealKey(privateKey, 'account hash');
  }

  /** Seals `hash` for account `name` (the name is authenticated too): base64url of nonce, ciphertext, tag. */
  sealHash(name: string, hash: string): string {
    return this.#seal.seal(Buffer.from(hash, 'utf8'), `burrow account hash\0${name}`);
  }

  /** The hash, or undefined if `sealed` was not sealed by a relay of this cluster for `name`. */
  openHash(name: string, sealed: string): string | undefined {
    return this.#seal.open(sealed, `burrow account hash\0${name}`)?.toString('utf8');
  }
}
