/**
 * Shared accounts, the Redis half: every relay writes the signed records it knows to be newest into one
 * hash (its own users file's records, signed when they are written) and announces it; every relay reads
 * the hash, verifies each record, and keeps per name the newest it has seen (UserBook). A record in Redis
 * older than one a relay knows is overwritten by that relay on its next load, so a replayed or deleted
 * record is repaired by any relay that saw the newer one. While Redis is down, the book last known stays.
 * A record that turns unverifiable again right after a repair is repaired ever more slowly (1 s doubling
 * to 60 s) and reported once: two relays with different identity keys on one store would otherwise
 * overwrite each other's records in a loop, thousands of times a second.
 */
import type { Redis } from 'ioredis';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { UsersDb } from '../users/users-file.js';
import { CHANNELS, KEYS } from './cluster-keys.js';
import type { AccountKeys } from './account-keys.js';
import { canonicalUser, signUser, verifyUser } from './signed-user.js';
import { fileUser, UserBook } from './user-book.js';

/** The slowest a relay repairs a record that keeps turning unverifiable. */
const MAX_REPAIR_BACKOFF_MS = 60_000;

type Store = Pick<Redis, 'hgetall' | 'hset' | 'publish'>;

export class UserSync {
  readonly book = new UserBook();
  /** What Redis held at the last load: name -> the JWS text and, if it verified, its canonical payload. */
  readonly #stored = new Map<string, { jws: string; canonical?: string }>();
  #loading: Promise<boolean> | undefined;
  #again = false;
  #announce = false;
  /** Names whose record this relay wrote over an unverifiable one: when, and how long until the next try. */
  readonly #repairs = new Map<string, { at: number; backoffMs: number; reported: boolean }>();

  constructor(
    private readonly redis: Store,
    private readonly relayId: string,
    private readonly keys: AccountKeys,
    private readonly log: Logger,
    private readonly onView: (view: UsersDb) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The users file was (re)loaded: its records join the book (older ones than seen are ignored), and names
   * it no longer has get a tombstone. The caller publishes with `load()` when Redis is reachable.
   */
  fileChanged(file: UsersDb, previous: UsersDb | undefined, nowMs: number): void {
    for (const name of file.names()) {
      const record = file.get(name);
      const user = record ? fileUser(name, record) : undefined;
      if (user && !this.book.offer(user) && !this.book.isNewest(user)) {
        // Edit this account where its newest record is, or `burrow users` here starts from the older one.
        this.log.info({ user: name }, 'users file record older than the cluster\'s; the cluster\'s is in force');
      }
    }
    for (const name of previous?.names() ?? []) {
      if (file.has(name) || !this.book.newest(name)?.record) continue;
      this.book.offer(this.book.tombstone(name, nowMs));
      this.log.info({ user: name }, 'account removed from the users file; removing it from the cluster');
    }
  }

  /**
   * Reads and verifies every shared record, then writes back what this relay knows to be newer. Serialized.
   * `announce`: tell the other relays even if nothing was written (after connecting: so that any relay that
   * knows a newer record than Redis now holds writes it back, and this relay hears it).
   */
  load(announce = false): Promise<boolean> {
    this.#announce ||= announce;
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      let ok = true;
      do {
        this.#again = false;
        ok = await this.#loadOnce();
      } while (this.#again && ok);
      this.#loading = undefined;
      return ok;
    })();
    return this.#loading;
  }

  async #loadOnce(): Promise<boolean> {
    try {
      const before = this.book.view();
      const stored = await this.redis.hgetall(KEYS.users);
      for (const [name, jws] of Object.entries(stored)) await this.#take(name, jws);
      const wrote = await this.#publish();
      const view = this.book.view();
      if (view !== before) this.onView(view);
      if (wrote || this.#announce) await this.redis.publish(CHANNELS.users, this.relayId);
      this.#announce = false;
      return true;
    } catch (err) {
      this.log.warn({ code: codeOf(err) }, 'shared accounts not synced; will retry on reconnect');
      return false;
    }
  }

  async #take(name: string, jws: string): Promise<void> {
    if (this.#stored.get(name)?.jws === jws) return;
    const user = await verifyUser(this.keys, name, jws);
    this.#stored.set(name, user ? { jws, canonical: canonicalUser(user) } : { jws });
    // Name only: the record may be an attacker's, and a hash never belongs in a log.
    if (!user) {
      const repair = this.#repairs.get(name);
      if (!repair) return this.log.warn({ user: name.slice(0, 64) }, 'unsigned or badly signed account record in the cluster store ignored');
      if (!repair.reported) {
        repair.reported = true;
        this.log.error({ user: name.slice(0, 64) }, 'account record replaced again by one this relay cannot verify: is a relay with another identity key using this cluster store? repairing it ever more slowly');
      }
      return;
    }
    this.#repairs.delete(name);
    if (!this.book.offer(user) && !this.book.isNewest(user)) this.log.info({ user: name }, 'older account record in the cluster store ignored');
  }

  /** Writes every newest record that Redis lacks or holds older; true if anything was written. */
  async #publish(): Promise<boolean> {
    const writes: Record<string, string> = {};
    for (const name of this.book.names()) {
      const user = this.book.newest(name);
      const stored = this.#stored.get(name);
      if (!user || stored?.canonical === canonicalUser(user)) continue;
      if (stored && stored.canonical === undefined && !this.#mayRepair(name)) continue;
      writes[name] = await signUser(this.keys, user);
    }
    if (Object.keys(writes).length === 0) return false;
    await this.redis.hset(KEYS.users, writes);
    for (const [name, jws] of Object.entries(writes)) {
      const user = this.book.newest(name);
      if (user) this.#stored.set(name, { jws, canonical: canonicalUser(user) });
    }
    return true;
  }

  /** Whether to write over `name`'s unverifiable record now; notes the repair and backs off the next. */
  #mayRepair(name: string): boolean {
    const now = this.now();
    const last = this.#repairs.get(name);
    if (last && now - last.at < last.backoffMs) return false;
    const backoffMs = last ? Math.min(last.backoffMs * 2, MAX_REPAIR_BACKOFF_MS) : 1_000;
    this.#repairs.set(name, { at: now, backoffMs, reported: last?.reported ?? false });
    return true;
  }
}
