/**
 * The admin bearer token: read from a file (first line, trimmed), kept only as its SHA-256 digest,
 * and compared with timingSafeEqual on digests so neither its content nor its length leaks by timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { BurrowError } from '../../shared/errors.js';

/** Shorter tokens are refused: they could be guessed. `burrow secret generate` makes a 43-character one. */
export const MIN_TOKEN_LENGTH = 16;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class AdminToken {
  readonly #digest: Buffer;

  constructor(token: string) {
    if (token.length < MIN_TOKEN_LENGTH) throw new BurrowError('ERR_CONFIG', `--admin-token-file: the token must be at least ${MIN_TOKEN_LENGTH} characters`);
    this.#digest = digest(token);
  }

  /** Whether an `Authorization` header carries this token as `Bearer <token>`. */
  allows(header: string | undefined): boolean {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
    // Compare a digest even when the header is missing, so both paths cost the same.
    return timingSafeEqual(digest(m?.[1] ?? ''), this.#digest) && m !== null;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }
}

/** Reads the token file; warns (through `warn`) when others may read it. Errors name the option, never the content. */
export async function readAdminToken(path: string, warn: (message: string) => void = () => undefined): Promise<AdminToken> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BurrowError('ERR_CONFIG', `--admin-token-file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  if (token === '') throw new BurrowError('ERR_CONFIG', `--admin-token-file ${path}: empty`);
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) warn(`${path} is readable by group or others; run chmod 600 ${path}`);
  return new AdminToken(token);
}
