/**
 * The accounts a cluster relay acts on: for every name, the newest record it has seen, from its own users
 * file or from the cluster. Newest = highest revision; at equal revisions a removal beats a disabled
 * account, which beats an enabled one, and then the greater canonical (signed) text wins: every relay
 * picks the same one. A name never goes back to an older
 * revision than one seen here: a replayed old record is ignored. No sockets, no clock, no Redis.
 */
import { nextRevision, revisionOf, type UserRecord } from '../users/user-record.js';
import { UsersDb } from '../users/users-file.js';
import { canonicalUser, type SharedUser } from './signed-user.js';

interface Entry {
  user: SharedUser;
  canonical: string;
}

/** At equal revisions the safer record wins: a removal, then a disabled account, then any other. */
function caution(user: SharedUser): number {
  return !user.record ? 2 : user.record.disabled ? 1 : 0;
}

/** Positive when `a` is newer than `b`; the same answer on every relay. */
function compare(a: Entry, b: Entry): number {
  if (a.user.revision !== b.user.revision) return a.user.revision - b.user.revision;
  if (caution(a.user) !== caution(b.user)) return caution(a.user) - caution(b.user);
  return a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0;
}

function entryOf(user: SharedUser): Entry {
  return { user, canonical: canonicalUser(user) };
}

export function fileUser(name: string, record: UserRecord): SharedUser {
  return { name, revision: revisionOf(record), record };
}

export class UserBook {
  readonly #newest = new Map<string, Entry>();
  #view: UsersDb | undefined;

  /** Takes `user` if it is newer than anything seen for its name; true if it did. */
  offer(user: SharedUser): boolean {
    const candidate = entryOf(user);
    const seen = this.#newest.get(user.name);
    if (seen && compare(candidate, seen) <= 0) return false;
    this.#newest.set(user.name, candidate);
    this.#view = undefined;
    return true;
  }

  newest(name: string): SharedUser | undefined {
    return this.#newest.get(name)?.user;
  }

  /** Every name with a record or a tombstone. */
  names(): string[] {
    return [...this.#newest.keys()].sort();
  }

  /** True if `user` is exactly the newest record known for its name. */
  isNewest(user: SharedUser): boolean {
    return this.#newest.get(user.name)?.canonical === canonicalUser(user);
  }

  /** A tombstone newer than everything seen for `name`. */
  tombstone(name: string, nowMs: number): SharedUser {
    return { name, revision: nextRevision(this.#newest.get(name)?.user.revision ?? 0, nowMs) };
  }

  /** The live accounts (tombstones left out), as logins see them. */
  view(): UsersDb {
    this.#view ??= new UsersDb([...this.#newest.values()].flatMap(({ user }) => (user.record ? [[user.name, user.record] as const] : [])));
    return this.#view;
  }
}
