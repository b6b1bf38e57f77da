/**
 * A server's pre-shared secret on disk: 32 random bytes as 43 base64url characters (what
 * `burrow secret generate` prints). Errors name the file but never show its content.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BurrowError } from '../errors.js';
import { Redacted } from '../redacted.js';

export const SECRET_BYTES = 32;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

/** A fresh secret in its text form. */
export function generateSecret(): Redacted<string> {
  return new Redacted(randomBytes(SECRET_BYTES).toString('base64url'));
}

/** Parses the text form; returns undefined when it is not exactly 32 bytes of base64url. */
export function decodeSecret(text: string): Redacted<Buffer> | undefined {
  const trimmed = text.trim();
  if (!SECRET_RE.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed, 'base64url');
  return bytes.length === SECRET_BYTES ? new Redacted(bytes) : undefined;
}

/**
 * The skeleton host makes a server's secret (`server`); a client must use a copy of that file (`client`):
 * a secret it generated itself would never match, so a missing file there says where to get it.
 */
export async function readSecretFile(path: string, side: 'server' | 'client' = 'server'): Promise<Redacted<Buffer>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const create = side === 'server'
      ? `create it with burrow secret generate --out ${path}, then copy it to the server's clients`
      : "copy it from the skeleton host (the file named by secret-file= in that server's --server): it must be the server's own secret, a newly generated one would not match";
    const problem = code === 'ENOENT' ? `not found; ${create}` : `unreadable (${code ?? 'error'})`;
    throw new BurrowError('ERR_CONFIG', `secret file ${path}: ${problem}`);
  }
  const secret = decodeSecret(text);
  if (secret === undefined) {
    throw new BurrowError(
      'ERR_CONFIG',
      `secret file ${path}: expected 32 bytes as 43 base64url characters (as written by burrow secret generate), got ${text.trim().length} characters`,
    );
  }
  return secret;
}
