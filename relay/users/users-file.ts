/**
 * The users file: `{ "version": 1, "users": { "<name>": UserRecord } }`, JSON, mode 0600, written atomically.
 * Loading validates every field and refuses unknown keys, naming the file, the user and the key.
 */
import { readFile } from 'node:fs/promises';
import { BurrowError } from '../../shared/errors.js';
import { writeFileAtomic } from '../../shared/write-file-atomic.js';
import { isValidUserName, parseUserRecord, type UserRecord } from './user-record.js';

export { nextRevision, parseRoles, revisionOf, validateUserName, type Role, type UserRecord } from './user-record.js';

export const USERS_FILE_VERSION = 1;

/** The users by name. Lookups are exact-case; `conflictingName` catches near-duplicates such as Alice/alice. */
export class UsersDb {
  readonly #users = new Map<string, UserRecord>();

  constructor(entries: Iterable<readonly [string, UserRecord]> = []) {
    for (const [name, record] of entries) this.#users.set(name, record);
  }

  get size(): number {
    return this.#users.size;
  }

  get(name: string): UserRecord | undefined {
    return this.#users.get(name);
  }

  has(name: string): boolean {
    return this.#users.has(name);
  }

  /** Names in sorted order. */
  names(): string[] {
    return [...this.#users.keys()].sort();
  }

  set(name: string, record: UserRecord): void {
    this.#users.set(name, record);
  }

  delete(name: string): boolean {
    return this.#users.delete(name);
  }

  /** An existing name equal to `name` ignoring case, if any. */
  conflictingName(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.names().find((existing) => existing.toLowerCase() === lower);
  }

  /** The file's JSON shape, users sorted by name and keys in a fixed order. */
  toJSON(): { version: number; users: Record<string, UserRecord> } {
    const users: Record<string, UserRecord> = {};
    for (const name of this.names()) {
      const r = this.#users.get(name) as UserRecord;
      const record = { hash: r.hash, roles: r.roles, serve: r.serve, access: r.access, ...(r.publish ? { publish: r.publish } : {}), disabled: r.disabled };
      users[name] = { ...record, ...(r.created !== undefined ? { created: r.created } : {}), ...(r.revision !== undefined ? { revision: r.revision } : {}) };
    }
    return { version: USERS_FILE_VERSION, users };
  }
}

/**
 * Reads and validates the users file. A missing file is ERR_CONFIG unless `createIfMissing`, which returns
 * an empty database (what `burrow users add` starts from).
 */
export async function loadUsers(path: string, opts: { createIfMissing?: boolean } = {}): Promise<UsersDb> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.createIfMissing === true) return new UsersDb();
    const problem = code === 'ENOENT' ? 'not found; create it with burrow users add NAME --role ROLE --users ' + path : `unreadable (${code ?? 'error'})`;
    throw new BurrowError('ERR_CONFIG', `users file ${path}: ${problem}`);
  }
  return parseUsersFile(path, text);
}

/** Validates the text of a users file; `path` only names it in errors. */
export function parseUsersFile(path: string, text: string): UsersDb {
  const fail = (detail: string): BurrowError => new BurrowError('ERR_CONFIG', `users file ${path}: ${detail}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error; keep file content out of messages.
    throw fail('not valid JSON');
  }
  if (!isObject(value)) throw fail('expected a JSON object with version and users');
  const unknown = Object.keys(value).find((key) => key !== 'version' && key !== 'users');
  if (unknown !== undefined) throw fail(`${unknown}: unknown key (allowed: version, users)`);
  if (value.version !== USERS_FILE_VERSION) throw fail(`version: expected ${USERS_FILE_VERSION}`);
  if (!isObject(value.users)) throw fail('users: expected an object keyed by user name');
  const db = new UsersDb();
  for (const [name, raw] of Object.entries(value.users)) {
    if (!isValidUserName(name)) throw fail(`users.${JSON.stringify(name)}: invalid user name`);
    const record = parseUserRecord(raw);
    if (typeof record === 'string') throw fail(`user ${name}: ${record}`);
    db.set(name, record);
  }
  return db;
}

/** Writes the file atomically with mode 0600: `path.tmp-<random>`, fsync, rename. */
export async function saveUsers(path: string, db: UsersDb): Promise<void> {
  try {
    await writeFileAtomic(path, JSON.stringify(db.toJSON(), null, 2) + '\n', { mode: 0o600, overwrite: true });
  } catch (err) {
    throw new BurrowError('ERR_CONFIG', `users file ${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
