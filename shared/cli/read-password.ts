/**
 * Where a command gets a password, in order: `--password-file F`, `--password-stdin`, BURROW_PASSWORD,
 * else a prompt with echo off when stdin is a terminal. Never a flag value, so it stays out of `ps` and
 * shell history.
 */
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { BurrowError } from '../errors.js';
import { Redacted } from '../redacted.js';
import { requireBuiltin } from '../require-builtin.js';

export interface ReadPasswordOptions {
  passwordFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Read the password from stdin (`--password-stdin`). */
  stdin?: boolean | undefined;
  prompt: string;
  /** Ask twice on a terminal and require both answers to match. */
  confirm?: boolean | undefined;
  /** Defaults to process.stdin. */
  input?: (NodeJS.ReadableStream & { isTTY?: boolean }) | undefined;
  /** Where the prompt is written; defaults to process.stderr. */
  promptOutput?: NodeJS.WritableStream | undefined;
}

const MAX_STDIN_BYTES = 64 * 1024;

export async function readPassword(opts: ReadPasswordOptions): Promise<Redacted<string>> {
  const input = opts.input ?? process.stdin;
  if (opts.passwordFile !== undefined) return fromFile(opts.passwordFile);
  if (opts.stdin === true) return nonEmpty(firstLine(await readAll(input)), 'stdin (--password-stdin) gave an empty password');
  const fromEnv = opts.env.BURROW_PASSWORD;
  if (fromEnv !== undefined) return nonEmpty(fromEnv, 'BURROW_PASSWORD is empty');
  if (input.isTTY === true) return fromTerminal(opts, input, opts.promptOutput ?? process.stderr);
  throw new BurrowError('ERR_USAGE', 'no password: use --password-file, --password-stdin or BURROW_PASSWORD');
}

async function fromFile(path: string): Promise<Redacted<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT'
      ? "not found; create it with the account's password (as given to burrow users add on the relay) on its first line, readable only by you (chmod 600)"
      : `unreadable (${code ?? 'error'})`;
    throw new BurrowError('ERR_CONFIG', `password file ${path}: ${problem}`);
  }
  const password = firstLine(text);
  if (password === '') throw new BurrowError('ERR_CONFIG', `password file ${path}: first line is empty`);
  return new Redacted(password);
}

async function fromTerminal(
  opts: ReadPasswordOptions,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<Redacted<string>> {
  const first = await promptHidden(opts.prompt, input, output);
  if (first === '') throw new BurrowError('ERR_USAGE', 'empty password');
  if (opts.confirm === true) {
    const second = await promptHidden('again: ', input, output);
    if (second !== first) throw new BurrowError('ERR_USAGE', 'the two passwords differ');
  }
  return new Redacted(first);
}

/** One line from a terminal with echo off: readline writes its echo to a sink, the prompt goes to `output`. */
async function promptHidden(prompt: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<string> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const { createInterface } = requireBuiltin<typeof import('node:readline')>('node:readline');
  const rl = createInterface({ input, output: sink, terminal: true });
  output.write(prompt);
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('SIGINT', () => reject(new BurrowError('ERR_USAGE', 'password prompt cancelled')));
      rl.once('close', () => reject(new BurrowError('ERR_USAGE', 'no password entered')));
    });
  } finally {
    rl.close();
    output.write('\n');
  }
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_STDIN_BYTES) throw new BurrowError('ERR_USAGE', `--password-stdin: more than ${MAX_STDIN_BYTES} bytes on stdin`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The text up to the first line break (LF or CRLF). */
function firstLine(text: string): string {
  const end = text.search(/\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}

function nonEmpty(password: string, problem: string): Redacted<string> {
  if (password === '') throw new BurrowError('ERR_USAGE', problem);
  return new Redacted(password);
}
