/**
 * One user of the relay as stored in the users file, and the checks on each of its fields.
 * Problems are returned as text (`key: what is wrong`) so the loader can name the file and the user.
 */
import { BurrowError } from '../../shared/errors.js';
import { isValidPattern } from './id-pattern.js';
import { grantProblem } from './publish-grant.js';

export type Role = 'client' | 'skeleton';
export const ROLES: readonly Role[] = ['client', 'skeleton'];

export interface UserRecord {
  /** PHC-format argon2id hash. */
  readonly hash: string;
  /** Non-empty, without duplicates. */
  readonly roles: readonly Role[];
  /** Patterns of server ids this account may advertise (skeleton role only). */
  readonly serve: readonly string[];
  /** Patterns of server ids this account may list and open (client role only). */
  readonly access: readonly string[];
  /** What this account may publish to the public (skeleton role only; see publish-grant.ts). */
  readonly publish?: readonly string[];
  readonly disabled: boolean;
  /** ISO date of creation, when known. */
  readonly created?: string;
  /**
   * The record's version: `burrow users` and the admin API bump it on every change (see `nextRevision`).
   * Files written before it existed load as 0. A relay cluster keeps the highest revision per name.
   */
  readonly revision?: number;
}

export const USER_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
export const ARGON2ID_HASH_RE = /^\$argon2id\$v=19\$m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;

export function isValidUserName(name: string): boolean {
  return USER_NAME_RE.test(name);
}

/** Throws ERR_USAGE for a name outside 1-64 of a-z A-Z 0-9 . _ - starting with a letter or digit. */
export function validateUserName(name: string): void {
  if (!isValidUserName(name)) {
    throw new BurrowError(
      'ERR_USAGE',
      `invalid user name ${JSON.stringify(name)}: use 1-64 of a-z A-Z 0-9 . _ -, starting with a letter or digit`,
    );
  }
}

/** `client`, `skeleton` or `both` (as given to `--role`). */
export function parseRoles(text: string): Role[] {
  switch (text.trim().toLowerCase()) {
    case 'client':
      return ['client'];
    case 'skeleton':
      return ['skeleton'];
    case 'both':
      return ['client', 'skeleton'];
    default:
      throw new BurrowError('ERR_USAGE', `invalid role ${JSON.stringify(text)}: use client, skeleton or both`);
  }
}

const KEYS = new Set(['hash', 'roles', 'serve', 'access', 'publish', 'disabled', 'created', 'revision']);

/** Checks a parsed JSON value; returns the record or the first problem as `key: what is wrong`. */
export function parseUserRecord(value: unknown): UserRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected an object';
  const raw = value as Record<string, unknown>;
  const unknown = Object.keys(raw).find((key) => !KEYS.has(key));
  if (unknown !== undefined) return `${unknown}: unknown key (allowed: ${[...KEYS].join(', ')})`;
  if (typeof raw.hash !== 'string' || !ARGON2ID_HASH_RE.test(raw.hash)) {
    return 'hash: expected an argon2id hash ($argon2id$v=19$...) as written by burrow users add';
  }
  const roles = parseRoleList(raw.roles);
  if (typeof roles === 'string') return `roles: ${roles}`;
  const serve = parsePatternList(raw.serve);
  if (typeof serve === 'string') return `serve: ${serve}`;
  const access = parsePatternList(raw.access);
  if (typeof access === 'string') return `access: ${access}`;
  if (serve.length > 0 && !roles.includes('skeleton')) return 'serve: only a skeleton account may serve ids';
  if (access.length > 0 && !roles.includes('client')) return 'access: only a client account may access ids';
  const publish = parseGrantList(raw.publish);
  if (typeof publish === 'string') return `publish: ${publish}`;
  if (publish.length > 0 && !roles.includes('skeleton')) return 'publish: only a skeleton account may publish';
  if (raw.disabled !== undefined && typeof raw.disabled !== 'boolean') return 'disabled: expected true or false';
  if (raw.created !== undefined && (typeof raw.created !== 'string' || Number.isNaN(Date.parse(raw.created)))) {
    return 'created: expected an ISO date';
  }
  if (raw.revision !== undefined && !(Number.isSafeInteger(raw.revision) && (raw.revision as number) >= 0)) {
    return 'revision: expected a whole number, 0 or more';
  }
  const record: UserRecord = { hash: raw.hash, roles, serve, access, ...(publish.length > 0 ? { publish } : {}), disabled: raw.disabled === true };
  return {
    ...record,
    ...(typeof raw.created === 'string' ? { created: raw.created } : {}),
    ...(typeof raw.revision === 'number' ? { revision: raw.revision } : {}),
  };
}

function parseRoleList(value: unknown): Role[] | string {
  if (!Array.isArray(value) || value.length === 0) return 'expected a non-empty list of "client" and/or "skeleton"';
  const roles: Role[] = [];
  for (const item of value) {
    if (item !== 'client' && item !== 'skeleton') return `unknown role ${JSON.stringify(item)} (allowed: client, skeleton)`;
    if (roles.includes(item)) return `role ${item} listed twice`;
    roles.push(item);
  }
  return roles;
}

function parsePatternList(value: unknown): string[] | string {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return 'expected a list of id patterns';
  for (const item of value) {
    if (typeof item !== 'string' || !isValidPattern(item)) {
      return `invalid pattern ${JSON.stringify(item)} (1-63 of a-z A-Z 0-9 . _ - and *)`;
    }
  }
  return value as string[];
}

function parseGrantList(value: unknown): string[] | string {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return 'expected a list of grants (tcp:PORT[-PORT], udp:PORT[-PORT] or host name patterns)';
  for (const item of value) {
    const problem = typeof item === 'string' ? grantProblem(item) : 'expected strings';
    if (problem) return problem;
  }
  return value as string[];
}

/** The revision of a record, 0 when it has none (files written before revisions existed). */
export function revisionOf(record: UserRecord | undefined): number {
  return record?.revision ?? 0;
}

/**
 * The revision a change gets: the time in ms, or one more than `previous` if that is later (a clock that
 * stepped back, or a newer record seen from another relay). Revisions only grow.
 */
export function nextRevision(previous: number, nowMs: number): number {
  return Math.max(Math.floor(nowMs), previous + 1);
}
