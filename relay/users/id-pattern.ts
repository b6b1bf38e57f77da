/**
 * Server ids and the patterns in a user's `serve` and `access` lists. A pattern is an id that may contain
 * `*`, which matches any run of id characters (possibly empty). Matching is case-sensitive and done by hand:
 * no regular expression is ever built from user text.
 */
import { BurrowError } from '../../shared/errors.js';
import { SERVER_ID_PATTERN } from '../../shared/protocol/parse.js';

/** The wire protocol's id rule: one definition, shared with message validation. */
export const SERVER_ID_RE = SERVER_ID_PATTERN;
/** Id characters plus `*`; the first character must be able to start an id (or be `*`). */
export const PATTERN_RE = /^[a-z0-9*][a-z0-9._*-]{0,62}$/i;

export function isValidServerId(id: string): boolean {
  return SERVER_ID_RE.test(id);
}

export function isValidPattern(pattern: string): boolean {
  return PATTERN_RE.test(pattern);
}

/** Throws ERR_USAGE for a pattern that is not an id with optional `*` wildcards. */
export function validatePattern(pattern: string): void {
  if (!isValidPattern(pattern)) {
    throw new BurrowError(
      'ERR_USAGE',
      `invalid pattern ${JSON.stringify(pattern)}: use 1-63 of a-z A-Z 0-9 . _ - and * (any run of id characters), starting with a letter, digit or *`,
    );
  }
}

/** True when `id` is a valid server id matched by at least one valid pattern. */
export function matchesAny(patterns: readonly string[], id: string): boolean {
  if (!isValidServerId(id)) return false;
  return patterns.some((pattern) => isValidPattern(pattern) && matchesPattern(pattern, id));
}

/**
 * Glob match with `*` as the only wildcard: greedy scan that backtracks only to the last star,
 * O(pattern * id) at worst and without recursion.
 */
export function matchesPattern(pattern: string, id: string): boolean {
  let p = 0;
  let i = 0;
  let star = -1;
  let resume = 0;
  while (i < id.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = i;
    } else if (p < pattern.length && pattern[p] === id[i]) {
      p++;
      i++;
    } else if (star >= 0) {
      p = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
