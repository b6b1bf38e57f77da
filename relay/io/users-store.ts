/**
 * The users file as the relay sees it: reloaded when its modification time or size changes, checked at
 * each login, so `burrow users add|passwd|disable` take effect without a restart. A file that turns bad
 * while running keeps the last good copy and logs why.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from '../../shared/log.js';
import { loadUsers, type UsersDb } from '../users/users-file.js';

export class UsersStore {
  #db: UsersDb;
  #stamp: string;

  private constructor(readonly path: string, db: UsersDb, stamp: string, private readonly log: Logger) {
    this.#db = db;
    this.#stamp = stamp;
  }

  static async open(path: string, log: Logger): Promise<UsersStore> {
    const stamp = await UsersStore.#stampOf(path);
    return new UsersStore(path, await loadUsers(path), stamp, log);
  }

  static async #stampOf(path: string): Promise<string> {
    const s = await stat(path).catch(() => undefined);
    return s ? `${s.mtimeMs}:${s.size}:${s.ino}` : 'missing';
  }

  /** The current users, reloading first if the file changed. */
  async current(): Promise<UsersDb> {
    const stamp = await UsersStore.#stampOf(this.path);
    if (stamp !== this.#stamp) {
      try {
        this.#db = await loadUsers(this.path);
        this.#stamp = stamp;
        this.log.info({ users: this.#db.size }, 'users file reloaded');
      } catch (err) {
        this.log.error({ code: (err as { code?: string }).code, msg2: (err as Error).message }, 'users file invalid, keeping the last good copy');
        this.#stamp = stamp;
      }
    }
    return this.#db;
  }
}
