/** Reads a TOML config file; a missing or broken file is ERR_CONFIG naming it (and the line, if known). */
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { BurrowError } from '../errors.js';

export async function readToml(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BurrowError('ERR_CONFIG', `config file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    throw new BurrowError('ERR_CONFIG', `config file ${path}: not valid TOML${where}`);
  }
}
