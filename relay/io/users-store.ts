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

/**
 * What a relay cluster lays over the file: every file load is handed to it, and logins see its view
 * (the file's records merged with the cluster's). A single relay has none and sees the file as is.
 */
export interface UsersOverlay {
  fileChanged(file: UsersDb, previous: UsersDb | undefined): void;
  view(): UsersDb;
}

export class UsersStore {
  #db: UsersDb;
  #stamp: string;
  #watcher: FSWatcher | undefined;
  #onChange: ((db: UsersDb) => void) | undefined;
  #overlay: UsersOverlay | undefined;

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

  /** Cluster mode: from now on the file feeds `overlay`, and `current()` answers with its view. */
  setOverlay(overlay: UsersOverlay): void {
    this.#overlay = overlay;
    overlay.fileChanged(this.#db, undefined);
  }

  /** The overlay's view changed without the file changing: tell the `watch` listener. */
  overlayChanged(): void {
    if (this.#overlay) this.#onChange?.(this.#overlay.view());
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

  /** The current users (the overlay's view in a cluster), reloading the file first if it changed. */
  async current(): Promise<UsersDb> {
    const stamp = await UsersStore.#stampOf(this.path);
    if (stamp !== this.#stamp) {
      this.#stamp = stamp;
      try {
        const previous = this.#db;
        this.#db = await loadUsers(this.path);
        this.log.info({ users: this.#db.size }, 'users file reloaded');
        this.#overlay?.fileChanged(this.#db, previous);
        this.#onChange?.(this.#view());
      } catch (err) {
        this.log.error({ code: codeOf(err), detail: (err as Error).message }, 'users file invalid, keeping the last good copy');
      }
    }
    return this.#view();
  }

  #view(): UsersDb {
    return this.#overlay ? this.#overlay.view() : this.#db;
  }
}
