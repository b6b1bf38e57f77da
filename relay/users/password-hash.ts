/**
 * Password hashing with argon2id at OWASP's parameters (19 MiB, t=2, p=1; ~40 ms per verify here).
 * argon2 runs on libuv's 4-thread pool, shared with fs and WebCrypto, so at most `concurrency` hashes
 * run at once and the rest queue. An unknown user is verified against a dummy hash so it costs the same
 * time as a wrong password (S5).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type * as Argon2 from 'argon2';
import { BurrowError } from '../../shared/errors.js';
import type { Redacted } from '../../shared/redacted.js';
import { Semaphore } from '../../shared/semaphore.js';

/** argon2's `argon2id` (2): the addon itself is loaded on the first hash (`lib`), not by every `burrow` command. */
const ARGON2ID: typeof Argon2.argon2id = 2;
export const ARGON2_PARAMS = { type: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
let loaded: Promise<typeof Argon2> | undefined;
/**
 * argon2 is a CommonJS package: required, not imported, so the `burrow` bundle (a CommonJS script run
 * from a V8 code cache, bin/code-cache.ts) needs no dynamic import, which node:vm cannot give a script
 * compiled from a cache on Node 20.
 */
const lib = (): Promise<typeof Argon2> => (loaded ??= new Promise((resolve) => resolve(createRequire(import.meta.url)('argon2') as typeof Argon2)));
/**
 * One core stays free for the event loop: on 2 cores, 2 hashes at once raised a running stream's
 * round-trip p99 from 1.2 to 4.7 ms (max 16 -> 82 ms) during a login storm for no more logins per
 * second (bench/login-load.ts). At most 4: libuv's pool has 4 threads.
 */
export const DEFAULT_ARGON2_CONCURRENCY = Math.min(4, Math.max(1, availableParallelism() - 1));

let dummyHash: Promise<string> | undefined;

/** Made once, lazily, from a random password nobody knows, with the same parameters as real hashes. */
function getDummyHash(): Promise<string> {
  dummyHash ??= lib().then((argon2) => argon2.hash(randomBytes(32).toString('base64url'), ARGON2_PARAMS)).catch((err: unknown) => {
    dummyHash = undefined; // try again next time rather than fail every unknown user forever
    throw err;
  });
  return dummyHash;
}

export class PasswordHasher {
  readonly #slots: Semaphore;

  constructor(opts: { concurrency?: number } = {}) {
    this.#slots = new Semaphore(opts.concurrency ?? DEFAULT_ARGON2_CONCURRENCY);
  }

  /** Operations running plus waiting: a cheap load signal for metrics. */
  get pending(): number {
    return this.#slots.active + this.#slots.waiting;
  }

  hash(password: Redacted<string>): Promise<string> {
    return this.#slots.run(async () => (await lib()).hash(password.reveal(), ARGON2_PARAMS));
  }

  /** False for a wrong password and, after the same work, for an unknown user (`hash` undefined). */
  async verify(hash: string | undefined, password: Redacted<string>): Promise<boolean> {
    const known = hash !== undefined;
    const ok = await this.#slots.run(async () => {
      const digest = hash ?? (await getDummyHash());
      const argon2 = await lib();
      try {
        return await argon2.verify(digest, password.reveal());
      } catch (err) {
        // A malformed stored hash; the users file loader should have refused it.
        throw new BurrowError('ERR_INTERNAL', 'stored password hash could not be verified', { cause: err });
      }
    });
    return known && ok;
  }

  /** Computes the dummy hash now (e.g. at relay start) so the first unknown user costs no extra hash. */
  async prime(): Promise<void> {
    await this.#slots.run(getDummyHash);
  }
}

const shared = new PasswordHasher();

/** Hashes with the process-wide hasher. */
export function hashPassword(password: Redacted<string>): Promise<string> {
  return shared.hash(password);
}

/** Verifies with the process-wide hasher; `hash` undefined means an unknown user. */
export function verifyPassword(hash: string | undefined, password: Redacted<string>): Promise<boolean> {
  return shared.verify(hash, password);
}
