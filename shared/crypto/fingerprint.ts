/**
 * The relay's fingerprint: `SHA256:` + base64url of the RFC 7638 JWK thumbprint (SHA-256) of its Ed25519
 * public key. Peers pin it; comparing it is constant-time so a mismatch leaks nothing about where it differs.
 */
import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { BurrowError } from '../errors.js';

export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

export const FINGERPRINT_PREFIX = 'SHA256:';
/** 32 bytes of SHA-256 are 43 base64url characters without padding. */
export const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9_-]{43}$/;

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, no whitespace. */
export function fingerprintOf(publicJwk: Ed25519PublicJwk): string {
  const canonical = JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x });
  return FINGERPRINT_PREFIX + createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

/** The fingerprint of an Ed25519 public (or private) KeyObject. */
export function fingerprintOfKey(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new BurrowError('ERR_CONFIG', `expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  }
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new BurrowError('ERR_INTERNAL', 'Ed25519 key exported without x');
  return fingerprintOf({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
}

/**
 * Constant-time comparison of two fingerprints in their exact `SHA256:...` form (surrounding whitespace is
 * ignored). Different lengths are simply unequal.
 */
export function fingerprintMatches(expected: string, actual: string): boolean {
  const a = Buffer.from(expected.trim(), 'utf8');
  const b = Buffer.from(actual.trim(), 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/**
 * Validates a fingerprint given by a user (flag, env or config file) and returns it trimmed.
 * `source` names where it came from, e.g. `--fingerprint` or `skeleton.toml: fingerprint`.
 */
export function parseFingerprint(
  text: string,
  opts: { code?: 'ERR_USAGE' | 'ERR_CONFIG'; source?: string } = {},
): string {
  const value = text.trim();
  if (FINGERPRINT_RE.test(value)) return value;
  const source = opts.source ?? 'fingerprint';
  throw new BurrowError(opts.code ?? 'ERR_USAGE', `${source}: ${problemWith(value)}`);
}

/** What is wrong with a user-given fingerprint and what is expected, or undefined if it is well-formed. */
export function fingerprintProblem(text: string): string | undefined {
  const value = text.trim();
  return FINGERPRINT_RE.test(value) ? undefined : problemWith(value);
}

function problemWith(value: string): string {
  const expected = 'expected SHA256: followed by 43 base64url characters, as printed by `burrow keys fingerprint`';
  if (value === '') return `empty; ${expected}`;
  if (!value.startsWith(FINGERPRINT_PREFIX)) return `missing the SHA256: prefix; ${expected}`;
  const body = value.slice(FINGERPRINT_PREFIX.length);
  if (/[+/=]/.test(body)) return `looks like standard base64 (+, / or =); ${expected}`;
  return `${body.length} characters after the prefix; ${expected}`;
}
