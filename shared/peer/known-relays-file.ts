/** Where the known-relays file lives, and reading and writing it (atomically, mode 0600). */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BurrowError } from '../errors.js';
import { writeFileAtomic } from '../write-file-atomic.js';
import { parseKnownRelays, type KnownRelay } from './known-relays.js';

/** `$XDG_CONFIG_HOME/burrow/known_relays`, else `~/.config/burrow/known_relays`. */
export function defaultKnownRelaysPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'burrow', 'known_relays');
}

/** The file's text; a missing file is empty. */
export async function readKnownRelaysText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return '';
    throw new BurrowError('ERR_CONFIG', `known relays file ${path}: unreadable (${code ?? 'error'})`);
  }
}

export async function readKnownRelays(path: string): Promise<KnownRelay[]> {
  return parseKnownRelays(await readKnownRelaysText(path), path);
}

export async function writeKnownRelays(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, text, { mode: 0o600, overwrite: true });
  } catch (err) {
    throw new BurrowError('ERR_CONFIG', `known relays file ${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
