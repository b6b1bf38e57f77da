/**
 * What `burrow users list` shows: every field but the hash, as JSON rows or an aligned text table.
 */
import type { Role } from './user-record.js';
import type { UsersDb } from './users-file.js';

export interface UserListing {
  name: string;
  roles: Role[];
  serve: string[];
  access: string[];
  publish: string[];
  disabled: boolean;
  created: string | null;
}

export function usersForListing(db: UsersDb): UserListing[] {
  return db.names().flatMap((name) => {
    const r = db.get(name);
    if (r === undefined) return [];
    return [{ name, roles: [...r.roles], serve: [...r.serve], access: [...r.access], publish: [...(r.publish ?? [])], disabled: r.disabled, created: r.created ?? null }];
  });
}

const HEADER = ['NAME', 'ROLES', 'SERVE', 'ACCESS', 'PUBLISH', 'DISABLED'];

/** A header and one line per user, columns padded to the widest cell. */
export function formatUsersTable(rows: readonly UserListing[]): string[] {
  const list = (items: readonly string[]): string => (items.length === 0 ? '-' : items.join(','));
  const cells = [HEADER, ...rows.map((u) => [u.name, list(u.roles), list(u.serve), list(u.access), list(u.publish), u.disabled ? 'yes' : 'no'])];
  const widths = HEADER.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells.map((row) => row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd());
}
