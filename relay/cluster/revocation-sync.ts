/**
 * Shared revocations: every relay keeps its own users file authoritative and adds the accounts it has
 * disabled to one Redis set; an account re-enabled here is withdrawn from it. A change is announced on a
 * channel and every relay reloads the set and ends the sessions of revoked accounts. While Redis is down
 * the last set loaded stays in force.
 */
import type { Redis } from 'ioredis';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { UsersDb } from '../users/users-file.js';
import { CHANNELS, KEYS } from './cluster-keys.js';

export class RevocationSync {
  /** Accounts disabled in this relay's users file, as last seen. */
  #disabled = new Set<string>();
  /** Accounts this relay re-enabled while Redis could not hear it. */
  #enabled = new Set<string>();

  constructor(private readonly redis: Redis, private readonly log: Logger, private readonly onSet: (users: string[]) => void) {}

  /** The local users file changed; `publish` when Redis is reachable (else the next resync does it). */
  local(db: UsersDb, publish: boolean): void {
    const disabled = new Set(db.names().filter((name) => db.get(name)?.disabled === true));
    for (const name of this.#disabled) if (!disabled.has(name)) this.#enabled.add(name);
    for (const name of disabled) this.#enabled.delete(name);
    const changed = [...disabled].some((n) => !this.#disabled.has(n)) || this.#enabled.size > 0;
    this.#disabled = disabled;
    if (changed && publish) void this.resync();
  }

  /** Publishes local disables (and re-enables), then loads the set. */
  async resync(): Promise<boolean> {
    try {
      const multi = this.redis.multi();
      if (this.#disabled.size > 0) multi.sadd(KEYS.revoked, ...this.#disabled);
      if (this.#enabled.size > 0) multi.srem(KEYS.revoked, ...this.#enabled);
      multi.publish(CHANNELS.revoked, '1');
      await multi.exec();
      this.#enabled.clear();
      return await this.reload();
    } catch (err) {
      this.log.warn({ code: codeOf(err) }, 'revocations not published; will retry on reconnect');
      return false;
    }
  }

  async reload(): Promise<boolean> {
    try {
      this.onSet(await this.redis.smembers(KEYS.revoked));
      return true;
    } catch (err) {
      this.log.warn({ code: codeOf(err) }, 'revocations not loaded');
      return false;
    }
  }
}
