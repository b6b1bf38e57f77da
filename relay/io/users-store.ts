/**
 * The users file as the relay sees it. Reloaded when it changes on disk (watched, and checked again at
 * each login) or on reload() (SIGHUP), so `burrow users add|passwd|disable|remove` take effect without
 * a restart. A file that turns bad while running keeps the last good copy and logs why.
 */
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { codeOf } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { watchFile } from '../../shared/watch-file.js';
import { loadUsers, type UsersDb } from '../users/users-file.js';

export class UsersStore {
  #db: UsersDb;
  #stamp: string;
  #watcher: FSWatcher | undefined;
  #onChange: ((db: UsersDb) => void) | undefined;

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

  /** Calls `onChange` after every successful reload, and reloads when the file changes on disk. */
  watch(onChange: (db: UsersDb) => void): void {
    this.#onChange = onChange;
    this.#watcher = watchFile(this.path, () => void this.current());
    if (!this.#watcher) this.log.warn('cannot watch the users file; reload with SIGHUP');
  }

  close(): void {
    this.#watcher?.close();
  }

  /** Reloads now, whatever the file's stamp says. */
  reload(): Promise<UsersDb> {
    this.#stamp = '';
    return this.current();
  }

  /** The current users, reloading first if the file changed. */
  async current(): Promise<UsersDb> {
    const stamp = await UsersStore.#stampOf(this.path);
    if (stamp === this.#stamp) return this.#db;
    this.#stamp = stamp;
    try {
      this.#db = await loadUsers(this.path);
      this.log.info({ users: this.#db.size }, 'users file reloaded');
      this.#onChange?.(this.#db);
    } catch (err) {
      this.log.error({ code: codeOf(err), detail: (err as Error).message }, 'users file invalid, keeping the last good copy');
    }
    return this.#db;
  }
}
