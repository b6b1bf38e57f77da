/**
 * The relay identity on disk: an Ed25519 key pair as JWK files in one directory,
 * `relay.key.jwk` (private, mode 0600) and `relay.pub.jwk` (public).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BurrowError } from '../errors.js';
import { writeFileAtomic } from '../write-file-atomic.js';
import { fingerprintOf, type Ed25519PublicJwk } from './fingerprint.js';

export const PRIVATE_KEY_FILE = 'relay.key.jwk';
export const PUBLIC_KEY_FILE = 'relay.pub.jwk';

export interface RelayPublicKey {
  publicKey: KeyObject;
  publicJwk: Ed25519PublicJwk;
  fingerprint: string;
}

export interface RelayIdentity extends RelayPublicKey {
  privateKey: KeyObject;
  /** Problems worth a warning that do not stop the relay, e.g. a private key file readable by others. */
  warnings: string[];
}

export function relayKeyPaths(dir: string): { privatePath: string; publicPath: string } {
  return { privatePath: join(dir, PRIVATE_KEY_FILE), publicPath: join(dir, PUBLIC_KEY_FILE) };
}

/** Creates a fresh identity in `dir` (made 0700 if missing); refuses to replace existing files unless `force`. */
export async function generateRelayKeys(dir: string, opts: { force?: boolean } = {}): Promise<RelayIdentity> {
  const { privatePath, publicPath } = relayKeyPaths(dir);
  const force = opts.force === true;
  if (!force) {
    for (const path of [privatePath, publicPath]) {
      if (await exists(path)) throw new BurrowError('ERR_CONFIG', `${path} already exists; use --force to replace the relay identity`);
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateJwk = privateKey.export({ format: 'jwk' });
  const publicJwk = toPublicJwk(publicKey);
  try {
    await writeFileAtomic(privatePath, JSON.stringify(privateJwk) + '\n', { mode: 0o600, overwrite: force });
    await writeFileAtomic(publicPath, JSON.stringify(publicJwk) + '\n', { mode: 0o644, overwrite: force });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BurrowError('ERR_CONFIG', `a key file appeared in ${dir} while generating; use --force to replace it`);
    }
    throw err;
  }
  return { privateKey, publicKey, publicJwk, fingerprint: fingerprintOf(publicJwk), warnings: [] };
}

/** Loads both files, checks they are Ed25519 and belong together, and reports a too-open private file. */
export async function loadRelayKeys(dir: string): Promise<RelayIdentity> {
  const { privatePath, publicPath } = relayKeyPaths(dir);
  const privateKey = toKeyObject(privatePath, await readJwk(privatePath), 'private');
  const pub = await loadRelayPublicKey(dir);
  if (toPublicJwk(createPublicKey(privateKey)).x !== pub.publicJwk.x) {
    throw new BurrowError('ERR_CONFIG', `${publicPath} does not match ${privatePath}; regenerate with burrow keys generate --force`);
  }
  return { ...pub, privateKey, warnings: await modeWarnings(privatePath) };
}

/** Loads only `relay.pub.jwk`: what `burrow keys fingerprint` and anything serving the public key need. */
export async function loadRelayPublicKey(dir: string): Promise<RelayPublicKey> {
  const { publicPath } = relayKeyPaths(dir);
  const jwk = await readJwk(publicPath);
  if ('d' in jwk) {
    throw new BurrowError('ERR_CONFIG', `${publicPath} contains a private key (member d); it must hold only the public key`);
  }
  const publicKey = toKeyObject(publicPath, jwk, 'public');
  const publicJwk = toPublicJwk(publicKey);
  return { publicKey, publicJwk, fingerprint: fingerprintOf(publicJwk) };
}

async function readJwk(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Usually the relay's keys are elsewhere: a new identity would make every peer re-pin, so say that last.
    const hint = code === 'ENOENT'
      ? `not found; name the directory that holds the relay's keys (burrow relay --keys DIR, burrow keys --dir DIR, or BURROW_KEYS), or, for a new relay, create its identity with burrow keys generate --dir ${dirname(path)}`
      : `unreadable (${code ?? 'error'})`;
    throw new BurrowError('ERR_CONFIG', `${path}: ${hint}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the file's text, which may be a private key: never pass it on.
    throw new BurrowError('ERR_CONFIG', `${path}: not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BurrowError('ERR_CONFIG', `${path}: expected a JSON object (a JWK)`);
  }
  return value as Record<string, unknown>;
}

function toKeyObject(path: string, jwk: Record<string, unknown>, kind: 'private' | 'public'): KeyObject {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new BurrowError('ERR_CONFIG', `${path}: expected an Ed25519 JWK (kty OKP, crv Ed25519)`);
  }
  const members = kind === 'private' ? ['x', 'd'] : ['x'];
  for (const member of members) {
    if (typeof jwk[member] !== 'string') throw new BurrowError('ERR_CONFIG', `${path}: JWK member ${member} is missing`);
  }
  const key = { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string, ...(kind === 'private' ? { d: jwk.d as string } : {}) };
  try {
    return kind === 'private' ? createPrivateKey({ key, format: 'jwk' }) : createPublicKey({ key, format: 'jwk' });
  } catch {
    throw new BurrowError('ERR_CONFIG', `${path}: not a valid Ed25519 ${kind} key`);
  }
}

function toPublicJwk(publicKey: KeyObject): Ed25519PublicJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new BurrowError('ERR_INTERNAL', 'Ed25519 key exported without x');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
}

async function modeWarnings(privatePath: string): Promise<string[]> {
  if (process.platform === 'win32') return [];
  const { mode } = await stat(privatePath);
  if ((mode & 0o077) === 0) return [];
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  return [`${privatePath} is readable by group or others (mode ${octal}); run chmod 600 ${privatePath}`];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
